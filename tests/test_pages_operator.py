"""Operator registry pages: the backlog (page, partner dashboard, command), cancellations with a
review step, reservations, allocation preferences; only operator staff change anything, and every
change goes through the registry's actions."""

from __future__ import annotations

from dataclasses import dataclass
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

import factories
from factories import World
from oneforone.accounts.models import Organisation, Role, User
from oneforone.partners.models import Registration
from oneforone.registry import actions, queries, serials
from oneforone.registry.models import (
    Allocation,
    AllocationPreference,
    Cancellation,
    CancellationReason,
    Certificate,
    IssuanceBatch,
    Reservation,
)


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.content.decode()


@dataclass
class Scenario:
    """Partner A owes 9 units (3 phones, 2 laptops) and has 5; partner B owes 4 and has them,
    from its quota TENDER-1 of 6 reserved units (2 left); partner C has registered nothing.
    Batch 1 (5 units) is all allocated; batch 2 (10 units) has 6 reserved and 4 free."""

    world: World
    a: Organisation
    b: Organisation
    b_admin: User
    c: Organisation
    phones: Registration
    laptops: Registration
    b_phones: Registration
    batch1: IssuanceBatch
    batch2: IssuanceBatch


@pytest.fixture
def scenario(world: World) -> Scenario:
    b, b_admin = factories.make_partner()
    c, _ = factories.make_partner()
    phones = factories.register(world, quantity=3, reference="A-PHONES")
    laptops = factories.register(world, quantity=2, category="laptop", reference="A-LAPTOPS")
    b_phones = factories.register(world, quantity=4, partner=b, actor=b_admin, reference="B-1")
    batch1 = factories.issue(world, 5)
    actions.allocate(actor=world.operator_user, partner=world.partner)
    batch2 = factories.issue(world, 10)
    actions.reserve_units(actor=world.operator_user, partner=b, label="TENDER-1", quantity=6)
    actions.allocate(actor=world.operator_user, partner=b)
    return Scenario(world, world.partner, b, b_admin, c, phones, laptops, b_phones, batch1, batch2)


# --- backlog ----------------------------------------------------------------------------------


def test_backlog_counts_units_owed_allocated_waiting_and_reserved_per_partner(
    scenario: Scenario,
) -> None:
    backlog = queries.backlog()
    a, b, c = (backlog.for_partner(p) for p in (scenario.a, scenario.b, scenario.c))
    assert a is not None
    assert b is not None
    assert c is not None
    assert (a.registrations, a.registrations_waiting) == (2, 1)
    assert (a.devices_registered, a.devices_compensated, a.devices_owed) == (5, 3, 2)
    assert (a.units_owed, a.units_allocated, a.units_waiting, a.units_reserved) == (9, 5, 4, 0)
    assert a.oldest_waiting == scenario.laptops.created_at
    assert (b.units_owed, b.units_allocated, b.units_waiting, b.units_reserved) == (4, 4, 0, 2)
    assert b.oldest_waiting is None
    [quota] = b.quotas
    assert (quota.label, quota.units_reserved, quota.units_allocated, quota.units_remaining) == (
        "TENDER-1",
        6,
        4,
        2,
    )
    assert (c.registrations, c.units_owed, c.units_waiting, c.oldest_waiting) == (0, 0, 0, None)
    total = backlog.total
    assert (total.units_owed, total.units_allocated, total.units_waiting) == (13, 9, 4)
    assert (total.units_reserved, total.registrations_waiting) == (2, 1)
    assert total.oldest_waiting == scenario.laptops.created_at


def test_backlog_agrees_with_the_dashboard_totals_and_the_pipeline(scenario: Scenario) -> None:
    from oneforone.impact import queries as impact

    backlog = queries.backlog()
    totals = impact.registry_totals()
    assert backlog.total.units_waiting == totals.units_backlog
    assert backlog.total.devices_compensated == totals.devices_compensated
    assert backlog.total.units_reserved == impact.pipeline().units_reserved
    assert sum(f.units for f in queries.free_supply()) == impact.pipeline().units_available == 4


def test_backlog_of_one_partner_holds_only_that_partner(scenario: Scenario) -> None:
    backlog = queries.backlog(scenario.b)
    assert [p.partner_id for p in backlog.partners] == [scenario.b.pk]
    assert backlog.total.units_owed == 4


def test_backlog_takes_two_queries_whatever_the_number_of_partners(scenario: Scenario) -> None:
    with CaptureQueriesContext(connection) as few:
        queries.backlog()
    factories.issue(scenario.world, 10)
    for _ in range(5):
        partner, admin = factories.make_partner()
        factories.register(scenario.world, quantity=2, partner=partner, actor=admin)
        actions.reserve_units(
            actor=scenario.world.operator_user, partner=partner, label="Q", quantity=1
        )
    with CaptureQueriesContext(connection) as many:
        backlog = queries.backlog()
    assert len(backlog.partners) == 8
    assert len(few.captured_queries) == len(many.captured_queries) == 2


def test_a_revoked_allocation_no_longer_counts_as_allocated(scenario: Scenario) -> None:
    first = scenario.batch1.units.lower
    actions.cancel_units(
        actor=scenario.world.operator_user,
        batch=scenario.batch1,
        first=first,
        last=first,
        reason=CancellationReason.FRAUD,
        explanation="one phone was a dummy",
    )
    a = queries.backlog().for_partner(scenario.a)
    assert a is not None
    # The cancelled unit is replaced at once from batch 2's free units.
    assert (a.units_allocated, a.units_waiting) == (5, 4)
    assert Allocation.history.filter(revoked_at__isnull=False).count() == 1


def test_the_allocation_page_shows_the_backlog_per_partner_and_in_total(
    scenario: Scenario,
) -> None:
    response = client_for(scenario.world.operator_user).get(reverse("operator-registry-allocation"))
    assert response.status_code == 200
    page = text(response)
    assert response.context["backlog"].total.units_waiting == 4
    for partner in (scenario.a, scenario.b, scenario.c):
        assert partner.name in page
    assert "All partners" in page
    assert "<svg" in page
    assert "Units waiting" in page
    assert "1 of 2 registrations waiting" in page


def test_allocating_from_the_allocation_page_runs_the_action_for_one_partner(
    scenario: Scenario,
) -> None:
    client = client_for(scenario.world.operator_user)
    response = client.post(reverse("operator-registry-allocation-run"), {"partner": scenario.a.pk})
    assert response.status_code == 302
    # A's laptops take 4 of batch 2's free units and complete: a certificate is issued.
    assert Certificate.objects.filter(registration=scenario.laptops).exists()
    follow = client.post(reverse("operator-registry-allocation-run"), follow=True)
    assert "Nothing was allocated" in text(follow)


def test_a_partner_sees_its_own_backlog_quota_and_preference_on_its_dashboard(
    scenario: Scenario,
) -> None:
    actions.set_allocation_preference(
        actor=scenario.world.operator_user, partner=scenario.b, origin_countries=["GH"]
    )
    response = client_for(scenario.b_admin).get(reverse("dashboard"))
    backlog = response.context["backlog"]
    assert (backlog.partner_id, backlog.units_owed, backlog.units_reserved) == (scenario.b.pk, 4, 2)
    page = text(response)
    assert "Your backlog" in page
    assert "TENDER-1" in page
    assert "from GH" in page
    assert "No registration is waiting" in page
    assert scenario.a.name not in page

    a_page = text(client_for(scenario.world.partner_admin).get(reverse("dashboard")))
    assert "oldest since" in a_page
    assert "TENDER-1" not in a_page


def test_the_backlog_command_prints_a_table_per_partner_with_the_total(
    scenario: Scenario,
) -> None:
    out = StringIO()
    call_command("backlog", stdout=out)
    lines = out.getvalue().splitlines()
    a_line = next(line for line in lines if line.startswith(scenario.a.name))
    assert a_line.split()[-7:-3] == ["9", "5", "4", "0"]
    total = next(line for line in lines if line.startswith("All partners"))
    assert "13" in total.split()
    assert "4" in total.split()
    assert any("TENDER-1" in line and line.split()[-3:] == ["6", "4", "2"] for line in lines)

    one = StringIO()
    call_command("backlog", "--partner", scenario.b.slug, stdout=one)
    assert scenario.a.name not in one.getvalue()
    with pytest.raises(CommandError, match="no partner"):
        call_command("backlog", "--partner", "nobody")


# --- cancellations ----------------------------------------------------------------------------


def test_batches_are_found_by_consignment_reference_unit_number_and_block_serial(
    scenario: Scenario,
) -> None:
    client = client_for(scenario.world.operator_user)
    url = reverse("operator-registry-cancellations")
    batch = scenario.batch2
    by_reference = client.get(url, {"q": batch.consignment.reference})
    assert list(by_reference.context["batches"]) == [batch]
    # A number is read as a unit number or a batch id, so another batch may match by its id.
    by_unit = client.get(url, {"q": str(batch.units.lower + 3)})
    assert batch in list(by_unit.context["batches"])
    serial = serials.format_serial(batch.origin_country, batch.vintage_year, batch.units.lower)
    assert list(client.get(url, {"q": serial}).context["batches"]) == [batch]
    nothing = client.get(url, {"q": "NO-SUCH-CONSIGNMENT"})
    assert "No batch matches" in text(nothing)


def test_the_cancellation_form_shows_the_chosen_batch(scenario: Scenario) -> None:
    response = client_for(scenario.world.operator_user).get(
        reverse("operator-registry-cancellations"), {"batch": scenario.batch1.pk}
    )
    page = text(response)
    assert scenario.batch1.block in page
    assert "Review what this affects" in page
    assert "The recycler corrected its count" in page


def _cancel_post(batch: IssuanceBatch, step: str, **fields: object) -> dict[str, object]:
    data: dict[str, object] = {
        "batch": batch.pk,
        "reason": CancellationReason.COUNT_CORRECTED,
        "explanation": "The recycler recounted: two phones were counted twice.",
        "step": step,
    }
    data.update(fields)
    return data


def test_the_review_shows_the_allocations_and_certificates_affected_and_changes_nothing(
    scenario: Scenario,
) -> None:
    phones_certificate = Certificate.objects.get(registration=scenario.phones)
    lower = scenario.batch1.units.lower  # A-PHONES holds units lower..lower+2
    response = client_for(scenario.world.operator_user).post(
        reverse("operator-registry-cancellations"),
        _cancel_post(scenario.batch1, "review", first=lower + 1, last=lower + 3),
    )
    assert response.status_code == 200
    preview = response.context["preview"]
    assert preview.units == 3
    assert preview.units_allocated == 3
    assert preview.registrations == 2
    assert [c.code for c in preview.certificates] == [phones_certificate.code]
    page = text(response)
    assert phones_certificate.code in page
    assert "A-PHONES" in page
    assert "A-LAPTOPS" in page
    assert 'value="confirm"' in page
    assert not Cancellation.objects.exists()


def test_confirming_cancels_the_units_and_shows_what_was_revoked_withdrawn_and_reallocated(
    scenario: Scenario,
) -> None:
    old = Certificate.objects.get(registration=scenario.phones)
    lower = scenario.batch1.units.lower
    client = client_for(scenario.world.operator_user)
    response = client.post(
        reverse("operator-registry-cancellations"),
        _cancel_post(scenario.batch1, "confirm", first=lower, last=lower + 1),
    )
    cancellation = Cancellation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("operator-registry-cancellation", args=[cancellation.pk])
    assert (cancellation.units.lower, cancellation.units.upper) == (lower, lower + 2)
    assert cancellation.cancelled_by == scenario.world.operator_user

    result = client.get(response["Location"])
    page = text(result)
    new = Certificate.objects.get(registration=scenario.phones, supersedes=old)
    assert old.code in page
    assert "withdrawn" in page
    assert new.code in page
    assert result.context["reallocated_units"] == 2
    assert len(result.context["revocations"]) == 1
    assert "A-PHONES" in page


def test_a_block_serial_can_name_the_units_to_cancel(scenario: Scenario) -> None:
    batch = scenario.batch2
    first = batch.units.upper - 2
    block = serials.format_block(batch.origin_country, batch.vintage_year, first, first + 1)
    response = client_for(scenario.world.operator_user).post(
        reverse("operator-registry-cancellations"),
        _cancel_post(batch, "review", block=block.lower()),
    )
    preview = response.context["preview"]
    assert (preview.first, preview.last, preview.units_free) == (first, first + 1, 2)
    assert "simply taken out of supply" in text(response)


def test_going_back_from_the_review_keeps_the_entries(scenario: Scenario) -> None:
    lower = scenario.batch1.units.lower
    response = client_for(scenario.world.operator_user).post(
        reverse("operator-registry-cancellations"),
        _cancel_post(scenario.batch1, "edit", first=lower, last=lower + 1),
    )
    page = text(response)
    assert f'value="{lower + 1}"' in page
    assert "Review what this affects" in page
    assert not response.context["form"].errors


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "Enter the first and the last unit number, or a block serial"),
        ({"first": "offset:1", "last": "offset:0"}, "swap them"),
        ({"first": "offset:0", "last": "offset:99"}, "enter numbers inside that range"),
        ({"block": "O4O-GH-2026-0000000001-Z"}, "mistyped"),
        ({"block": "not a serial"}, "not a unit serial"),
        ({"block": "wrong-country"}, "choose the batch that holds the block"),
        ({"first": "offset:0", "last": "offset:0", "explanation": ""}, "Explain the cancellation"),
        ({"first": "offset:0", "last": "offset:0", "reason": "whim"}, "Select a valid choice"),
    ],
)
def test_the_cancellation_form_says_what_to_correct(
    scenario: Scenario, fields: dict[str, str], message: str
) -> None:
    batch = scenario.batch1
    values: dict[str, object] = {}
    for name, value in fields.items():
        if value.startswith("offset:"):
            values[name] = batch.units.lower + int(value.removeprefix("offset:"))
        elif value == "wrong-country":
            values[name] = serials.format_serial("NG", batch.vintage_year, batch.units.lower)
        else:
            values[name] = value
    response = client_for(scenario.world.operator_user).post(
        reverse("operator-registry-cancellations"), _cancel_post(batch, "confirm", **values)
    )
    assert response.status_code == 200
    assert message in text(response)
    assert "Nothing was cancelled." in text(response)
    assert not Cancellation.objects.exists()


def test_units_cancelled_already_cannot_be_cancelled_again(scenario: Scenario) -> None:
    lower = scenario.batch2.units.upper - 1
    client = client_for(scenario.world.operator_user)
    url = reverse("operator-registry-cancellations")
    client.post(url, _cancel_post(scenario.batch2, "confirm", first=lower, last=lower))
    again = client.post(url, _cancel_post(scenario.batch2, "confirm", first=lower, last=lower))
    assert "cancelled already" in text(again)
    assert Cancellation.objects.count() == 1


def test_a_refusal_of_the_action_is_shown_in_the_form(
    scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(**kwargs: object) -> None:
        raise actions.CancellationRefused("some of units 1-2 are cancelled already")

    monkeypatch.setattr(actions, "cancel_units", refuse)
    lower = scenario.batch1.units.lower
    response = client_for(scenario.world.operator_user).post(
        reverse("operator-registry-cancellations"),
        _cancel_post(scenario.batch1, "confirm", first=lower, last=lower),
    )
    page = text(response)
    assert "Some of units 1-2 are cancelled already." in page
    assert "Nothing was cancelled" in page


def test_the_cancel_units_command_cancels_through_the_action(scenario: Scenario) -> None:
    lower = scenario.batch1.units.lower
    arguments = [
        "--actor",
        scenario.world.operator_user.username,
        "--batch",
        str(scenario.batch1.pk),
        "--first",
        str(lower),
        "--last",
        str(lower),
        "--reason",
        "fraud",
        "--explanation",
        "a dummy phone",
    ]
    dry = StringIO()
    call_command("cancel_units", *arguments, "--dry-run", stdout=dry)
    assert "1 allocated" in dry.getvalue()
    assert "dry run" in dry.getvalue()
    assert not Cancellation.objects.exists()

    out = StringIO()
    call_command("cancel_units", *arguments, stdout=out)
    assert Cancellation.objects.get().reason == "fraud"
    assert "units re-allocated: 1" in out.getvalue()
    assert "new certificates: C-" in out.getvalue()
    with pytest.raises(CommandError, match="cancelled already"):
        call_command("cancel_units", *arguments)
    arguments[1] = scenario.world.partner_admin.username
    with pytest.raises(CommandError, match="not operator staff"):
        call_command("cancel_units", *arguments)


# --- reservations -----------------------------------------------------------------------------


def test_the_reservations_page_lists_quotas_and_free_supply(scenario: Scenario) -> None:
    response = client_for(scenario.world.operator_user).get(
        reverse("operator-registry-reservations")
    )
    page = text(response)
    [quota] = response.context["quotas"]
    assert (quota.partner_name, quota.units_remaining) == (scenario.b.name, 2)
    assert "TENDER-1" in page
    assert f"GH {scenario.batch2.vintage_year}: 4" in page


def test_reserving_units_for_a_partner(scenario: Scenario) -> None:
    client = client_for(scenario.world.operator_user)
    response = client.post(
        reverse("operator-registry-reservations"),
        {"partner": scenario.c.pk, "label": " PROG-7 ", "quantity": 3},
        follow=True,
    )
    assert "Reserved 3 units" in text(response)
    block = Reservation.objects.get(partner=scenario.c)
    assert (block.label, block.quantity, block.reserved_by) == (
        "PROG-7",
        3,
        scenario.world.operator_user,
    )


def test_reserving_more_than_is_free_is_refused_unless_fewer_are_accepted(
    scenario: Scenario,
) -> None:
    client = client_for(scenario.world.operator_user)
    url = reverse("operator-registry-reservations")
    refused = client.post(url, {"partner": scenario.c.pk, "label": "BIG", "quantity": 50})
    page = text(refused)
    assert "Only 4 units are free" in page
    assert "reserve fewer" in page
    assert "Nothing was reserved." in page
    assert not Reservation.objects.filter(partner=scenario.c).exists()
    client.post(
        url, {"partner": scenario.c.pk, "label": "BIG", "quantity": 50, "accept_fewer": "on"}
    )
    assert Reservation.objects.get(partner=scenario.c).quantity == 4


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"label": "", "quantity": 1}, "Name the quota"),
        ({"label": "X", "quantity": 0}, "greater than or equal to 1"),
        ({"label": "X", "quantity": 1, "partner": "none"}, "Select a valid choice"),
    ],
)
def test_the_reservation_form_says_what_to_correct(
    scenario: Scenario, fields: dict[str, object], message: str
) -> None:
    data: dict[str, object] = {"partner": scenario.c.pk, **fields}
    if data["partner"] == "none":
        data["partner"] = scenario.world.recycler.pk  # not a partner
    response = client_for(scenario.world.operator_user).post(
        reverse("operator-registry-reservations"), data
    )
    assert message in text(response)
    assert not Reservation.objects.filter(label="X").exists()


def test_releasing_a_quota_gives_its_unallocated_units_back(scenario: Scenario) -> None:
    client = client_for(scenario.world.operator_user)
    response = client.post(
        reverse("operator-registry-release"),
        {"partner": scenario.b.pk, "label": "TENDER-1", "reason": "tender closed"},
        follow=True,
    )
    assert "2 unallocated units went back to supply" in text(response)
    assert not Reservation.objects.filter(released_at__isnull=True).exists()
    assert sum(f.units for f in queries.free_supply()) == 6


def test_a_release_needs_a_reason_and_an_active_quota(scenario: Scenario) -> None:
    client = client_for(scenario.world.operator_user)
    url = reverse("operator-registry-release")
    no_reason = client.post(url, {"partner": scenario.b.pk, "label": "TENDER-1", "reason": ""})
    assert "Say why the reservation is released" in text(no_reason)
    assert "<details open" in text(no_reason)
    unknown = client.post(url, {"partner": scenario.b.pk, "label": "NOPE", "reason": "x"})
    assert "holds no reservation" in text(unknown)
    assert Reservation.objects.filter(released_at__isnull=True).count() == 1


# --- allocation preferences -------------------------------------------------------------------


def test_the_operator_sets_a_partners_preference_from_the_countries_of_issued_batches(
    scenario: Scenario,
) -> None:
    client = client_for(scenario.world.operator_user)
    url = reverse("operator-registry-preference", args=[scenario.a.slug])
    form = client.get(url).context["form"]
    assert [code for code, _ in form.fields["origin_countries"].choices] == ["GH"]
    year = scenario.batch1.vintage_year
    response = client.post(
        url, {"origin_countries": ["GH"], "vintage_years": [str(year)], "strict": "on"}
    )
    assert response.status_code == 302
    preference = AllocationPreference.objects.get(partner=scenario.a)
    assert (preference.origin_countries, preference.vintage_years) == (["GH"], [year])
    assert (preference.strict, preference.allow_partial) == (True, False)
    listing = text(client.get(reverse("operator-registry-preferences")))
    assert "from GH" in listing
    assert "strict" in listing


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"strict": "on"}, "tick a country or a year, or untick strict"),
        ({"origin_countries": ["ZZ"]}, "Select a valid choice"),
    ],
)
def test_the_preference_form_says_what_to_correct(
    scenario: Scenario, fields: dict[str, object], message: str
) -> None:
    response = client_for(scenario.world.operator_user).post(
        reverse("operator-registry-preference", args=[scenario.a.slug]), fields
    )
    assert message in text(response)
    assert "The preference was not saved." in text(response)
    assert not AllocationPreference.objects.exists()


def test_a_partner_administrator_sets_the_partners_own_preference(scenario: Scenario) -> None:
    client = client_for(scenario.b_admin)
    url = reverse("partner-allocation-preference")
    assert client.get(url).status_code == 200
    response = client.post(url, {"origin_countries": ["GH"], "allow_partial": "on"})
    assert response.status_code == 302
    preference = AllocationPreference.objects.get(partner=scenario.b)
    assert preference.updated_by == scenario.b_admin
    assert "Change" in text(client.get(reverse("dashboard")))


def test_partner_members_who_are_not_administrators_only_read_the_preference(
    scenario: Scenario,
) -> None:
    member = factories.make_member(scenario.b, role=Role.MEMBER)
    client = client_for(member)
    assert client.get(reverse("partner-allocation-preference")).status_code == 403
    assert client.post(reverse("partner-allocation-preference"), {}).status_code == 403
    dashboard = text(client.get(reverse("dashboard")))
    assert "Allocation preference" in dashboard
    assert reverse("partner-allocation-preference") not in dashboard


# --- authorisation ----------------------------------------------------------------------------


def _operator_urls(scenario: Scenario) -> list[str]:
    cancellation = actions.cancel_units(
        actor=scenario.world.operator_user,
        batch=scenario.batch2,
        first=scenario.batch2.units.upper - 1,
        last=scenario.batch2.units.upper - 1,
        reason=CancellationReason.OTHER,
        explanation="test",
    ).cancellation
    return [
        reverse("operator-registry-allocation"),
        reverse("operator-registry-allocation-run"),
        reverse("operator-registry-cancellations"),
        reverse("operator-registry-cancellation", args=[cancellation.pk]),
        reverse("operator-registry-reservations"),
        reverse("operator-registry-release"),
        reverse("operator-registry-preferences"),
        reverse("operator-registry-preference", args=[scenario.a.slug]),
    ]


@pytest.mark.parametrize("who", ["partner_admin", "hub_user", "recycler_user", "carrier_user"])
def test_operator_pages_are_closed_to_other_kinds_of_organisation(
    scenario: Scenario, who: str
) -> None:
    client = client_for(getattr(scenario.world, who))
    for url in _operator_urls(scenario):
        assert client.get(url).status_code in (403, 405), url
        assert client.post(url, {"partner": scenario.b.pk, "label": "TENDER-1"}).status_code == 403
    assert Reservation.objects.filter(released_at__isnull=True).count() == 1


def test_operator_pages_send_anonymous_visitors_to_log_in(scenario: Scenario) -> None:
    for url in [*_operator_urls(scenario), reverse("partner-allocation-preference")]:
        for response in (Client().get(url), Client().post(url, {})):
            if response.status_code == 405:  # a POST-only address
                continue
            assert response.status_code == 302, url
            assert response["Location"].startswith(reverse("login"))


def test_read_only_operator_members_see_the_pages_but_change_nothing(scenario: Scenario) -> None:
    viewer = factories.make_member(scenario.world.operator, role=Role.VIEWER)
    client = client_for(viewer)
    assert client.get(reverse("operator-registry-allocation")).status_code == 200
    page = text(client.get(reverse("operator-registry-reservations")))
    assert "Your role is read-only" in page
    posts = {
        reverse("operator-registry-reservations"): {
            "partner": scenario.c.pk,
            "label": "X",
            "quantity": 1,
        },
        reverse("operator-registry-release"): {
            "partner": scenario.b.pk,
            "label": "TENDER-1",
            "reason": "x",
        },
        reverse("operator-registry-cancellations"): _cancel_post(
            scenario.batch2,
            "confirm",
            first=scenario.batch2.units.lower,
            last=scenario.batch2.units.lower,
        ),
        reverse("operator-registry-preference", args=[scenario.a.slug]): {"strict": ""},
        reverse("operator-registry-allocation-run"): {},
    }
    for url, data in posts.items():
        assert client.post(url, data).status_code == 403, url
    assert not Cancellation.objects.exists()
    assert not AllocationPreference.objects.exists()
    assert Reservation.objects.filter(released_at__isnull=True).count() == 1


def test_the_operator_navigation_links_the_registry_pages(scenario: Scenario) -> None:
    page = text(client_for(scenario.world.operator_user).get(reverse("dashboard")))
    for name in (
        "operator-registry-allocation",
        "operator-registry-reservations",
        "operator-registry-cancellations",
        "operator-registry-preferences",
    ):
        assert f'href="{reverse(name)}"' in page
    partner_page = text(client_for(scenario.world.partner_admin).get(reverse("dashboard")))
    assert reverse("operator-registry-allocation") not in partner_page


def test_the_backlog_chart_escapes_partner_names_and_is_left_out_when_nothing_is_owed(
    world: World,
) -> None:
    from oneforone.registry.operator_views import backlog_chart

    assert backlog_chart(queries.backlog()) is None
    partner = factories.make_organisation("partner", name="Tools <&> Phones")
    factories.register(world, quantity=2, partner=partner, actor=factories.make_member(partner))
    chart = str(backlog_chart(queries.backlog()))
    assert "Tools &lt;&amp;&gt; Phones" in chart
    assert "<&>" not in chart
    assert "2 waiting" in chart
