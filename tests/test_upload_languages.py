"""What a background upload writes (its failure message, each line's reason, the report) is
worded in the language of the member who uploaded the file; schema problems in the partner API
follow the request's language. Codes and outcomes stay the same in every language."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from django.test import Client
from django.utils import translation

from factories import World, imei, make_member, make_partner, register
from oneforone.accounts import actions as account_actions
from oneforone.accounts.models import Role, User
from oneforone.partners import upload_actions
from oneforone.partners.imports import parse_registrations_csv
from oneforone.partners.models import Upload, UploadMode, UploadStatus

APOSTROPHE = "\u2019"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


def speaking(user: User, language: str) -> User:
    return account_actions.set_language(actor=user, language=language)


def bad_check_digit(n: int) -> str:
    good = imei(n)
    return f"{good[:-1]}{(int(good[-1]) + 1) % 10}"


def device_file(first: int) -> bytes:
    """Four device lines of one reference; line 3 has a wrong check digit."""
    lines = ["reference,category,imei"]
    lines += [f"DEV-{first},phone,{imei(first + n)}" for n in range(4)]
    lines[2] = f"DEV-{first},phone,{bad_check_digit(first + 1)}"
    return ("\n".join(lines) + "\n").encode()


def run(user: User, partner, data: bytes, mode: str) -> Upload:  # type: ignore[no-untyped-def]
    created = upload_actions.create_upload(
        actor=user, partner=partner, file=io.BytesIO(data), name="devices.csv", mode=mode
    )
    # The worker has no request: whatever language the caller has active must not matter.
    with translation.override("en"):
        upload_actions.run_upload(created.pk)
    created.refresh_from_db()
    return created


def report(upload: Upload) -> dict[str, list[str]]:
    with upload.report.open("rb") as f:
        rows = list(csv.reader(io.StringIO(f.read().decode())))
    assert rows[0] == ["line", "reference", "outcome", "reason"]
    return {row[0]: row[2:] for row in rows[1:]}


def test_a_dutch_members_rejected_upload_is_reported_in_dutch(world: World) -> None:
    member = speaking(world.partner_admin, "nl")

    done = run(member, world.partner, device_file(1000), UploadMode.ALL_OR_NOTHING)

    assert done.status == UploadStatus.REJECTED
    assert done.failure == (
        "1 van 4 regels is fout; er is niets vastgelegd: verbeter hem (zie het rapport) en "
        "upload het bestand opnieuw"
    )
    lines = report(done)
    assert lines["3"] == [
        "rejected",
        "imei: IMEI: het controlecijfer (het laatste cijfer) klopt niet met de andere 14: "
        "een tikfout?",
    ]
    assert lines["2"] == [
        "rejected",
        "niet vastgelegd: andere regels van het bestand zijn fout en de upload is alles of niets",
    ]


def test_an_english_members_upload_of_the_same_file_is_reported_in_english(
    world: World,
) -> None:
    member = speaking(world.partner_admin, "en")

    done = run(member, world.partner, device_file(2000), UploadMode.ALL_OR_NOTHING)

    assert done.failure.startswith("1 of 4 lines is wrong; nothing was recorded")
    assert report(done)["3"] == [
        "rejected",
        "imei: IMEI: the check digit (the last digit) does not match the other 14: a typing error?",
    ]


def test_a_french_members_conflicts_are_explained_in_french(world: World) -> None:
    other, other_admin = make_partner()
    register(world, partner=other, actor=other_admin, imeis=[imei(3001)])
    member = speaking(make_member(world.partner, role=Role.MEMBER), "fr")
    data = f"reference,category,imei\nFR-1,phone,{imei(3000)}\nFR-1,phone,{imei(3001)}\n"

    done = run(member, world.partner, data.encode(), UploadMode.ACCEPT_VALID)

    assert done.status == UploadStatus.DONE
    lines = report(done)
    assert lines["2"] == ["accepted", ""]
    assert lines["3"] == [
        "conflict",
        f"déjà enregistré pour compensation (par vous ou un autre partenaire) : enregistré mais "
        f"retenu pour examen par l{APOSTROPHE}opérateur, pas dû deux fois",
    ]


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "line 2: quantity '0': Input should be greater than or equal to 1"),
        ("nl", "regel 2: quantity '0': De invoer moet groter dan of gelijk aan 1 zijn"),
        ("fr", "ligne 2 : quantity '0': La valeur doit être supérieure ou égale à 1"),
    ],
)
def test_a_schema_problem_in_a_file_is_worded_in_the_active_language(
    language: str, expected: str
) -> None:
    with translation.override(language):
        parsed = parse_registrations_csv(
            b"reference,category,quantity\nQ-1,phone,0\n", max_bytes=10_000, max_rows=10
        )
        problems = [str(error) for error in parsed.errors]

    assert problems == [expected]


def test_the_api_words_schema_problems_in_the_requests_language(world: World) -> None:
    _, key = account_actions.create_api_key(
        actor=world.partner_admin, organisation=world.partner, name="ERP", scope="write"
    )
    body = {"registrations": [{"reference": "B2", "category": "phone", "quantity": 0}]}

    def problem(language: str) -> dict[str, object]:
        response = Client().post(
            "/api/v1/registrations/batch",
            data=json.dumps(body),
            content_type="application/json",
            headers={"X-API-Key": key, "Accept-Language": language},
        )
        assert response.status_code == 422
        [item] = response.json()["errors"]
        return item

    english, french = problem("en"), problem("fr")

    assert english["code"] == french["code"] == "greater_than_equal"
    assert english["message"] == "Input should be greater than or equal to 1"
    assert french["message"] == "La valeur doit être supérieure ou égale à 1"
