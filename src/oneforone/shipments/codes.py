"""The dated code lists: a document uses the codes valid on its date."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils.translation import gettext

from oneforone.shipments.code_data import CODE_ENTRIES
from oneforone.shipments.models import Code, CodeList


class CodeError(ValueError):
    """A code that does not exist in its list, or is used outside its validity."""


def valid_on(code_list: str, on: dt.date) -> Q:
    """The filter for the entries of a list valid on a day."""
    return (
        Q(code_list=code_list)
        & (Q(valid_from__isnull=True) | Q(valid_from__lte=on))
        & (Q(valid_to__isnull=True) | Q(valid_to__gte=on))
    )


def require_code(code_list: str, code: str, *, on: dt.date) -> Code:
    """The entry of `code` valid on `on`; a code used outside its validity is refused with a
    message that names its replacement (or the date it starts)."""
    wanted = code.strip()
    entry = Code.objects.filter(valid_on(code_list, on), code=wanted).first()
    if entry is not None:
        return entry
    list_name = CodeList(code_list).label
    versions = list(Code.objects.filter(code_list=code_list, code=wanted))
    if not versions:
        raise CodeError(
            gettext("%(code)s is not in the %(list)s") % {"code": wanted, "list": list_name}
        )
    day = f"{on:%Y-%m-%d}"
    ended = [v for v in versions if v.valid_to is not None and v.valid_to < on]
    if ended:
        last = max(ended, key=lambda v: v.valid_to or on)
        until = f"{last.valid_to:%Y-%m-%d}"
        if last.replaced_by:
            raise CodeError(
                gettext(
                    "%(code)s (%(list)s) was valid until %(until)s, not on %(day)s; use "
                    "%(replacement)s instead"
                )
                % {
                    "code": wanted,
                    "list": list_name,
                    "until": until,
                    "day": day,
                    "replacement": last.replaced_by,
                }
            )
        raise CodeError(
            gettext("%(code)s (%(list)s) was valid until %(until)s, not on %(day)s")
            % {"code": wanted, "list": list_name, "until": until, "day": day}
        )
    first = min(versions, key=lambda v: v.valid_from or on)
    raise CodeError(
        gettext("%(code)s (%(list)s) is valid from %(since)s, not on %(day)s")
        % {"code": wanted, "list": list_name, "since": f"{first.valid_from:%Y-%m-%d}", "day": day}
    )


def ensure_code_lists() -> int:
    """Insert every entry of the shipped code lists that the table lacks; returns how many.

    Idempotent: the seeding migration, the demo and the tests (after a flush) all call it.
    """
    present = set(Code.objects.values_list("code_list", "code", "valid_from"))
    missing = [
        Code(**entry._asdict())
        for entry in CODE_ENTRIES
        if (entry.code_list, entry.code, entry.valid_from) not in present
    ]
    Code.objects.bulk_create(missing)
    return len(missing)


def codes_valid_on(code_list: str, on: dt.date) -> list[Code]:
    """The entries of a list a document dated `on` may use, for choosing in a form."""
    return list(Code.objects.filter(valid_on(code_list, on)).order_by("code"))
