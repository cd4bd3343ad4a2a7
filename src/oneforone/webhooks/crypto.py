"""Signing secrets at rest: encrypted with Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`).

A webhook secret cannot be stored as a hash like an API key: the sender needs it in clear to sign
every delivery. Encrypting it with a key kept outside the database means a copy of the database
(a backup, a read replica, an SQL injection) does not hand out every partner's signing secret.
The keys come from settings.WEBHOOK_SECRET_KEYS: the first encrypts, all decrypt, so a key can be
rotated by putting a new one first and re-encrypting (`reencrypt`).
"""

from __future__ import annotations

import secrets

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings

SECRET_PREFIX = "whsec_"  # noqa: S105 - a marker, not a secret


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in settings.WEBHOOK_SECRET_KEYS])


def encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def decrypt(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()


def reencrypt(token: str) -> str:
    """The same secret under the first (newest) key."""
    return _fernet().rotate(token.encode()).decode()
