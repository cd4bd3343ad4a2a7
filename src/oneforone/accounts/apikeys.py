"""API key format and checking: `o4o_<prefix>_<secret>`, only a hash of the whole key stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets

KEY_PREFIX = "o4o"


def new_key() -> tuple[str, str, str]:
    """Return (full key to show once, lookup prefix, hash to store)."""
    prefix = secrets.token_hex(6)
    key = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    return key, prefix, hash_key(key)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def split_prefix(key: str) -> str | None:
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    return parts[1]


def matches(key: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_key(key), stored_hash)
