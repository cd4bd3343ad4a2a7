"""The shipment documents API: shipment parties' keys read the code lists and the export;
partners' keys are refused."""

from __future__ import annotations

from django.test import Client

from factories import World, make_member, make_notification, make_organisation
from oneforone.accounts import actions as account_actions
from oneforone.accounts.models import Organisation, OrganisationKind, Role, User
from oneforone.shipments.diwass import ShipmentsExport


def key_of(admin: User, organisation: Organisation) -> dict[str, str]:
    _, raw = account_actions.create_api_key(actor=admin, organisation=organisation, name="docs")
    return {"HTTP_X_API_KEY": raw}


def admin_of(organisation: Organisation) -> User:
    return make_member(organisation, role=Role.ADMIN)


def test_a_hub_key_reads_the_codes_valid_on_a_date(world: World) -> None:
    headers = key_of(admin_of(world.collection_partner), world.collection_partner)
    before = Client().get("/api/v1/shipments/codes?on=2026-12-08&code_list=ewc", **headers)
    after = Client().get("/api/v1/shipments/codes?on=2026-12-09&code_list=ewc", **headers)
    assert before.status_code == 200
    assert "16 06 05" in {row["code"] for row in before.json()}
    assert "16 06 05" not in {row["code"] for row in after.json()}
    wrong = Client().get("/api/v1/shipments/codes?code_list=colours", **headers)
    assert wrong.status_code == 400
    assert "code_list is one of" in wrong.json()["message"]


def test_a_recycler_key_reads_the_export_and_a_partner_key_is_refused(world: World) -> None:
    notification = make_notification(world)
    url = f"/api/v1/shipments/notifications/{notification.number}/export"
    recycler = Client().get(url, **key_of(admin_of(world.recycler), world.recycler))
    partner = Client().get(url, **key_of(world.partner_admin, world.partner))
    assert recycler.status_code == 200
    assert ShipmentsExport.model_validate(
        recycler.json()
    ).notification.block_3_notification.number == (notification.number)
    assert partner.status_code == 401


def test_a_carrier_not_named_gets_not_found(world: World) -> None:
    notification = make_notification(world)
    other = make_organisation(OrganisationKind.CARRIER)
    response = Client().get(
        f"/api/v1/shipments/notifications/{notification.number}/export",
        **key_of(admin_of(other), other),
    )
    assert response.status_code == 404
