"""A consumer looks up their device: which recycled phone compensated it, and nothing more."""

from __future__ import annotations

import pytest
from django.test import Client

from factories import World, imei, issue, make_organisation, register
from oneforone.accounts.models import OrganisationKind
from oneforone.partners import actions as partner_actions
from oneforone.partners.models import Conflict
from oneforone.registry import actions as registry_actions
from oneforone.registry import serials
from oneforone.registry.models import Certificate
from oneforone.registry.receivers import PUBLIC_CLAIM_WITHDRAWN


def allocate(world: World) -> registry_actions.AllocationResult:
    return registry_actions.allocate(actor=world.operator_user)


def ask(client: Client, identifier: str, kind: str = "auto") -> str:
    response = client.post("/verify/device", {"identifier": identifier, "kind": kind})
    return response.content.decode()


def ask_api(client: Client, **body: str) -> tuple[int, dict]:
    response = client.post("/api/v1/verify/device", body, content_type="application/json")
    return response.status_code, response.json()


def test_the_nth_listed_device_holds_the_nth_allocated_unit(world: World, client: Client) -> None:
    batch = issue(world, 10)
    register(world, imeis=[imei(1), imei(2), imei(3)])
    allocate(world)

    status, body = ask_api(client, imei=imei(2))

    assert status == 200
    assert body["status"] == "compensated"
    [unit] = body["units"]
    assert unit["serial"] == serials.format_serial("GH", batch.vintage_year, batch.units.lower + 1)
    assert unit["origin_country"] == "GH"
    assert unit["consignment"] == batch.consignment.reference
    assert unit["recycler"] == world.recycler.name
    assert unit["collected_from_month"] == batch.collected_from.strftime("%Y-%m")
    assert unit["certificate"] == Certificate.objects.get().code


def test_the_page_answers_with_the_unit_its_origin_and_a_qr_code(
    world: World, client: Client
) -> None:
    batch = issue(world, 10)
    register(world, imeis=[imei(7)])
    allocate(world)

    html = ask(client, imei(7))

    serial = serials.format_serial("GH", batch.vintage_year, batch.units.lower)
    assert "compensated" in html
    assert serial in html
    assert batch.consignment.reference in html
    assert world.recycler.name in html
    assert "<svg" in html
    assert f"/registry/unit/{serial}" in html


def test_a_tablet_is_compensated_by_two_units(world: World, client: Client) -> None:
    issue(world, 10)
    register(world, category="tablet", serials=["TAB-0001", "TAB-0002"])
    allocate(world)

    _, first = ask_api(client, serial="tab-0001")
    _, second = ask_api(client, serial="TAB-0002")

    assert len(first["units"]) == 2
    assert len(second["units"]) == 2
    assert {u["serial"] for u in first["units"]}.isdisjoint(u["serial"] for u in second["units"])


def test_a_registered_device_waits_for_supply_and_an_unknown_one_is_not_registered(
    world: World, client: Client
) -> None:
    register(world, imeis=[imei(1)])

    assert ask_api(client, imei=imei(1)) == (200, {"status": "waiting", "units": []})
    assert ask_api(client, imei=imei(2)) == (200, {"status": "not_registered", "units": []})
    assert "not yet compensated" in ask(client, imei(1))
    assert "not registered" in ask(client, imei(2))


def test_the_answer_reveals_no_partner_and_no_other_device(world: World, client: Client) -> None:
    issue(world, 10)
    register(world, imeis=[imei(1), imei(2)], reference="SECRET-ORDER-42")
    allocate(world)

    html = ask(client, imei(1))
    _, body = ask_api(client, imei=imei(1))

    for text in (html, str(body)):
        assert world.partner.name not in text
        assert "SECRET-ORDER-42" not in text
        assert imei(2) not in text
    assert len(body["units"]) == 1


def test_a_malformed_identifier_gets_a_reason_and_is_not_echoed(
    world: World, client: Client
) -> None:
    wrong_check_digit = imei(5)[:-1] + str((int(imei(5)[-1]) + 1) % 10)

    response = client.post("/verify/device", {"identifier": wrong_check_digit, "kind": "imei"})
    status, body = ask_api(client, imei=wrong_check_digit)

    assert response.status_code == 400
    assert "check digit" in response.content.decode()
    assert wrong_check_digit not in response.content.decode().replace('value="', "")
    assert status == 400
    assert body["code"] == "invalid_identifier"
    assert wrong_check_digit not in body["message"]


def test_lookups_are_rate_limited_per_client(world: World, client: Client, settings) -> None:
    settings.RATE_LIMITS = {"verify-device": "2/minute"}

    answers = [client.post("/verify/device", {"identifier": imei(1)}) for _ in range(3)]
    api = client.post("/api/v1/verify/device", {"imei": imei(1)}, content_type="application/json")

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].headers["Retry-After"]
    assert api.status_code == 429
    assert api.json()["code"] == "rate_limited"


def test_a_second_claim_does_not_change_who_compensated_the_device(
    world: World, client: Client
) -> None:
    other = make_organisation(OrganisationKind.PARTNER)
    issue(world, 10)
    register(world, imeis=[imei(1)])
    allocate(world)
    _, before = ask_api(client, imei=imei(1))

    register(world, imeis=[imei(1)], partner=other, actor=world.operator_user)
    allocate(world)

    assert ask_api(client, imei=imei(1)) == (200, before)


@pytest.mark.parametrize("decision", ["transfer", "reject"])
def test_withdrawing_a_compensated_claim_gives_its_unit_back_and_supersedes_the_certificate(
    world: World, client: Client, decision: str
) -> None:
    other = make_organisation(OrganisationKind.PARTNER)
    issue(world, 2)
    first = register(world, imeis=[imei(1), imei(2)])
    allocate(world)
    register(world, imeis=[imei(2)], partner=other, actor=world.operator_user)
    conflict = Conflict.objects.get()

    partner_actions.resolve_conflict(
        actor=world.operator_user, conflict=conflict, decision=decision, reason="resold device"
    )
    allocate(world)

    old, new = Certificate.objects.filter(registration=first).order_by("version")
    # The operator's own words stay in the audit log; the public record says what happened.
    assert old.withdrawal.reason.endswith(PUBLIC_CLAIM_WITHDRAWN)
    assert "resold device" not in old.withdrawal.reason
    assert new.supersedes == old
    assert new.snapshot["units"] == 1
    _, answer = ask_api(client, imei=imei(2))
    if decision == "transfer":
        assert answer["status"] == "compensated"
        assert answer["units"][0]["certificate"] not in (old.code, new.code)
    else:
        assert answer["status"] == "not_registered"


def test_a_claim_transferred_to_a_certified_registration_gives_it_a_new_version(
    world: World, client: Client
) -> None:
    other = make_organisation(OrganisationKind.PARTNER)
    issue(world, 4)
    register(world, imeis=[imei(1)])
    second = register(world, imeis=[imei(1), imei(2)], partner=other, actor=world.operator_user)
    allocate(world)
    [first_version] = Certificate.objects.filter(registration=second)
    assert first_version.snapshot["devices"] == 1

    partner_actions.resolve_conflict(
        actor=world.operator_user,
        conflict=Conflict.objects.get(),
        decision="transfer",
        reason="the first partner never sold it",
    )
    allocate(world)

    latest = Certificate.objects.filter(registration=second).latest("version")
    assert latest.supersedes == first_version
    assert latest.snapshot["devices"] == 2
    assert "transferred" in first_version.withdrawal.reason
    _, answer = ask_api(client, imei=imei(1))
    assert answer["units"][0]["certificate"] == latest.code


def test_the_database_refuses_to_leave_a_registration_holding_more_than_it_owes(
    world: World,
) -> None:
    """Were the registry's receiver missing, withdrawing a compensated claim would leave its
    unit allocated; the deferred check refuses that at commit."""
    from django.db import IntegrityError, connection, transaction

    from oneforone.partners.signals import claims_withdrawn
    from oneforone.registry.receivers import release_surplus_on_withdrawn_claims

    other = make_organisation(OrganisationKind.PARTNER)
    issue(world, 2)
    register(world, imeis=[imei(1)])
    allocate(world)
    register(world, imeis=[imei(1)], partner=other, actor=world.operator_user)
    claims_withdrawn.disconnect(dispatch_uid="registry.release_surplus")
    try:
        with transaction.atomic():
            partner_actions.resolve_conflict(
                actor=world.operator_user,
                conflict=Conflict.objects.get(),
                decision="transfer",
                reason="resold",
            )
            with (
                pytest.raises(IntegrityError, match="owes 0 units but holds 1"),
                connection.cursor() as cursor,
            ):
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            transaction.set_rollback(True)
    finally:
        claims_withdrawn.connect(
            release_surplus_on_withdrawn_claims, dispatch_uid="registry.release_surplus"
        )


def test_an_identifier_rejected_as_fraudulent_is_held_again_when_registered_anew(
    world: World, client: Client
) -> None:
    other = make_organisation(OrganisationKind.PARTNER)
    third = make_organisation(OrganisationKind.PARTNER)
    issue(world, 5)
    register(world, imeis=[imei(1)])
    register(world, imeis=[imei(1)], partner=other, actor=world.operator_user)
    partner_actions.resolve_conflict(
        actor=world.operator_user,
        conflict=Conflict.objects.get(),
        decision="reject",
        reason="a made-up IMEI",
    )

    late = register(world, imeis=[imei(1)], partner=third, actor=world.operator_user)
    allocate(world)

    late.refresh_from_db()
    assert late.units_owed == 0
    newest = Conflict.objects.latest("raised_at")
    assert newest.status == "open"
    assert newest.second_device.registration == late
    assert ask_api(client, imei=imei(1)) == (200, {"status": "not_registered", "units": []})

    partner_actions.resolve_conflict(
        actor=world.operator_user,
        conflict=newest,
        decision="transfer",
        reason="the third partner showed the purchase invoice",
    )
    allocate(world)

    late.refresh_from_db()
    assert late.units_owed == 1
    assert ask_api(client, imei=imei(1))[1]["status"] == "compensated"


def test_a_double_claim_is_counted_once_in_the_dashboard_figures(world: World) -> None:
    from oneforone.impact.queries import registry_totals

    other = make_organisation(OrganisationKind.PARTNER)
    register(world, imeis=[imei(1), imei(2)])
    register(world, imeis=[imei(2)], partner=other, actor=world.operator_user)

    assert registry_totals().devices_registered == 2
    assert registry_totals(other).devices_registered == 0
