from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OrganisationKind(models.TextChoices):
    OPERATOR = "operator", _("Operator")
    PARTNER = "partner", _("Partner")
    COLLECTION_PARTNER = "collection_partner", _("Collection partner")
    CARRIER = "carrier", _("Carrier")
    RECYCLER = "recycler", _("Recycler")
    AUDITOR = "auditor", _("Auditor")


class Organisation(models.Model):
    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    kind = models.CharField(max_length=20, choices=OrganisationKind.choices)
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=OrganisationKind.values), name="organisation_kind_known"
            ),
            models.CheckConstraint(
                condition=models.Q(country__regex=r"^[A-Z]{2}$"), name="organisation_country_iso"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A person; what they may do comes from their memberships."""

    language = models.CharField(
        max_length=8,
        blank=True,
        default="",
        choices=settings.LANGUAGES,
        help_text="the language of the e-mails to this person; empty: the site's default",
    )

    @property
    def email_language(self) -> str:
        return self.language or settings.LANGUAGE_CODE


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    MEMBER = "member", _("Member")
    VIEWER = "viewer", _("Viewer (read only)")


class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organisation"], name="membership_once"),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="membership_role"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organisation} ({self.role})"

    @property
    def can_write(self) -> bool:
        return self.role in (Role.ADMIN, Role.MEMBER)


class ApiKeyScope(models.TextChoices):
    READ = "read", _("Read only")
    WRITE = "write", _("Read and write")


class ApiKey(models.Model):
    """A partner's API key: only a SHA-256 of the secret is kept; the key is shown once.

    A key works until it is revoked or, after a rotation, until `expires_at` (the overlap that
    lets the integrator deploy the new key)."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    scope = models.CharField(max_length=10, choices=ApiKeyScope.choices, default=ApiKeyScope.WRITE)
    expires_at = models.DateTimeField(null=True, blank=True)
    rotated_from = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rotated_to",
        help_text="the key this one replaced",
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(scope__in=ApiKeyScope.values), name="api_key_scope_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.display_prefix}… ({self.name})"

    @property
    def display_prefix(self) -> str:
        """The public part that tells keys apart: the start of the key itself."""
        return f"o4o_{self.prefix}"

    @property
    def can_write(self) -> bool:
        return self.scope == ApiKeyScope.WRITE


class Invitation(models.Model):
    """An e-mailed offer to join an organisation with a role; only a SHA-256 of its token is kept.

    Open until accepted (once), revoked or expired; at most one open invitation per address."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField()
    role = models.CharField(max_length=10, choices=Role.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    language = models.CharField(
        max_length=8,
        default=settings.LANGUAGE_CODE,
        choices=settings.LANGUAGES,
        help_text="the inviting person's language: the e-mail is written in it",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="invitation_role"
            ),
            models.CheckConstraint(
                condition=models.Q(accepted_at__isnull=True, accepted_by__isnull=True)
                | models.Q(accepted_at__isnull=False, accepted_by__isnull=False),
                name="invitation_accepted_by_someone",
            ),
            models.CheckConstraint(
                condition=models.Q(accepted_at__isnull=True) | models.Q(revoked_at__isnull=True),
                name="invitation_accepted_or_revoked",
            ),
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("created_at")),
                name="invitation_expires_later",
            ),
            models.UniqueConstraint(
                "organisation",
                Lower("email"),
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_open_once",
            ),
        ]

    def __str__(self) -> str:
        return f"invitation of {self.email} to {self.organisation} ({self.role})"

    @property
    def is_open(self) -> bool:
        return (
            self.accepted_at is None
            and self.revoked_at is None
            and self.expires_at > timezone.now()
        )
