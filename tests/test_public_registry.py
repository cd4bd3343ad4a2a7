"""The public registry: certificate verification with ledger proofs, batches, units, ledger roots,
the public API and the standalone verifier; what is public and what is not."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

import factories
from factories import World
from oneforone.core.ledger import (
    canonical_json,
    entry_hash,
    merkle_root,
    root_from_proof,
    sha256_hex,
)
from oneforone.partners.models import Registration
from oneforone.registry import actions, ledger, serials
from oneforone.registry.models import Certificate, IssuanceBatch, LedgerRoot

VERIFIER = Path(__file__).resolve().parent.parent / "docs" / "verify_certificate.py"


def _certified(world: World, quantity: int = 5) -> tuple[Registration, IssuanceBatch, Certificate]:
    registration = factories.register(world, quantity=quantity)
    batch = factories.issue(world, quantity)
    actions.allocate(actor=world.operator_user)
    return registration, batch, Certificate.objects.get(registration=registration)


def _publish_roots() -> list[LedgerRoot]:
    """Seal today's ledger entries under a root, as `publish_ledger_roots` does the next night.

    Built here from `ledger.day_entries` rather than by the action: on this branch the action
    lists a day once per entry (DISTINCT over the default ordering), fixed on another branch."""
    today = timezone.now().astimezone(dt.UTC).date()
    entries = ledger.day_entries(today)
    return [
        LedgerRoot.objects.create(
            day=today,
            entries=len(entries),
            first_entry=entries[0][0],
            last_entry=entries[-1][0],
            root=merkle_root([h for _, h in entries]),
            published_at=timezone.now(),
        )
    ]


def _cancel_first_two(world: World, batch: IssuanceBatch) -> actions.CancellationResult:
    return actions.cancel_units(
        actor=world.operator_user,
        batch=batch,
        first=batch.units.lower,
        last=batch.units.lower + 1,
        reason="fraud",
        explanation="two phones were counted twice at the hub",
    )


def _serial(batch: IssuanceBatch, number: int) -> str:
    return serials.format_serial(batch.origin_country, batch.vintage_year, number)


@pytest.fixture
def client() -> Client:
    return Client(REMOTE_ADDR="198.51.100.20")


# --- the certificate page and its JSON ------------------------------------------------------


def test_the_certificate_page_shows_version_blocks_qr_and_when_it_will_be_sealed(
    world: World, client: Client
) -> None:
    _, _batch, certificate = _certified(world)
    page = client.get(reverse("verify", args=[certificate.code]))
    body = page.content.decode()

    assert page.status_code == 200
    assert "<dt>Version</dt><dd>1</dd>" in body
    block = certificate.snapshot["unit_blocks"][0]
    assert f'href="{reverse("registry-unit", args=[block])}"' in body
    public_url = settings.PUBLIC_BASE_URL.rstrip("/") + f"/verify/{certificate.code}"
    assert f"<title>QR code for {public_url}</title>" in body
    today = timezone.now().astimezone(dt.UTC).date().isoformat()
    assert f"will be sealed in the root of {today}, published after 01:00 UTC next day" in body
    entry = page.context["entry"]
    assert entry.kind == "certificate.issued"
    assert entry.reference == f"certificate:{certificate.code}"
    assert entry.entry_hash in body
    assert "withdrawn" not in page.context["proof"]["kind"]


def test_the_certificate_json_carries_a_proof_that_leads_to_the_published_root(
    world: World, client: Client
) -> None:
    _, _, certificate = _certified(world)
    [root] = _publish_roots()
    document = client.get(reverse("verify-json", args=[certificate.code])).json()

    assert document["code"] == certificate.code
    assert document["status"] == "valid"
    assert document["version"] == 1
    assert document["supersedes"] is None
    assert document["withdrawal"] is None
    assert sha256_hex(canonical_json(document["snapshot"])) == document["snapshot_sha256"]
    entry = document["ledger_entry"]
    assert entry["fields"]["data"]["snapshot_sha256"] == certificate.snapshot_sha256
    assert entry_hash(entry["fields"]) == entry["entry_hash"]
    proof = entry["proof"]
    assert proof["day"] == root.day.isoformat()
    assert proof["root"] == root.root
    assert root_from_proof(entry["entry_hash"], proof["proof"]) == root.root
    assert document["roots_url"].endswith("/ledger/roots.json")
    assert "canonical JSON" in document["method"]

    page = client.get(reverse("verify", args=[certificate.code])).content.decode()
    assert root.root in page
    assert "the path leads from the entry hash to the published root" in page


def test_a_withdrawn_certificate_says_when_why_and_which_version_supersedes_it(
    world: World, client: Client
) -> None:
    registration, batch, first = _certified(world)
    factories.issue(world, 5)  # supply to compensate the registration again
    result = _cancel_first_two(world, batch)
    assert result.withdrawn == [first]
    second = Certificate.objects.get(registration=registration, version=2)

    old = client.get(reverse("verify", args=[first.code])).content.decode()
    assert "withdrawn</span>" in old
    withdrawn_on = f"{timezone.now():%-d %B %Y}"
    assert f"Withdrawn on {withdrawn_on}</strong> because units " in old
    assert "two phones were counted twice at the hub" in old
    assert (
        f'Superseded by <a href="{reverse("verify", args=[second.code])}">{second.code}</a> '
        "(version 2)" in old
    )
    new = client.get(reverse("verify", args=[second.code])).content.decode()
    assert "valid</span>" in new
    assert f'Version 2: supersedes <a href="{reverse("verify", args=[first.code])}">' in new

    document = client.get(reverse("verify-json", args=[first.code])).json()
    assert document["status"] == "withdrawn"
    assert document["superseded_by"]["code"] == second.code
    assert document["superseded_by"]["version"] == 2
    assert "counted twice" in document["withdrawal"]["reason"]
    assert document["withdrawal"]["entry_hash"]
    newer = client.get(reverse("verify-json", args=[second.code])).json()
    assert newer["supersedes"]["code"] == first.code
    assert newer["ledger_entry"]["fields"]["data"]["supersedes"] == first.code


# --- the standalone verifier ----------------------------------------------------------------


def _run_verifier(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own script, with arguments from this test
        [sys.executable, str(VERIFIER), *args], capture_output=True, text=True, timeout=60
    )


def test_the_standalone_verifier_passes_a_sealed_certificate_and_fails_a_tampered_one(
    world: World, client: Client, tmp_path: Path
) -> None:
    _, _, certificate = _certified(world)
    _publish_roots()
    document = client.get(reverse("verify-json", args=[certificate.code])).json()
    roots = tmp_path / "roots.json"
    roots.write_bytes(client.get(reverse("ledger-roots-json")).content)
    saved = tmp_path / "certificate.json"
    saved.write_text(json.dumps(document))

    passed = _run_verifier(str(saved), "--roots", str(roots))
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert passed.stdout.count("ok  ") == 6
    assert "VERIFIED" in passed.stdout.splitlines()[-1]

    document["snapshot"]["devices"] += 1  # claim one more device than was compensated
    saved.write_text(json.dumps(document))
    failed = _run_verifier(str(saved), "--roots", str(roots))
    assert failed.returncode == 1
    assert "FAIL  snapshot SHA-256" in failed.stdout
    assert "NOT VERIFIED" in failed.stdout

    document["snapshot"]["devices"] -= 1
    document["ledger_entry"]["proof"]["proof"][0]["hash"] = "0" * 64
    saved.write_text(json.dumps(document))
    failed = _run_verifier(str(saved), "--roots", str(roots))
    assert failed.returncode == 1
    assert "FAIL  path from leaf" in failed.stdout


def test_the_standalone_verifier_fails_an_unsealed_or_withdrawn_certificate(
    world: World, client: Client, tmp_path: Path
) -> None:
    _, batch, certificate = _certified(world)
    roots = tmp_path / "roots.json"
    roots.write_text(json.dumps({"method": "", "roots": []}))
    saved = tmp_path / "certificate.json"
    saved.write_bytes(client.get(reverse("verify-json", args=[certificate.code])).content)
    unsealed = _run_verifier(str(saved), "--roots", str(roots))
    assert unsealed.returncode == 1
    assert "FAIL  sealed: not until the root of" in unsealed.stdout

    factories.issue(world, 5)
    _cancel_first_two(world, batch)
    _publish_roots()
    roots.write_bytes(client.get(reverse("ledger-roots-json")).content)
    saved.write_bytes(client.get(reverse("verify-json", args=[certificate.code])).content)
    withdrawn = _run_verifier(str(saved), "--roots", str(roots))
    assert withdrawn.returncode == 1
    assert "ok  " in withdrawn.stdout  # every hash still checks out
    assert "FAIL  in force: no, withdrawn" in withdrawn.stdout
    assert "superseded by http" in withdrawn.stdout


# --- search ---------------------------------------------------------------------------------


def test_the_search_finds_certificates_units_blocks_batches_and_consignments(
    world: World, client: Client
) -> None:
    _, batch, certificate = _certified(world)
    search = reverse("registry")

    def lands(query: str) -> str:
        response = client.get(search, {"q": query})
        assert response.status_code == 302, (query, response.content.decode()[:500])
        return str(response["Location"])

    assert lands(certificate.code.lower()) == reverse("verify", args=[certificate.code])
    unit = _serial(batch, batch.units.lower + 2)
    assert lands(f" {unit.lower()} ") == reverse("registry-unit", args=[unit])
    assert lands(batch.block) == reverse("registry-unit", args=[batch.block])
    assert lands(str(batch.pk)) == reverse("registry-batch", args=[batch.pk])
    assert lands(f"batch #{batch.pk}") == reverse("registry-batch", args=[batch.pk])
    assert lands(batch.consignment.reference.lower()) == reverse("registry-batch", args=[batch.pk])


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("O4O-GH-2026-0000000001-Z", "check character is Z, expected"),
        ("O4O-GH-2026-000000001-A", "is not 10 digits"),
        ("O4O-XX-2026-0000000001-A", "is not an ISO 3166-1 alpha-2 code"),
        ("hello", "Nothing matches 'hello'"),
        ("O4O-GH-2026", "not a unit serial: expected O4O-CC-YYYY"),
        ("C-AAAAAAAAAA", "No certificate"),
        ("999999", "No batch 999999"),
    ],
)
def test_the_search_says_what_is_wrong(
    world: World, client: Client, query: str, message: str
) -> None:
    response = client.get(reverse("registry"), {"q": query})
    assert response.status_code == 200
    assert message in response.context["error"]
    assert "search-error" in response.content.decode()


def test_a_well_formed_serial_that_was_never_issued_is_not_found(
    world: World, client: Client
) -> None:
    batch = factories.issue(world, 3)
    never = _serial(batch, batch.units.upper + 100)
    response = client.get(reverse("registry"), {"q": never})
    assert f"No unit {never} has been issued" in response.context["error"]

    wrong_country = serials.format_serial("NG", batch.vintage_year, batch.units.lower)
    page = client.get(reverse("registry-unit", args=[wrong_country]))
    assert page.status_code == 404
    assert f"were issued as {_serial(batch, batch.units.lower)}" in page.content.decode()

    malformed = client.get(reverse("registry-unit", args=["O4O-GH-2026-0000000001-Z"]))
    assert malformed.status_code == 400
    assert "check character is Z" in malformed.content.decode()

    in_french = client.get(
        reverse("registry-unit", args=["O4O-GH-2026-0000000001-Z"]),
        headers={"accept-language": "fr"},
    )
    assert in_french.status_code == 400
    assert "le caractère de contrôle est Z" in html.unescape(in_french.content.decode())


# --- batches --------------------------------------------------------------------------------


def test_the_registry_lists_batches_with_their_unit_split(world: World, client: Client) -> None:
    _registration, batch, _ = _certified(world, quantity=4)
    spare = factories.issue(world, 10)
    actions.reserve_units(
        actor=world.operator_user, partner=world.partner, label="TENDER-2026-77", quantity=3
    )
    actions.cancel_units(
        actor=world.operator_user,
        batch=spare,
        first=spare.units.upper - 2,
        last=spare.units.upper - 1,
        reason="count_corrected",
        explanation="the recycler recounted the consignment",
    )

    page = client.get(reverse("registry"))
    rows = {b.pk: b for b in page.context["page"].object_list}
    assert (rows[batch.pk].allocated, rows[batch.pk].available) == (4, 0)
    assert (
        rows[spare.pk].quantity,
        rows[spare.pk].allocated,
        rows[spare.pk].reserved,
        rows[spare.pk].cancelled,
        rows[spare.pk].available,
    ) == (10, 0, 3, 2, 5)
    assert list(rows) == [spare.pk, batch.pk], "newest first"
    balances = ledger.table_balances()
    for b in rows.values():
        assert b.available == balances[ledger.batch_account(b.pk)]
    body = page.content.decode()
    assert spare.consignment.reference in body
    assert world.recycler.name in body


def _queries(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
        assert response.status_code == 200, path
        if response.streaming:
            b"".join(response.streaming_content)  # type: ignore[arg-type]
    return len(captured.captured_queries)


def test_list_pages_take_the_same_queries_for_one_row_or_many(world: World, client: Client) -> None:
    batch = factories.issue(world, 12)
    factories.register(world, quantity=1)
    actions.allocate(actor=world.operator_user)
    client.get(reverse("registry"))  # warm up once

    pages = [
        reverse("registry"),
        "/api/v1/public/batches",
        reverse("registry-batches-csv"),
        reverse("registry-batch", args=[batch.pk]),
        reverse("registry-batch-csv", args=[batch.pk]),
        f"/api/v1/public/batches/{batch.pk}",
    ]
    before = [_queries(client, path) for path in pages]
    for _ in range(3):
        factories.issue(world, 2)
    for _ in range(6):
        factories.register(world, quantity=1)
    actions.allocate(actor=world.operator_user)
    assert batch.allocations.count() == 7
    after = [_queries(client, path) for path in pages]

    assert after == before
    assert max(before) <= 8, before


def test_the_batch_page_shows_facts_split_cancellations_and_allocations(
    world: World, client: Client
) -> None:
    _registration, batch, _first = _certified(world)
    factories.issue(world, 5)
    _cancel_first_two(world, batch)
    uncertified = factories.register(world, quantity=10)  # waits: only 3 units left anywhere
    actions.allocate(actor=world.operator_user)
    assert uncertified.allocations.exists()

    page = client.get(reverse("registry-batch", args=[batch.pk]))
    body = page.content.decode()
    assert page.status_code == 200
    assert batch.block in body
    assert batch.consignment.reference in body
    assert world.recycler.name in body
    assert f"{batch.net_weight_kg:.3f}" in body
    assert "<svg" in body
    assert "Cancelled: 2 units" in body
    assert "fraud was found: two phones were counted twice at the hub" in body
    records = page.context["allocations"]
    assert [(r.status, r.units) for r in records] == [("revoked", 5), ("active", 3)]
    assert all(r.partner == world.partner.name for r in records)
    assert 'class="revoked"' in body
    assert records[1].parent_block == records[0].block

    other = client.get(reverse("registry-batch", args=[batch.pk + 1])).context["allocations"]
    pending = [r for r in other if not r.certificates]
    assert pending
    assert all(r.partner == "" for r in pending), "no partner name before a certificate"
    assert (
        "not yet certified"
        in client.get(reverse("registry-batch", args=[batch.pk + 1])).content.decode()
    )
    assert client.get(reverse("registry-batch", args=[999999])).status_code == 404


def test_the_csv_downloads_list_every_batch_and_every_block(world: World, client: Client) -> None:
    _, batch, certificate = _certified(world)
    factories.issue(world, 5)
    _cancel_first_two(world, batch)

    response = client.get(reverse("registry-batches-csv"))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == IssuanceBatch.objects.count() == 2
    mine = next(r for r in rows if r["id"] == str(batch.pk))
    assert (mine["units_issued"], mine["units_allocated"], mine["units_cancelled"]) == (
        "5",
        "3",
        "2",
    )
    assert mine["block"] == batch.block

    response = client.get(reverse("registry-batch-csv", args=[batch.pk]))
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(r["record"], r["status"], r["units"]) for r in rows] == [
        ("cancellation", "cancelled", "2"),
        ("allocation", "revoked", "5"),
        ("allocation", "active", "3"),
    ]
    assert rows[1]["certificates"] == certificate.code
    assert rows[1]["partner"] == world.partner.name


# --- units ----------------------------------------------------------------------------------


def test_a_units_history_lineage_and_ledger_entries(world: World, client: Client) -> None:
    registration, batch, first = _certified(world)
    factories.issue(world, 5)
    _cancel_first_two(world, batch)
    second = Certificate.objects.get(registration=registration, version=2)

    cancelled = _serial(batch, batch.units.lower)
    page = client.get(reverse("registry-unit", args=[cancelled]))
    history = page.context["history"]
    assert [e.kind for e in history.events] == [
        "issued",
        "allocated",
        "certificate issued",
        "cancelled",
        "revoked",
        "certificate withdrawn",
    ]
    assert [e.at for e in history.events] == sorted(e.at for e in history.events)
    body = page.content.decode()
    assert "Cancelled because fraud was found: two phones were counted twice" in body
    assert "Revoked because two phones were counted twice" in body
    assert f"Allocated to {world.partner.name}" in body
    [item] = history.lineage
    assert [c.block for c in item.children] == [
        serials.format_block(
            batch.origin_country, batch.vintage_year, batch.units.lower + 2, batch.units.upper - 1
        )
    ]
    entry_kinds = [e.kind for e in history.entries]
    assert entry_kinds[:2] == ["issue", "issue"]
    assert "allocate" in entry_kinds
    assert "revoke" in entry_kinds
    assert "certificate.issued" in entry_kinds
    assert all(
        e.units is None or e.units.lower <= batch.units.lower < e.units.upper
        for e in history.entries
    )
    entry = history.entries[0]
    assert reverse("ledger-entry", args=[entry.entry_hash]) in body

    kept = _serial(batch, batch.units.lower + 3)
    later = client.get(reverse("registry-unit", args=[kept])).context["history"]
    assert [(e.kind, e.certificate) for e in later.events] == [
        ("issued", ""),
        ("allocated", first.code),
        ("certificate issued", first.code),
        ("revoked", ""),
        ("certificate withdrawn", first.code),
        ("allocated", second.code),
        ("certificate issued", second.code),
    ]
    assert later.events[5].text.startswith(f"Granted again to {world.partner.name}")


def test_a_block_serial_shows_the_blocks_summary_and_lowercase_redirects(
    world: World, client: Client
) -> None:
    _, batch, _ = _certified(world)
    page = client.get(reverse("registry-unit", args=[batch.block]))
    assert page.status_code == 200
    assert page.context["history"].is_block
    assert "Block of 5 units" in page.content.decode()
    lower = client.get(reverse("registry-unit", args=[batch.block.lower()]))
    assert lower.status_code == 302
    assert lower["Location"] == reverse("registry-unit", args=[batch.block])


def test_a_ledger_entry_page_shows_fields_and_proof_but_withholds_a_quota_label(
    world: World, client: Client
) -> None:
    factories.issue(world, 5)
    actions.reserve_units(
        actor=world.operator_user, partner=world.partner, label="TENDER-SECRET-9", quantity=2
    )
    _publish_roots()
    issue = ledger.LedgerEntry.objects.filter(kind="issue").first()
    reserve = ledger.LedgerEntry.objects.filter(kind="reserve").first()
    assert issue is not None
    assert reserve is not None

    page = client.get(reverse("ledger-entry", args=[issue.entry_hash]))
    assert canonical_json(ledger.hashed_fields(issue)) in page.content.decode().replace(
        "&quot;", '"'
    )
    assert page.context["proof_ok"]
    hidden = client.get(reverse("ledger-entry-json", args=[reserve.entry_hash])).json()
    assert hidden["fields"] is None
    assert hidden["fields_withheld"]
    assert root_from_proof(reserve.entry_hash, hidden["proof"]["proof"]) == hidden["proof"]["root"]
    assert (
        "TENDER-SECRET-9"
        not in client.get(reverse("ledger-entry", args=[reserve.entry_hash])).content.decode()
    )
    assert client.get(reverse("ledger-entry", args=["nothex"])).status_code == 404


# --- ledger roots ---------------------------------------------------------------------------


def test_the_ledger_page_and_feed_list_published_roots_newest_first(
    world: World, client: Client
) -> None:
    factories.issue(world, 3)
    [today] = _publish_roots()
    earlier = LedgerRoot.objects.create(
        day=today.day - dt.timedelta(days=3),
        entries=1,
        first_entry=1,
        last_entry=1,
        root="ab" * 32,
        published_at=timezone.now(),
    )

    page = client.get(reverse("ledger-roots"))
    assert [r.day for r in page.context["page"].object_list] == [today.day, earlier.day]
    assert today.root in page.content.decode()
    feed = client.get(reverse("ledger-roots-json")).json()
    assert [r["day"] for r in feed["roots"]] == [today.day.isoformat(), earlier.day.isoformat()]
    assert feed["roots"][0] == {
        "day": today.day.isoformat(),
        "entries": today.entries,
        "first_entry": today.first_entry,
        "last_entry": today.last_entry,
        "root": today.root,
        "published_at": today.published_at.isoformat(),
    }
    assert "leaf = SHA-256(0x00" in feed["method"]
    one = client.get(reverse("ledger-roots-json"), {"day": earlier.day.isoformat()}).json()
    assert [r["root"] for r in one["roots"]] == [earlier.root]
    assert client.get(reverse("ledger-roots-json"), {"day": "yesterday"}).status_code == 400


def test_the_ledger_page_is_paginated(world: World, client: Client) -> None:
    start = dt.date(2025, 1, 1)
    LedgerRoot.objects.bulk_create(
        LedgerRoot(
            day=start + dt.timedelta(days=n),
            entries=1,
            first_entry=n,
            last_entry=n,
            root=f"{n:064x}",
            published_at=timezone.now(),
        )
        for n in range(45)
    )
    first = client.get(reverse("ledger-roots")).context["page"]
    second = client.get(reverse("ledger-roots"), {"page": 2}).context["page"]
    assert first.object_list[0].day == start + dt.timedelta(days=44)
    assert len(first.object_list) == 30
    assert len(second.object_list) == 15
    assert 'href="?page=2"' in client.get(reverse("ledger-roots")).content.decode()


# --- the public API -------------------------------------------------------------------------


def test_the_public_api_needs_no_key(world: World, client: Client) -> None:
    _, batch, certificate = _certified(world)
    others = [factories.issue(world, 2) for _ in range(3)]
    _cancel_first_two(world, others[0])

    first = client.get("/api/v1/public/batches", {"limit": 2}).json()
    assert [b["id"] for b in first["items"]] == [others[2].pk, others[1].pk]
    rest = client.get("/api/v1/public/batches", {"limit": 2, "cursor": first["next_cursor"]})
    assert [b["id"] for b in rest.json()["items"]] == [others[0].pk, batch.pk]
    assert rest.json()["next_cursor"] is None

    detail = client.get(f"/api/v1/public/batches/{batch.pk}").json()
    assert (detail["units_issued"], detail["units_allocated"]) == (5, 5)
    assert detail["allocations"][0]["certificates"] == [certificate.code]
    assert detail["allocations"][0]["partner"] == world.partner.name
    assert detail["url"] == reverse("registry-batch", args=[batch.pk])
    cancelled = client.get(f"/api/v1/public/batches/{others[0].pk}").json()
    assert cancelled["cancellations"][0]["units"] == 2
    assert client.get("/api/v1/public/batches/999999").status_code == 404

    unit = client.get(f"/api/v1/public/units/{_serial(batch, batch.units.lower)}").json()
    assert [e["kind"] for e in unit["events"]][:2] == ["issued", "allocated"]
    assert unit["batch"]["id"] == batch.pk
    assert unit["ledger_entries"][0]["url"].startswith("/ledger/entry/")
    bad = client.get("/api/v1/public/units/O4O-GH-2026-0000000001-Z")
    assert bad.status_code == 400
    assert "check character is Z" in bad.json()["message"]

    _publish_roots()
    roots = client.get("/api/v1/public/ledger/roots").json()
    assert roots == client.get(reverse("ledger-roots-json")).json()


# --- privacy and limits ---------------------------------------------------------------------


def test_public_pages_name_no_collector_hub_or_uncertified_partner(
    world: World, client: Client
) -> None:
    registration, batch, certificate = _certified(world)
    factories.issue(world, 5)
    _cancel_first_two(world, batch)
    waiting_partner, waiting_admin = factories.make_partner()
    factories.register(world, quantity=50, partner=waiting_partner, actor=waiting_admin)
    actions.allocate(actor=world.operator_user)
    factories.issue(world, 2)
    actions.reserve_units(
        actor=world.operator_user, partner=world.partner, label="QUOTA-LABEL-1", quantity=1
    )
    _publish_roots()

    unit = _serial(batch, batch.units.lower)
    pages = [
        reverse("registry"),
        reverse("registry-batch", args=[batch.pk]),
        reverse("registry-batch", args=[batch.pk + 1]),
        reverse("registry-batch-csv", args=[batch.pk + 1]),
        reverse("registry-batches-csv"),
        reverse("registry-unit", args=[unit]),
        reverse("registry-unit", args=[batch.block]),
        reverse("ledger-roots"),
        reverse("ledger-roots-json"),
        reverse("verify", args=[certificate.code]),
        reverse("verify-json", args=[certificate.code]),
        f"/api/v1/public/batches/{batch.pk + 1}",
        f"/api/v1/public/units/{unit}",
        "/api/v1/public/batches",
    ]
    secrets = [
        world.collector.code,
        world.hub.name,
        world.hub.code,
        world.collection_partner.name,
        world.carrier.name,
        world.hub_user.username,
        world.operator_user.username,
        waiting_partner.name,
        "QUOTA-LABEL-1",
    ]
    for path in pages:
        body = _body(client, path)
        for secret in secrets:
            assert secret not in body, (secret, path)
    for path in pages[:9]:  # a registration's own reference is printed on its certificate only
        assert registration.reference not in _body(client, path), path


def _body(client: Client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    if response.streaming:
        return b"".join(response.streaming_content).decode()  # type: ignore[arg-type]
    return response.content.decode()


def test_public_pages_and_api_answer_429_past_their_limit(
    world: World, client: Client, settings: Any
) -> None:
    settings.RATE_LIMITS = {
        "public": "2/minute",
        "public-api": "1/minute",
        "public-download": "1/minute",
    }
    _, batch, certificate = _certified(world)
    assert client.get(reverse("registry")).status_code == 200
    assert client.get(reverse("registry-batch", args=[batch.pk])).status_code == 200
    refused = client.get(reverse("verify", args=[certificate.code]))
    assert refused.status_code == 429
    assert "Retry-After" in refused
    assert Client(REMOTE_ADDR="198.51.100.21").get(reverse("ledger-roots")).status_code == 200

    assert client.get("/api/v1/public/batches").status_code == 200
    api_refused = client.get(f"/api/v1/public/batches/{batch.pk}")
    assert api_refused.status_code == 429
    assert api_refused.json()["code"] == "rate_limited"

    assert client.get(reverse("registry-batches-csv")).status_code == 200
    assert client.get(reverse("registry-batch-csv", args=[batch.pk])).status_code == 429


def test_home_and_navigation_link_the_registry(world: World, client: Client) -> None:
    body = client.get(reverse("home")).content.decode()
    assert f'href="{reverse("registry")}"' in body
    assert f'href="{reverse("ledger-roots")}"' in body
