"""Collectors' personal data at rest: Fernet-encrypted, keys outside the database.

A copy of the database (a backup, a replica, an export of a table) shows a collector's code,
counts and payments, never who the person is. Keys come from settings.PERSONAL_DATA_KEYS: the
first encrypts, all decrypt, so a key can be rotated by putting a new one first.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings


def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in settings.PERSONAL_DATA_KEYS])


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode() if value else ""


def decrypt(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode() if token else ""


@dataclass(frozen=True)
class Person:
    """A collector's personal data in clear, only ever in memory."""

    name: str
    phone: str
    mobile_money: str = ""


def rotate(token: str) -> str:
    """The same value encrypted with the first key, whichever key encrypted it before."""
    return _fernet().rotate(token.encode()).decode() if token else ""
