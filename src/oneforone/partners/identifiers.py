"""Device identifiers: an IMEI, or a serial number for a device without one.

Only a keyed hash of an identifier is ever stored: `HMAC-SHA256(key, "{kind}:{normalised}")` with
`settings.DEVICE_IDENTIFIER_KEY`. Without the key a hash cannot be tested against guessed IMEIs,
and with the key the same device always gives the same hash, so a second claim is found. The key
must therefore never change (there is no clear identifier to hash again); error messages here never
repeat the identifier either, so it cannot end up in a log.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from stdnum import imei, luhn
from stdnum.exceptions import ValidationError as StdnumError


class DeviceKind(models.TextChoices):
    IMEI = "imei", "IMEI"
    SERIAL = "serial", "serial number"


class InvalidIdentifier(ValueError):
    """The identifier is malformed; the message says what is wrong without repeating it."""


_SERIAL = re.compile(r"^[A-Z0-9\-/.]{4,40}$")


def _check_digit_wrong() -> InvalidIdentifier:
    return InvalidIdentifier(
        gettext("the check digit (the last digit) does not match the other 14: a typing error?")
    )


def kind_name(kind: str) -> str:
    """The kind of identifier as a sentence names it, in the active language."""
    return gettext("IMEI") if kind == DeviceKind.IMEI else gettext("serial number")


# A digit doubled, its two digits summed (Luhn): 5 -> 10 -> 1.
_DOUBLED = str.maketrans("0123456789", "0246813579")


def _luhn_valid(digits: str) -> bool:
    """python-stdnum's Luhn test (luhn.is_valid) for a string of ASCII digits, without its
    generic-alphabet overhead: a bulk upload checks a million IMEIs, and stdnum's generators were
    a third of the time validating one. The digits are summed as their ASCII codes (one C loop,
    no int() per digit), less 48 ("0") each. tests/test_uploads.py proves the two agree."""
    kept_and_doubled = digits[-1::-2] + digits[-2::-2].translate(_DOUBLED)
    return (sum(kept_and_doubled.encode()) - 48 * len(digits)) % 10 == 0


def normalise_imei(value: str) -> str:
    """The 15 digits of a valid IMEI; spaces and dashes are dropped, the Luhn check digit tested."""
    if len(value) == 15 and value.isascii() and value.isdigit():
        # Already in canonical form (nearly every IMEI of a file): stdnum's compact would return
        # it unchanged, and the checks below come down to the check digit.
        if _luhn_valid(value):
            return value
        raise _check_digit_wrong()
    number = imei.compact(value)
    if not number:
        raise InvalidIdentifier(gettext("empty"))
    if not number.isdigit():
        raise InvalidIdentifier(
            gettext("only digits are allowed (and spaces or dashes between them)")
        )
    if len(number) == 16:
        raise InvalidIdentifier(
            gettext(
                "16 digits is an IMEISV (IMEI with software version), not an IMEI: "
                "give the 15-digit IMEI (dial *#06# or see the box)"
            )
        )
    if len(number) == 14:
        raise InvalidIdentifier(
            gettext("14 digits: the IMEI's 15th digit, its check digit, is missing")
        )
    if len(number) != 15:
        raise InvalidIdentifier(
            gettext("%(digits)s digits; an IMEI has 15") % {"digits": len(number)}
        )
    try:
        luhn.validate(number)
    except StdnumError:
        raise _check_digit_wrong() from None
    return number


def normalise_serial(value: str) -> str:
    """A serial number stripped and upper-cased: 4 to 40 of A-Z, 0-9, '-', '/' and '.'."""
    serial = value.strip().upper()
    if not serial:
        raise InvalidIdentifier(gettext("empty"))
    if not 4 <= len(serial) <= 40:
        raise InvalidIdentifier(
            gettext("%(characters)s characters; a serial number has 4 to 40")
            % {"characters": len(serial)}
        )
    if not _SERIAL.match(serial):
        raise InvalidIdentifier(
            gettext("only letters A-Z, digits and the characters - / . are allowed")
        )
    return serial


def normalise(kind: str, value: str) -> str:
    if kind == DeviceKind.IMEI:
        return normalise_imei(value)
    if kind == DeviceKind.SERIAL:
        return normalise_serial(value)
    raise ValueError(f"unknown device identifier kind {kind!r}")


def identifier_hash(kind: str, normalised: str) -> str:
    """The keyed hash stored for an identifier already normalised (64 hex characters)."""
    key = settings.DEVICE_IDENTIFIER_KEY
    if not key:
        raise RuntimeError("settings.DEVICE_IDENTIFIER_KEY is not set")
    message = f"{kind}:{normalised}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def identifier_hasher() -> Callable[[str, str], str]:
    """identifier_hash for many identifiers: the key encoded once, one C call per identifier."""
    key = settings.DEVICE_IDENTIFIER_KEY
    if not key:
        raise RuntimeError("settings.DEVICE_IDENTIFIER_KEY is not set")
    encoded = key.encode()

    def hashed(kind: str, normalised: str) -> str:
        return hmac.digest(encoded, f"{kind}:{normalised}".encode(), "sha256").hex()

    return hashed
