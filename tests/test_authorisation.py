"""Who may open and change what: one rule per route of the URL configuration, checked for every role.

The routes come from the URL configuration itself, so a new page or API endpoint without a rule
here fails `test_every_route_has_an_authorisation_rule`. A rule names the roles that may read (GET)
and change (POST) at the route; every other role must be refused: sent to the login page, 401,
403 or 404 (another partner's object is "not found", never "forbidden").
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from factories import (
    World,
    documents_of,
    imei,
    issue,
    make_member,
    make_partner,
    record_intake,
    register,
)
from oneforone.accounts import actions as account_actions
from oneforone.accounts.models import Role, User
from oneforone.collection import actions as collection_actions
from oneforone.collection.models import Collector, Flag, FlagKind, Intake
from oneforone.partners import upload_actions
from oneforone.partners.models import Conflict, Programme
from oneforone.registry import actions as registry_actions
from oneforone.registry.models import Certificate, LedgerEntry
from oneforone.webhooks import actions as webhook_actions

# Roles ----------------------------------------------------------------------------------------------

ANONYMOUS = "anonymous"
PARTNER_ADMIN = "partner admin"
PARTNER_MEMBER = "partner member"
PARTNER_VIEWER = "partner viewer"
OTHER_PARTNER = "another partner"
OPERATOR = "operator"
COLLECTION = "collection partner"
CARRIER = "carrier"
RECYCLER = "recycler"
ROLES = (
    ANONYMOUS,
    PARTNER_ADMIN,
    PARTNER_MEMBER,
    PARTNER_VIEWER,
    OTHER_PARTNER,
    OPERATOR,
    COLLECTION,
    CARRIER,
    RECYCLER,
)

EVERYONE = frozenset(ROLES)
SIGNED_IN = EVERYONE - {ANONYMOUS}
PARTNER_READERS = frozenset({PARTNER_ADMIN, PARTNER_MEMBER, PARTNER_VIEWER})
PARTNER_WRITERS = frozenset({PARTNER_ADMIN, PARTNER_MEMBER})
ANY_PARTNER = PARTNER_READERS | {OTHER_PARTNER}
ANY_PARTNER_WRITER = PARTNER_WRITERS | {OTHER_PARTNER}
ANY_PARTNER_ADMIN = frozenset({PARTNER_ADMIN, OTHER_PARTNER})
NOBODY: frozenset[str] = frozenset()

# API callers: the X-API-Key of the partner (read and write scopes), of another partner, or none.
API_ROLES = ("no key", "partner key", "other partner key")
API_EVERYONE = frozenset(API_ROLES)
API_PARTNERS = frozenset({"partner key", "other partner key"})
API_OWNER = frozenset({"partner key"})

Kwargs = Callable[["Scene"], dict[str, Any]]
SCENE_MODEL = "Scene Phone 1"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x05" * 80  # the signature is what the photo check reads


@dataclass(frozen=True)
class Rule:
    get: frozenset[str] | None  # roles that may GET; None: the route takes no GET
    post: frozenset[str] | None = None  # roles that may POST; None: the route takes no POST
    kwargs: Kwargs = field(default=lambda scene: {})
    api: bool = False  # an API route: callers are API_ROLES, not signed-in people
    body: str = "{}"  # the API POST's JSON body: valid, so that only authorisation can refuse it


def page(get: frozenset[str] | None, post: frozenset[str] | None = None, **kw: Any) -> Rule:
    return Rule(get=get, post=post, kwargs=kw.get("kwargs", lambda scene: {}))


def api(get: frozenset[str] | None, post: frozenset[str] | None = None, **kw: Any) -> Rule:
    return Rule(
        get=get,
        post=post,
        kwargs=kw.get("kwargs", lambda scene: {}),
        api=True,
        body=kw.get("body", "{}"),
    )


def own(name: str) -> Kwargs:
    return lambda scene: {name: getattr(scene, name)}


def collector(scene: Scene) -> dict[str, Any]:
    """The world's collector (the first one made), for the people routes."""
    first = Collector.objects.order_by("id").first()
    assert first is not None
    return {"code": first.code}


def notification_number(scene: Scene) -> dict[str, Any]:
    """The notification the scene's consignment moves under (issue 6, part "notices")."""
    from oneforone.shipments.models import Consignment

    notification = Consignment.objects.get(reference=scene.reference).notification
    assert notification is not None
    return {"number": notification.number}


def pending_revision(scene: Scene) -> dict[str, Any]:
    """A revision request waiting on the scene's consignment (asked by its hub), made once."""
    from oneforone.shipments import revision_actions
    from oneforone.shipments.models import Consignment, RevisionRequest

    consignment = Consignment.objects.get(reference=scene.reference)
    revision = RevisionRequest.objects.filter(consignment=consignment, status="pending").first()
    if revision is None:
        revision = revision_actions.request_revision(
            actor=consignment.created_by,
            consignment=consignment,
            field="consignment:container_number",
            new_value="MSKU7654321",
            reason="typo in the container number",
        )
    return {"reference": scene.reference, "revision_id": revision.pk}


def published_badge(scene: Scene) -> dict[str, Any]:
    """The scene's partner publishes its badge (through the action), so the public address
    answers; an unpublished badge is "not found" for everyone (test_partner_reporting.py)."""
    from oneforone.accounts.models import Membership, Organisation
    from oneforone.reporting import actions as reporting_actions

    partner = Organisation.objects.get(slug=scene.partner_slug)
    admin = Membership.objects.filter(organisation=partner, role=Role.ADMIN).first()
    assert admin is not None
    reporting_actions.set_badge_published(actor=admin.user, partner=partner, published=True)
    return {"slug": scene.partner_slug}


def computed_figure(scene: Scene) -> dict[str, Any]:
    """The scene's batch computed under the published methodology (at issuance this runs after
    commit, which a test inside one transaction never reaches), so its owner has a figure."""
    from oneforone.accounts.queries import system_user
    from oneforone.impact import actions as impact_actions
    from oneforone.impact.models import MethodologyVersion
    from oneforone.registry.models import IssuanceBatch

    impact_actions.compute_batch(
        actor=system_user(),
        batch=IssuanceBatch.objects.get(pk=scene.batch),
        version=MethodologyVersion.objects.get(number=1),
        reason="authorisation matrix",
    )
    return {"key": "ewaste_mass_kg"}


# The rules -------------------------------------------------------------------------------------------

RULES: dict[str, Rule] = {
    # Public pages and documents: anyone, signed in or not.
    "": page(EVERYONE),
    "login/": page(EVERYONE, EVERYONE),
    "logout/": page(None, EVERYONE),
    "verify/device": page(EVERYONE, EVERYONE),
    "verify/": page(EVERYONE),
    "verify/<str:code>": page(EVERYONE, kwargs=own("code")),
    "verify/<str:code>.pdf": page(EVERYONE, kwargs=own("code")),
    "verify/<str:code>.json": page(EVERYONE, kwargs=own("code")),
    "registry/": page(EVERYONE),
    "registry/batches.csv": page(EVERYONE),
    "registry/batch/<int:pk>": page(EVERYONE, kwargs=lambda s: {"pk": s.batch}),
    "registry/batch/<int:pk>.csv": page(EVERYONE, kwargs=lambda s: {"pk": s.batch}),
    "registry/unit/<str:serial>": page(EVERYONE, kwargs=own("serial")),
    "ledger/": page(EVERYONE),
    "ledger/roots.json": page(EVERYONE),
    "ledger/entry/<str:entry_hash>": page(EVERYONE, kwargs=own("entry_hash")),
    "ledger/entry/<str:entry_hash>.json": page(EVERYONE, kwargs=own("entry_hash")),
    # Signed-in pages for every organisation.
    "dashboard/": page(SIGNED_IN),
    "dashboard/allocation-preference/": page(ANY_PARTNER_ADMIN, ANY_PARTNER_ADMIN),
    # The partner's reporting: its own figures, drill-downs and exports; the badge is public once
    # the partner's administrator publishes it.
    "dashboard/impact/allocations/": page(ANY_PARTNER),
    "dashboard/impact/income/": page(ANY_PARTNER),
    # A figure's drill-down reads the signed-in partner's own units only (another partner gets
    # its own, empty list: tests/test_impact_cards.py).
    "dashboard/impact/figures/<slug:key>/": page(
        ANY_PARTNER, kwargs=lambda s: {"key": "metal_au_recovered_g"}
    ),
    "dashboard/export/<slug:dataset>.csv": page(
        ANY_PARTNER, kwargs=lambda s: {"dataset": "registrations"}
    ),
    "dashboard/export/report.xlsx": page(ANY_PARTNER),
    "dashboard/export/report.json": page(ANY_PARTNER),
    "dashboard/impact-report.pdf": page(ANY_PARTNER),
    "dashboard/badge/": page(None, ANY_PARTNER_ADMIN),
    "dashboard/evidence/": page(ANY_PARTNER),
    "dashboard/evidence/esrs-e5.xlsx": page(ANY_PARTNER),
    "dashboard/evidence/esrs-e5.csv": page(ANY_PARTNER),
    # The scene's registration is of this model: another partner has none of it (404).
    "dashboard/evidence/<str:model>/pack.zip": page(
        PARTNER_READERS, kwargs=lambda scene: {"model": SCENE_MODEL}
    ),
    "badge/<slug:slug>.svg": page(EVERYONE, kwargs=published_badge),
    # The methodology is public; the language choice is everyone's.
    "methodology/": page(EVERYONE),
    "methodology/<int:number>/": page(EVERYONE, kwargs=lambda s: {"number": 1}),
    # The scenario calculator is public, as a page and in the API (no key needed).
    "calculator/": page(EVERYONE),
    "i18n/setlang/": page(None, EVERYONE),
    "jsi18n/": page(EVERYONE),  # the texts of the scripts, in the visitor's language
    # The operator's overview of the whole service.
    "operator/overview/": page(frozenset({OPERATOR})),
    "operator/overview/intakes/": page(frozenset({OPERATOR})),
    "operator/overview/payments/": page(frozenset({OPERATOR})),
    # The partner portal: a partner's own lists; its objects are "not found" for other partners.
    "partner/registrations/": page(ANY_PARTNER),
    "partner/registrations/<int:pk>/": page(
        PARTNER_READERS, kwargs=lambda s: {"pk": s.registration}
    ),
    "partner/upload/": page(ANY_PARTNER, ANY_PARTNER_WRITER),
    "partner/api-keys/": page(ANY_PARTNER, ANY_PARTNER_WRITER),
    "partner/programmes/": page(ANY_PARTNER),
    "partner/programmes/new/": page(ANY_PARTNER, ANY_PARTNER_ADMIN),
    "partner/programmes/<int:pk>/": page(
        PARTNER_READERS, {PARTNER_ADMIN}, kwargs=lambda s: {"pk": s.programme}
    ),
    "partner/registrations.csv": page(ANY_PARTNER),
    "partner/uploads/": page(ANY_PARTNER),
    "partner/uploads/<int:upload_id>/": page(PARTNER_READERS, kwargs=own("upload_id")),
    "partner/uploads/<int:upload_id>/status/": page(PARTNER_READERS, kwargs=own("upload_id")),
    "partner/uploads/<int:upload_id>/report.csv": page(PARTNER_READERS, kwargs=own("upload_id")),
    "partner/certificates/": page(ANY_PARTNER),
    "partner/conflicts/": page(ANY_PARTNER),
    # Teams: every organisation reads its own; its administrators change it. The invitation link
    # is public (its token is the permission); accepting it is tested in test_team.py.
    "team/": page(SIGNED_IN),
    "team/invite": page(None, ANY_PARTNER_ADMIN),
    "team/members/<int:pk>/role": page(
        None, frozenset({PARTNER_ADMIN}), kwargs=lambda s: {"pk": s.membership}
    ),
    "team/members/<int:pk>/remove": page(
        None, frozenset({PARTNER_ADMIN}), kwargs=lambda s: {"pk": s.membership_to_remove}
    ),
    "team/invitations/<int:pk>/revoke": page(
        None, frozenset({PARTNER_ADMIN}), kwargs=lambda s: {"pk": s.invitation}
    ),
    "invitations/<str:token>/": page(EVERYONE, kwargs=lambda s: {"token": s.invitation_token}),
    # Webhooks: every member reads; writing members send test events and redeliver; admins
    # manage endpoints.
    "partner/webhooks/": page(ANY_PARTNER, ANY_PARTNER_ADMIN),
    "partner/webhooks/<int:pk>/": page(
        PARTNER_READERS, frozenset({PARTNER_ADMIN}), kwargs=lambda s: {"pk": s.webhook}
    ),
    "partner/webhooks/<int:pk>/rotate/": page(
        None, frozenset({PARTNER_ADMIN}), kwargs=lambda s: {"pk": s.webhook}
    ),
    "partner/webhooks/<int:pk>/state/": page(
        None, frozenset({PARTNER_ADMIN}), kwargs=lambda s: {"pk": s.webhook}
    ),
    "partner/webhooks/<int:pk>/delete/": page(
        frozenset({PARTNER_ADMIN}), frozenset({PARTNER_ADMIN}), kwargs=lambda s: {"pk": s.webhook}
    ),
    "partner/webhooks/<int:pk>/test/": page(
        None, PARTNER_WRITERS, kwargs=lambda s: {"pk": s.webhook}
    ),
    "partner/webhooks/<int:pk>/deliveries/<int:delivery_id>/": page(
        PARTNER_READERS, kwargs=lambda s: {"pk": s.webhook, "delivery_id": s.webhook_delivery}
    ),
    "partner/webhooks/<int:pk>/deliveries/<int:delivery_id>/redeliver/": page(
        None, PARTNER_WRITERS, kwargs=lambda s: {"pk": s.webhook, "delivery_id": s.webhook_delivery}
    ),
    # Operator staff.
    "conflicts/": page(frozenset({OPERATOR})),
    "conflicts/<int:pk>/": page(
        frozenset({OPERATOR}), frozenset({OPERATOR}), kwargs=lambda s: {"pk": s.conflict}
    ),
    "operator/allocation/": page(EVERYONE),  # a permanent redirect to operator/registry/
    "operator/registry/": page(frozenset({OPERATOR})),
    "operator/registry/allocate/": page(None, frozenset({OPERATOR})),
    "operator/registry/cancellations/": page(frozenset({OPERATOR}), frozenset({OPERATOR})),
    "operator/registry/cancellations/<int:pk>/": page(
        frozenset({OPERATOR}), kwargs=lambda s: {"pk": s.cancellation}
    ),
    "operator/registry/reservations/": page(frozenset({OPERATOR}), frozenset({OPERATOR})),
    "operator/registry/reservations/release/": page(None, frozenset({OPERATOR})),
    "operator/registry/preferences/": page(frozenset({OPERATOR})),
    "operator/registry/preferences/<slug:slug>/": page(
        frozenset({OPERATOR}), frozenset({OPERATOR}), kwargs=lambda s: {"slug": s.partner_slug}
    ),
    # Collection, shipments and recycling.
    "collection/intake/": page(frozenset({COLLECTION}), frozenset({COLLECTION})),
    "collection/lots/": page(frozenset({COLLECTION})),
    "collection/lots/seal/": page(None, frozenset({COLLECTION})),
    "collection/": page(frozenset({COLLECTION, OPERATOR})),  # the operator is sent on to network/
    "collection/network/": page(frozenset({OPERATOR})),
    # Intake records, their photos, corrections and hub device keys.
    "collection/intakes/<uuid:client_uuid>/": page(
        frozenset({COLLECTION, OPERATOR}), kwargs=lambda s: {"client_uuid": s.intake_uuid}
    ),
    "collection/intakes/<uuid:client_uuid>/reverse/": page(
        None, frozenset({COLLECTION, OPERATOR}), kwargs=lambda s: {"client_uuid": s.intake_uuid}
    ),
    "collection/intakes/<uuid:client_uuid>/correct/": page(
        None, frozenset({COLLECTION, OPERATOR}), kwargs=lambda s: {"client_uuid": s.intake_uuid}
    ),
    "collection/photos/<str:sha256>/": page(
        frozenset({COLLECTION, OPERATOR}), kwargs=lambda s: {"sha256": s.photo_sha256}
    ),
    "collection/device-keys/": page(frozenset({COLLECTION}), frozenset({COLLECTION})),
    # Collectors as people (personal data: own partner, or operator staff with a reason; a
    # POST without a reason is a form error, not a refusal) and safe work.
    "collection/collectors/": page(frozenset({COLLECTION, OPERATOR})),
    "collection/collectors/new/": page(frozenset({COLLECTION}), frozenset({COLLECTION})),
    "collection/collectors/<str:code>/": page(frozenset({COLLECTION, OPERATOR}), kwargs=collector),
    **{
        f"collection/collectors/<str:code>/{action}/": page(
            None, frozenset({COLLECTION, OPERATOR}), kwargs=collector
        )
        for action in ("personal-data", "identity", "export", "erase")
    },
    **{
        f"collection/collectors/<str:code>/{record}/": page(
            None, frozenset({COLLECTION}), kwargs=collector
        )
        for record in ("training", "equipment", "conduct", "incident", "follow-up", "active")
    },
    "collection/safe-work/": page(frozenset({COLLECTION, OPERATOR})),
    "collection/safe-work/incident/": page(None, frozenset({COLLECTION})),
    "collection/safe-work/follow-up/": page(None, frozenset({COLLECTION})),
    # Money: the hub pays; partners read their income; operator staff set caps, fees, rates.
    "collection/payments/": page(frozenset({COLLECTION})),
    "collection/payments/pay/": page(None, frozenset({COLLECTION})),
    "collection/payments/<int:payment_id>/reverse/": page(
        None, NOBODY, kwargs=lambda s: {"payment_id": 0}
    ),
    "collection/income/": page(frozenset({OPERATOR, COLLECTION})),
    "collection/price-caps/": page(frozenset({OPERATOR, COLLECTION}), frozenset({OPERATOR})),
    "collection/fee-rates/": page(frozenset({OPERATOR, COLLECTION}), frozenset({OPERATOR})),
    "collection/exchange-rates/": page(frozenset({OPERATOR, COLLECTION}), frozenset({OPERATOR})),
    "collection/network/hubs/new/": page(frozenset({OPERATOR}), frozenset({OPERATOR})),
    "collection/flags/": page(frozenset({OPERATOR})),
    "collection/flags/<int:pk>/resolve/": page(
        None, frozenset({OPERATOR}), kwargs=lambda s: {"pk": s.flag}
    ),
    "collection/hubs/<slug:code>/": page(
        frozenset({COLLECTION, OPERATOR}), kwargs=lambda s: {"code": s.hub_code}
    ),
    "collection/hubs/<slug:code>/settings/": page(
        frozenset({OPERATOR}), frozenset({OPERATOR}), kwargs=lambda s: {"code": s.hub_code}
    ),
    "shipments/": page(frozenset({COLLECTION, CARRIER, RECYCLER, OPERATOR})),
    "shipments/new/": page(None, frozenset({COLLECTION})),
    "shipments/<str:reference>/": page(
        frozenset({COLLECTION, CARRIER, RECYCLER, OPERATOR}), kwargs=own("reference")
    ),
    "shipments/<str:reference>/dispatch/": page(
        None, frozenset({COLLECTION}), kwargs=own("reference")
    ),
    "shipments/<str:reference>/pickup/": page(None, frozenset({CARRIER}), kwargs=own("reference")),
    "recycling/<str:reference>/reception/": page(
        None, frozenset({RECYCLER}), kwargs=own("reference")
    ),
    "recycling/<str:reference>/treatment/": page(
        None, frozenset({RECYCLER}), kwargs=own("reference")
    ),
    "recycling/<str:reference>/assays/": page(
        frozenset({RECYCLER}), frozenset({RECYCLER}), kwargs=own("reference")
    ),
    # API v1: partner endpoints need the partner's key; public ones need none.
    "api/v1/": api(NOBODY),  # Ninja's root: answers 404 outside DEBUG
    "api/v1/openapi.json": api(API_EVERYONE),
    "api/v1/docs": api(API_EVERYONE),
    "api/v1/registrations": api(API_PARTNERS, API_PARTNERS),
    "api/v1/registrations/<registration_id>": api(
        API_OWNER, kwargs=lambda s: {"registration_id": s.registration}
    ),
    "api/v1/registrations/batch": api(None, API_PARTNERS),
    "api/v1/registrations/<registration_id>/devices": api(
        API_OWNER, kwargs=lambda s: {"registration_id": s.registration}
    ),
    "api/v1/registrations/<registration_id>/cancel": api(
        None,
        API_OWNER,
        kwargs=lambda s: {"registration_id": s.cancellable},
        body='{"reason": "order returned"}',
    ),
    "api/v1/programmes": api(API_PARTNERS),
    "api/v1/programmes/<code>": api(API_PARTNERS, kwargs=lambda s: {"code": "general"}),
    "api/v1/conflicts": api(API_PARTNERS),
    "api/v1/impact/versions": api(API_PARTNERS),
    "api/v1/impact/versions/<number>": api(API_PARTNERS, kwargs=lambda s: {"number": 1}),
    "api/v1/impact/figures": api(API_PARTNERS),
    "api/v1/impact/scenario": api(API_EVERYONE),
    # Another partner's scope holds none of the scene's units: its drill-down is "not found".
    "api/v1/impact/figures/<key>": api(API_OWNER, kwargs=computed_figure),
    "api/v1/uploads": api(API_PARTNERS, API_PARTNERS),
    "api/v1/uploads/<upload_id>": api(API_OWNER, kwargs=own("upload_id")),
    "api/v1/uploads/<upload_id>/resume": api(None, API_OWNER, kwargs=own("upload_id")),
    "api/v1/uploads/<upload_id>/report": api(API_OWNER, kwargs=own("upload_id")),
    "api/v1/certificates": api(API_PARTNERS),
    "api/v1/impact": api(API_PARTNERS),
    "api/v1/certificates/<code>": api(API_OWNER, kwargs=own("code")),
    "api/v1/certificates/<code>/pdf": api(API_OWNER, kwargs=own("code")),
    "api/v1/verify/device": api(None, API_EVERYONE),
    "api/v1/public/batches": api(API_EVERYONE),
    "api/v1/public/batches/<batch_id>": api(API_EVERYONE, kwargs=lambda s: {"batch_id": s.batch}),
    "api/v1/public/units/<serial>": api(API_EVERYONE, kwargs=own("serial")),
    "api/v1/public/ledger/roots": api(API_EVERYONE),
    # Hub devices use collection partners' keys (tested in test_collection_sync.py); a partner's
    # key or none is refused.
    "api/v1/collection/sync": api(None, NOBODY),
    "api/v1/collection/photos": api(None, NOBODY),
    "api/v1/collection/hubs/<code>/state": api(NOBODY, kwargs=lambda s: {"code": "any-hub"}),
    # Issue 6, notifications (part "notices"): the parties it names read it; the notifier and the
    # operator record its documents; partners never see it.
    "shipments/notifications/": page(frozenset({COLLECTION, CARRIER, RECYCLER, OPERATOR})),
    "shipments/notifications/new/": page(
        frozenset({COLLECTION, OPERATOR}), frozenset({COLLECTION, OPERATOR})
    ),
    "shipments/notifications/<str:number>/": page(
        frozenset({COLLECTION, CARRIER, RECYCLER, OPERATOR}), kwargs=notification_number
    ),
    "shipments/notifications/<str:number>/<slug:document>/": page(
        frozenset({COLLECTION, OPERATOR}),
        frozenset({COLLECTION, OPERATOR}),
        kwargs=lambda s: {**notification_number(s), "document": "contract"},
    ),
    # Issue 6, documents: the code lists, PDFs, export and attachments are for the shipment
    # parties (the notification's hub, carrier and recycler) and the operator; never partners.
    "shipments/codes/": page(frozenset({COLLECTION, CARRIER, RECYCLER, OPERATOR})),
    "shipments/notifications/<str:number>/pdf/": page(
        frozenset({COLLECTION, CARRIER, RECYCLER, OPERATOR}),
        kwargs=lambda s: {"number": documents_of(s.reference).notification.number},
    ),
    "shipments/notifications/<str:number>/export.json": page(
        frozenset({COLLECTION, CARRIER, RECYCLER, OPERATOR}),
        kwargs=lambda s: {"number": documents_of(s.reference).notification.number},
    ),
    "shipments/notifications/<str:number>/attachments/": page(
        frozenset({COLLECTION, CARRIER, RECYCLER, OPERATOR}),
        frozenset({COLLECTION, CARRIER, RECYCLER, OPERATOR}),
        kwargs=lambda s: {"number": documents_of(s.reference).notification.number},
    ),
    "shipments/notifications/<str:number>/attachments/<int:pk>/": page(
        frozenset({COLLECTION, CARRIER, RECYCLER, OPERATOR}),
        kwargs=lambda s: {
            "number": documents_of(s.reference).notification.number,
            "pk": documents_of(s.reference).pk,
        },
    ),
    # Shipment parties' API keys only (tested in test_documents_api.py): partners' refused.
    "api/v1/shipments/codes": api(NOBODY),
    "api/v1/shipments/notifications/<number>/export": api(
        NOBODY, kwargs=lambda s: {"number": documents_of(s.reference).notification.number}
    ),
    "shipments/<str:reference>/movement-document.pdf": page(
        frozenset({COLLECTION, CARRIER, RECYCLER, OPERATOR}),
        kwargs=lambda s: {"reference": documents_of(s.reference).notification.consignments.get()},
    ),
    # Issue 6, movement documents and custody: signing parties post; partners never see shipments.
    "shipments/<str:reference>/handover/": page(
        None, frozenset({CARRIER}), kwargs=own("reference")
    ),
    "shipments/<str:reference>/receipt/": page(
        None, frozenset({RECYCLER}), kwargs=own("reference")
    ),
    "shipments/<str:reference>/revisions/": page(
        None, frozenset({COLLECTION, CARRIER, RECYCLER}), kwargs=own("reference")
    ),
    "shipments/<str:reference>/revisions/<int:revision_id>/answer/": page(
        None, frozenset({COLLECTION, CARRIER, RECYCLER}), kwargs=pending_revision
    ),
    "api/v1/shipments/consignments": api(NOBODY),
    "api/v1/shipments/consignments/<reference>": api(NOBODY, kwargs=own("reference")),
    "api/v1/shipments/consignments/<reference>/revisions": api(
        None, NOBODY, kwargs=own("reference")
    ),
    # Issue 6, deadlines: the parties to the movements and the operator; partners never.
    "shipments/deadlines/": page(frozenset({COLLECTION, CARRIER, RECYCLER, OPERATOR})),
    "shipments/deadlines/met/": page(None, frozenset({COLLECTION, CARRIER, RECYCLER, OPERATOR})),
    "shipments/deadlines/departure/": page(None, frozenset({COLLECTION})),
}


def routes(patterns: list[Any] | None = None, prefix: str = "") -> Iterator[str]:
    """Every route of the URL configuration but Django's admin (staff only, its own checks)."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if route != "admin/":
                yield from routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route


def test_every_route_has_an_authorisation_rule() -> None:
    missing = sorted(set(routes()) - set(RULES))
    assert not missing, (
        "routes without an authorisation rule in tests/test_authorisation.py: " + ", ".join(missing)
    )


def test_every_rule_names_a_route_that_exists() -> None:
    assert not sorted(set(RULES) - set(routes()))


# The scene: one object of each kind, owned by the world's partner ------------------------------------


@dataclass
class Scene:
    registration: int
    programme: int
    code: str
    conflict: int
    batch: int
    serial: str
    entry_hash: str
    cancellation: int
    partner_slug: str
    reference: str
    cancellable: int
    webhook: int
    webhook_delivery: int
    upload_id: int
    membership: int
    membership_to_remove: int
    invitation: int
    invitation_token: str
    flag: int
    hub_code: str
    intake_uuid: str
    photo_sha256: str


def build_scene(world: World) -> Scene:
    registration = register(
        world, imeis=[imei(901), imei(902), imei(903)], product_model=SCENE_MODEL
    )
    other, other_admin = make_partner()
    register(world, partner=other, actor=other_admin, imeis=[imei(901)])
    batch = issue(world, 10)
    registry_actions.allocate(actor=world.operator_user)
    certificate = Certificate.objects.get(registration=registration)
    last_unit = batch.units.upper - 1  # not allocated: 3 of 10 units went to the registration
    cancellation = registry_actions.cancel_units(
        actor=world.operator_user,
        batch=batch,
        first=last_unit,
        last=last_unit,
        reason="count_corrected",
        explanation="counted twice at reception",
    )
    invitation, token = account_actions.invite_member(
        actor=world.partner_admin,
        organisation=world.partner,
        email="new.colleague@example.org",
        role=Role.MEMBER,
    )
    endpoint, _ = webhook_actions.create_endpoint(
        actor=world.partner_admin,
        organisation=world.partner,
        url="http://127.0.0.1:9/hook",
        events=["registration.accepted"],
    )
    delivery = webhook_actions.send_test_event(actor=world.partner_admin, endpoint=endpoint)
    upload = upload_actions.create_upload(
        actor=world.partner_admin,
        partner=world.partner,
        file=io.BytesIO(b"reference,category,quantity\nUP-1,phone,2\n"),
        name="orders.csv",
        mode="accept_valid",
    )
    upload_actions.run_upload(upload.pk)  # the task runs after commit, which a test never reaches
    photo = collection_actions.store_photo(
        actor=world.hub_user, hub=world.hub, data=PNG, content_type="image/png"
    )
    photographed = record_intake(world, phones=3, photos=[photo.sha256])
    return Scene(
        upload_id=upload.pk,
        cancellable=register(world, quantity=1).pk,
        webhook=endpoint.pk,
        webhook_delivery=delivery.pk,
        membership=make_member(world.partner, role=Role.VIEWER).memberships.get().pk,
        membership_to_remove=make_member(world.partner, role=Role.VIEWER).memberships.get().pk,
        invitation=invitation.pk,
        invitation_token=token,
        registration=registration.pk,
        programme=Programme.objects.get(partner=world.partner, is_default=True).pk,
        code=certificate.code,
        conflict=Conflict.objects.get().pk,
        batch=batch.pk,
        serial=batch.block_of(batch.units.lower, batch.units.lower + 1),
        entry_hash=LedgerEntry.objects.order_by("id").values_list("entry_hash", flat=True)[0],
        cancellation=cancellation.cancellation.pk,
        partner_slug=world.partner.slug,
        reference=batch.consignment.reference,
        flag=Flag.objects.create(
            kind=FlagKind.OUTSIDE_HOURS,
            hub=world.hub,
            intake=Intake.objects.filter(hub=world.hub).first(),
            evidence={},
            raised_at=timezone.now(),
        ).pk,
        hub_code=world.hub.code,
        intake_uuid=str(photographed.client_uuid),
        photo_sha256=photo.sha256,
    )


# Checking ---------------------------------------------------------------------------------------------

DENIED = {401, 403, 404}


def refused(response: Any) -> bool:
    login = response.status_code == 302 and response["Location"].startswith("/login/")
    return login or response.status_code in DENIED


def people(world: World) -> dict[str, User | None]:
    other_admin = make_partner()[1]
    return {
        ANONYMOUS: None,
        PARTNER_ADMIN: world.partner_admin,
        PARTNER_MEMBER: make_member(world.partner, role=Role.MEMBER),
        PARTNER_VIEWER: make_member(world.partner, role=Role.VIEWER),
        OTHER_PARTNER: other_admin,
        OPERATOR: world.operator_user,
        COLLECTION: world.hub_user,
        CARRIER: world.carrier_user,
        RECYCLER: world.recycler_user,
    }


def api_keys(world: World, other_admin: User) -> dict[str, dict[str, str]]:
    _, partner_key = account_actions.create_api_key(
        actor=world.partner_admin, organisation=world.partner, name="matrix"
    )
    other = other_admin.memberships.get().organisation
    _, other_key = account_actions.create_api_key(actor=other_admin, organisation=other, name="m")
    return {
        "no key": {},
        "partner key": {"HTTP_X_API_KEY": partner_key},
        "other partner key": {"HTTP_X_API_KEY": other_key},
    }


def url_of(route: str, kwargs: dict[str, Any]) -> str:
    path = route
    for name, value in kwargs.items():
        for converter in ("", "int:", "str:", "slug:", "uuid:"):
            path = path.replace(f"<{converter}{name}>", str(value))
    assert "<" not in path, f"no value for a parameter of {route}"
    return "/" + path


def test_every_route_answers_each_role_as_its_rule_says(world: World) -> None:
    scene = build_scene(world)
    users = people(world)
    keys = api_keys(world, users[OTHER_PARTNER])  # type: ignore[arg-type]
    wrong: list[str] = []
    for route in routes():
        rule = RULES[route]
        url = url_of(route, rule.kwargs(scene))
        callers: dict[str, tuple[Client, dict[str, str]]] = {}
        if rule.api:
            callers = {name: (Client(), headers) for name, headers in keys.items()}
        else:
            for name, user in users.items():
                client = Client()
                if user is not None:
                    client.force_login(user)
                callers[name] = (client, {})
        for method, allowed in (("GET", rule.get), ("POST", rule.post)):
            if allowed is None:
                continue
            for name, (client, headers) in callers.items():
                if method == "GET":
                    response = client.get(url, **headers)
                else:
                    response = (
                        client.post(url, data=rule.body, content_type="application/json", **headers)
                        if rule.api
                        else client.post(url, {}, **headers)
                    )
                if (name in allowed) == refused(response):
                    wrong.append(
                        f"{method} {url} as {name}: {response.status_code} "
                        f"({'should be allowed' if name in allowed else 'should be refused'})"
                    )
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("route", sorted(RULES))
def test_a_rule_says_which_methods_it_checks(route: str) -> None:
    rule = RULES[route]
    assert rule.get is not None or rule.post is not None
