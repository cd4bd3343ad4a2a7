"""examples/register_and_certify.py works against a live server: it registers devices once,
finds the certificate once allocated, and downloads the PDF."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from factories import World, imei, issue
from oneforone.accounts import actions as account_actions
from oneforone.partners.models import Registration
from oneforone.registry import actions as registry_actions

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "register_and_certify.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("register_and_certify", EXAMPLE)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_example_client_registers_and_downloads_the_certificate(
    live_server, transactional_db: None, world: World, tmp_path: Path, monkeypatch, capsys
) -> None:
    example = load_example()
    _, api_key = account_actions.create_api_key(
        actor=world.partner_admin, organisation=world.partner, name="example"
    )
    monkeypatch.setenv("ONEFORONE_API_KEY", api_key)

    code = example.main(
        ["--base-url", live_server.url, "--reference", "EX-1", "--imei", imei(1), "--imei", imei(2)]
    )

    assert code == 0
    assert "not compensated yet" in capsys.readouterr().out
    registration = Registration.objects.get(reference="EX-1")
    assert registration.units_owed == 2

    issue(world, 2)
    registry_actions.allocate(actor=world.operator_user)
    client = example.Client(live_server.url, api_key)
    certificate = example.wait_for_certificate(client, registration.pk, timeout=0)
    out = tmp_path / "certificate.pdf"
    size = example.download_certificate(client, certificate, str(out))
    assert out.read_bytes().startswith(b"%PDF")
    assert size == out.stat().st_size

    with pytest.raises(example.ApiError, match="reference_taken"):
        example.register(client, {"reference": "EX-1", "category": "phone", "quantity": 1})
