"""Team members of any organisation: invitations by e-mail (single use, expiring), roles, removal,
and an organisation that always keeps an administrator, even when two demote each other at once."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

import factories
from factories import World, race
from oneforone.accounts import actions
from oneforone.accounts.models import Invitation, Membership, OrganisationKind, Role, User
from oneforone.accounts.permissions import NotAllowed
from oneforone.core.models import AuditEvent

PASSWORD = "a long enough passphrase 42"


def _client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _token_in(message: mail.EmailMessage) -> str:
    [token] = re.findall(r"/invitations/([\w-]+)/", message.body)
    return token


@pytest.fixture
def invite(world: World, django_capture_on_commit_callbacks: Any) -> Callable[..., str]:
    """Invite through the page (committing, so the e-mail goes) and return the link's token."""

    def invite(email: str = "new@example.org", role: str = Role.MEMBER) -> str:
        with django_capture_on_commit_callbacks(execute=True):
            response = _client_for(world.partner_admin).post(
                reverse("team-invite"), {"email": email, "role": role}
            )
        assert response.status_code == 302, response.content.decode()
        return _token_in(mail.outbox[-1])

    return invite


def test_an_admin_invites_by_email_and_the_link_creates_the_member(
    world: World, invite: Callable[..., str]
) -> None:
    token = invite("Ama@Example.org", Role.VIEWER)

    [message] = mail.outbox
    assert message.to == ["Ama@Example.org"]
    assert world.partner.name in message.subject
    invitation = Invitation.objects.get()
    assert token not in invitation.token_hash  # only the hash is stored
    assert invitation.expires_at - invitation.created_at == dt.timedelta(days=7)

    visitor = Client()
    page = visitor.get(reverse("accept-invitation", args=[token]))
    assert page.status_code == 200
    assert world.partner.name in page.content.decode()
    response = visitor.post(
        reverse("accept-invitation", args=[token]),
        {"username": "ama", "password": PASSWORD, "password_again": PASSWORD},
    )
    assert response.status_code == 302
    membership = Membership.objects.get(user__username="ama")
    assert (membership.organisation, membership.role) == (world.partner, Role.VIEWER)
    assert membership.user.email == "Ama@Example.org"
    assert membership.user.check_password(PASSWORD)
    assert visitor.get(reverse("partner-registrations")).status_code == 200  # signed in
    assert list(
        AuditEvent.objects.filter(code__startswith="accounts.invitation").values_list(
            "code", flat=True
        )
    ) == ["accounts.invitation.created", "accounts.invitation.accepted"]


def test_an_invitation_link_works_once(world: World, invite: Callable[..., str]) -> None:
    token = invite()
    url = reverse("accept-invitation", args=[token])
    Client().post(url, {"username": "first", "password": PASSWORD, "password_again": PASSWORD})

    again = Client().post(
        url, {"username": "second", "password": PASSWORD, "password_again": PASSWORD}
    )
    assert again.status_code == 410
    assert "already used" in again.content.decode()
    assert not User.objects.filter(username="second").exists()
    with pytest.raises(actions.InvitationInvalid, match="already used"):
        actions.accept_invitation(actor=None, token=token, username="third", password=PASSWORD)


def test_an_expired_or_withdrawn_invitation_is_refused_and_a_wrong_token_is_unknown(
    world: World, invite: Callable[..., str]
) -> None:
    token = invite("late@example.org")
    Invitation.objects.filter(email="late@example.org").update(
        created_at=timezone.now() - dt.timedelta(days=8),
        expires_at=timezone.now() - dt.timedelta(days=1),
    )
    expired = Client().get(reverse("accept-invitation", args=[token]))
    assert expired.status_code == 410
    assert "expired" in expired.content.decode()
    with pytest.raises(actions.InvitationInvalid, match="expired"):
        actions.accept_invitation(actor=None, token=token, username="late", password=PASSWORD)

    withdrawn_token = invite("maybe@example.org")
    invitation = Invitation.objects.get(email="maybe@example.org")
    actions.revoke_invitation(actor=world.partner_admin, invitation=invitation)
    assert Client().get(reverse("accept-invitation", args=[withdrawn_token])).status_code == 410

    wrong = Client().get(reverse("accept-invitation", args=[token[:-2] + "xx"]))
    assert wrong.status_code == 404
    assert "not valid" in wrong.content.decode()
    assert not User.objects.filter(username__in=["late", "maybe"]).exists()


def test_inviting_again_replaces_the_earlier_link(world: World, invite: Callable[..., str]) -> None:
    first = invite("twice@example.org")
    second = invite("TWICE@example.org", Role.ADMIN)
    assert Client().get(reverse("accept-invitation", args=[first])).status_code == 410
    assert Client().get(reverse("accept-invitation", args=[second])).status_code == 200


def test_the_email_goes_out_only_after_the_invitation_is_committed(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    def invite_then_fail() -> None:
        with transaction.atomic():
            actions.invite_member(
                actor=world.partner_admin,
                organisation=world.partner,
                email="ghost@example.org",
                role=Role.MEMBER,
            )
            raise RuntimeError("the surrounding transaction fails")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError):
            invite_then_fail()
        actions.invite_member(
            actor=world.partner_admin,
            organisation=world.partner,
            email="real@example.org",
            role=Role.MEMBER,
        )
        assert mail.outbox == []  # not before the commit
    assert len(callbacks) == 1
    assert [m.to for m in mail.outbox] == [["real@example.org"]]
    assert list(Invitation.objects.values_list("email", flat=True)) == ["real@example.org"]


def test_a_signed_in_person_without_an_organisation_joins_with_their_account(
    world: World, invite: Callable[..., str]
) -> None:
    token = invite("known@example.org")
    person = User.objects.create_user(username="known", password=PASSWORD)
    client = _client_for(person)
    assert client.post(reverse("accept-invitation", args=[token])).status_code == 302
    assert Membership.objects.get(user=person).organisation == world.partner

    other_token = invite("busy@example.org")
    busy = _client_for(world.hub_user).post(reverse("accept-invitation", args=[other_token]))
    assert busy.status_code == 400
    assert "You already act for" in busy.content.decode()


def test_a_bad_account_choice_says_what_to_fix_and_keeps_the_invitation_open(
    world: World, invite: Callable[..., str]
) -> None:
    token = invite()
    url = reverse("accept-invitation", args=[token])
    taken = Client().post(
        url,
        {
            "username": world.partner_admin.username,
            "password": PASSWORD,
            "password_again": PASSWORD,
        },
    )
    assert taken.status_code == 400
    assert "is taken" in taken.content.decode()
    weak = Client().post(url, {"username": "newbie", "password": "123", "password_again": "123"})
    assert weak.status_code == 400
    assert Invitation.objects.get().accepted_at is None
    assert not User.objects.filter(username="newbie").exists()


def test_only_administrators_change_the_team(world: World) -> None:
    member = factories.make_member(world.partner, role=Role.MEMBER)
    viewer = factories.make_member(world.partner, role=Role.VIEWER)
    membership = Membership.objects.get(user=viewer)
    for person in (member, viewer):
        client = _client_for(person)
        assert client.get(reverse("team")).status_code == 200
        assert client.post(reverse("team-invite"), {"email": "a@example.org"}).status_code == 403
        assert (
            client.post(
                reverse("team-member-role", args=[membership.pk]), {"role": "admin"}
            ).status_code
            == 403
        )
        assert client.post(reverse("team-member-remove", args=[membership.pk])).status_code == 403
    with pytest.raises(NotAllowed):
        actions.invite_member(
            actor=member, organisation=world.partner, email="a@example.org", role=Role.ADMIN
        )
    assert Membership.objects.get(pk=membership.pk).role == Role.VIEWER
    assert mail.outbox == []


def test_an_admin_changes_roles_and_removes_members_of_their_own_organisation_only(
    world: World,
) -> None:
    member = factories.make_member(world.partner)
    membership = Membership.objects.get(user=member)
    other_partner, other_admin = factories.make_partner()
    foreign = Membership.objects.get(user=other_admin)
    client = _client_for(world.partner_admin)

    page = client.get(reverse("team")).content.decode()
    assert member.username in page
    assert other_admin.username not in page
    client.post(reverse("team-member-role", args=[membership.pk]), {"role": "viewer"})
    assert Membership.objects.get(pk=membership.pk).role == Role.VIEWER
    assert (
        client.post(reverse("team-member-role", args=[foreign.pk]), {"role": "viewer"}).status_code
        == 404
    )
    assert client.post(reverse("team-member-remove", args=[foreign.pk])).status_code == 404
    client.post(reverse("team-member-remove", args=[membership.pk]))
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert User.objects.filter(pk=member.pk).exists()  # the account and its history stay
    assert Membership.objects.get(pk=foreign.pk).role == Role.ADMIN
    codes = set(AuditEvent.objects.values_list("code", flat=True))
    assert {"accounts.membership.role_changed", "accounts.membership.removed"} <= codes

    theirs, _ = actions.invite_member(
        actor=other_admin, organisation=other_partner, email="x@example.org", role=Role.MEMBER
    )
    assert client.post(reverse("team-invitation-revoke", args=[theirs.pk])).status_code == 404


@pytest.mark.parametrize("kind", [OrganisationKind.OPERATOR, OrganisationKind.RECYCLER])
def test_every_kind_of_organisation_has_a_team_page(world: World, kind: str) -> None:
    organisation = factories.make_organisation(kind)
    admin = factories.make_member(organisation, role=Role.ADMIN)
    client = _client_for(admin)
    assert client.get(reverse("team")).status_code == 200
    assert (
        client.post(reverse("team-invite"), {"email": "n@example.org", "role": "member"})
    ).status_code == 302


def test_the_last_administrator_can_be_neither_demoted_nor_removed(world: World) -> None:
    admin = Membership.objects.get(user=world.partner_admin)
    with pytest.raises(actions.LastAdministrator):
        actions.change_role(actor=world.partner_admin, membership=admin, role=Role.MEMBER)
    with pytest.raises(actions.LastAdministrator):
        actions.remove_member(actor=world.partner_admin, membership=admin)
    refused = _client_for(world.partner_admin).post(
        reverse("team-member-role", args=[admin.pk]), {"role": "viewer"}, follow=True
    )
    assert "last administrator" in refused.content.decode()
    assert Membership.objects.get(pk=admin.pk).role == Role.ADMIN

    second = factories.make_member(world.partner, role=Role.ADMIN)
    actions.change_role(actor=second, membership=admin, role=Role.MEMBER)  # one admin is left
    assert Membership.objects.filter(organisation=world.partner, role=Role.ADMIN).count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("removal", [False, True])
def test_two_admins_demoting_each_other_at_once_leave_one_admin(removal: bool) -> None:
    factories.ensure_categories()
    for _ in range(5):
        partner = factories.make_organisation(OrganisationKind.PARTNER)
        ama, kofi = (factories.make_member(partner, role=Role.ADMIN) for _ in range(2))
        ama_membership = Membership.objects.get(user=ama)
        kofi_membership = Membership.objects.get(user=kofi)

        def demote(actor: User, membership: Membership) -> Any:
            if removal:
                return lambda: actions.remove_member(actor=actor, membership=membership)
            return lambda: actions.change_role(actor=actor, membership=membership, role="viewer")

        outcomes = race({"ama": demote(ama, kofi_membership), "kofi": demote(kofi, ama_membership)})

        refused = [o for o in outcomes.values() if isinstance(o, NotAllowed)]
        assert len(refused) == 1, outcomes
        assert Membership.objects.filter(organisation=partner, role=Role.ADMIN).count() == 1


@pytest.mark.django_db(transaction=True)
def test_one_invitation_accepted_twice_at_once_makes_one_member() -> None:
    factories.ensure_categories()
    partner = factories.make_organisation(OrganisationKind.PARTNER)
    admin = factories.make_member(partner, role=Role.ADMIN)
    _, token = actions.invite_member(
        actor=admin, organisation=partner, email="both@example.org", role=Role.MEMBER
    )

    def accept(username: str) -> Callable[[], Any]:
        return lambda: actions.accept_invitation(
            actor=None, token=token, username=username, password=PASSWORD
        )

    outcomes = race({"one": accept("one"), "two": accept("two")})

    refused = [o for o in outcomes.values() if isinstance(o, actions.InvitationInvalid)]
    assert len(refused) == 1, outcomes
    assert Membership.objects.filter(organisation=partner).count() == 2  # the admin and one
    assert User.objects.filter(username__in=["one", "two"]).count() == 1
