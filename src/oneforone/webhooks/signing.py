"""How a delivery is signed, and how a receiver checks it.

Header:  Oneforone-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>

The timestamp is signed with the body, so a captured request cannot be replayed later than the
receiver's tolerance. During a secret rotation a header may carry several v1 values.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "Oneforone-Signature"
EVENT_HEADER = "Oneforone-Event"
DELIVERY_HEADER = "Oneforone-Delivery"
DEFAULT_TOLERANCE = 300  # seconds


def sign(secret: str, body: bytes, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return digest.hexdigest()


def signature_header(secret: str, body: bytes, timestamp: int) -> str:
    return f"t={timestamp},v1={sign(secret, body, timestamp)}"


class InvalidSignature(Exception):
    """The request was not signed with this secret, or not recently; the message says which."""


def verify_signature(
    secret: str,
    header: str,
    body: bytes,
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> int:
    """Check a received request; return its timestamp or raise InvalidSignature.

    `body` must be the raw bytes received, before any JSON parsing."""
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            signatures.append(value)
    if timestamp is None or not signatures:
        raise InvalidSignature(f"malformed {SIGNATURE_HEADER} header: expected t=...,v1=...")
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise InvalidSignature(
            f"timestamp {timestamp} is more than {tolerance} s from now: stale or replayed"
        )
    expected = sign(secret, body, timestamp)
    if not any(hmac.compare_digest(expected, s) for s in signatures):
        raise InvalidSignature("no signature matches: wrong secret or altered body")
    return timestamp
