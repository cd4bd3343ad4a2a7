"""The partner portal's programme pages."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from factories import World, make_member, make_partner, make_programme, register
from oneforone.accounts.models import Role, User
from oneforone.partners.models import Programme


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_programmes_page_shows_each_programme_with_its_figures(world: World) -> None:
    register(world, quantity=7)
    make_programme(world.partner, code="tender-a", mode="public_tender", quota=500)

    page = signed_in(world.partner_admin).get(reverse("partner-programmes"))

    html = page.content.decode()
    assert page.status_code == 200
    assert "general" in html
    assert "tender-a" in html
    assert "of 500" in html
    assert ">7<" in html  # devices registered under the default programme


def test_an_admin_creates_a_tender_programme_and_sees_what_is_missing(world: World) -> None:
    client = signed_in(world.partner_admin)
    form = {
        "code": "ministry-2027",
        "name": "Ministry tender",
        "activation_mode": "public_tender",
        "price_per_unit": "4.10",
        "currency": "eur",
        "starts_on": "2026-01-01",
        "claim_wording": "One for one.",
    }

    refused = client.post(reverse("partner-programme-new"), form)
    assert refused.status_code == 200
    assert "needs its contracting authority, tender reference and quota" in refused.content.decode()
    assert not Programme.objects.filter(code="ministry-2027").exists()

    created = client.post(
        reverse("partner-programme-new"),
        {**form, "contracting_authority": "Ministry", "tender_reference": "T-1", "quota": "900"},
    )
    programme = Programme.objects.get(partner=world.partner, code="ministry-2027")
    assert created.status_code == 302
    assert created["Location"] == reverse("partner-programme", args=[programme.pk])
    assert programme.currency == "EUR"


def test_a_member_reads_programmes_but_only_an_admin_changes_them(world: World) -> None:
    member = make_member(world.partner, role=Role.MEMBER)
    programme = Programme.objects.get(partner=world.partner, code="general")
    client = signed_in(member)

    assert client.get(reverse("partner-programme", args=[programme.pk])).status_code == 200
    response = client.post(
        reverse("partner-programme", args=[programme.pk]),
        {"name": "Renamed", "claim_wording": "x"},
    )
    assert response.status_code == 403
    programme.refresh_from_db()
    assert programme.name != "Renamed"


def test_a_partner_never_sees_another_partners_programme(world: World) -> None:
    other, _ = make_partner()
    foreign = Programme.objects.get(partner=other)

    client = signed_in(world.partner_admin)

    assert client.get(reverse("partner-programme", args=[foreign.pk])).status_code == 404
    assert foreign.code not in client.get(reverse("partner-programmes")).content.decode() or (
        foreign.code == "general"
    )


def test_the_default_programme_can_be_switched(world: World) -> None:
    second = make_programme(world.partner, code="second")

    signed_in(world.partner_admin).post(
        reverse("partner-programme", args=[second.pk]), {"make_default": "1"}
    )

    second.refresh_from_db()
    assert second.is_default


def test_a_registration_is_cancelled_from_its_page_before_allocation(world: World) -> None:
    registration = register(world, quantity=2)
    client = signed_in(world.partner_admin)
    url = reverse("partner-registration", args=[registration.pk])
    assert 'data-testid="cancel"' in client.get(url).content.decode()

    response = client.post(url, {"reason": "order returned"}, follow=True)

    registration.refresh_from_db()
    assert registration.cancelled_at is not None
    assert registration.units_owed == 0
    html = response.content.decode()
    assert "cancelled: it owes nothing now" in html
    assert 'data-testid="cancel"' not in html
    listed = client.get(reverse("partner-registrations"), {"state": "cancelled"}).content.decode()
    assert registration.reference in listed


def test_registrations_are_filtered_by_programme(world: World) -> None:
    make_programme(world.partner, code="business")
    plain = register(world, quantity=1)
    client = signed_in(world.partner_admin)

    listed = client.get(reverse("partner-registrations"), {"programme": "business"})

    assert plain.reference not in listed.content.decode()
    assert client.get(reverse("partner-registrations"), {"programme": "general"}).status_code == 200


def test_a_viewer_sees_no_cancel_form(world: World) -> None:
    registration = register(world, quantity=1)
    viewer = make_member(world.partner, role=Role.VIEWER)

    page = signed_in(viewer).get(reverse("partner-registration", args=[registration.pk]))

    assert 'data-testid="cancel"' not in page.content.decode()
