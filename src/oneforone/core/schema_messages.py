"""Pydantic's validation messages in the active language.

Pydantic writes its messages in English only. The types our schemas can raise are worded here
again, with pydantic's own English text as the msgid: in English nothing changes, in Dutch and
French the catalogue has them. A type not listed keeps pydantic's English message; our own
validators raise ValueError with a message already translated (`Value error, ` is dropped)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.utils.translation import gettext, ngettext


def _count(value: object) -> int:
    return int(value) if isinstance(value, int | str) and str(value).isdigit() else 2


_MESSAGES: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "missing": lambda ctx: gettext("Field required"),
    "extra_forbidden": lambda ctx: gettext("Extra inputs are not permitted"),
    "string_type": lambda ctx: gettext("Input should be a valid string"),
    "int_type": lambda ctx: gettext("Input should be a valid integer"),
    "int_parsing": lambda ctx: gettext(
        "Input should be a valid integer, unable to parse string as an integer"
    ),
    "int_from_float": lambda ctx: gettext(
        "Input should be a valid integer, got a number with a fractional part"
    ),
    "greater_than_equal": lambda ctx: (
        gettext("Input should be greater than or equal to %(ge)s") % {"ge": ctx.get("ge")}
    ),
    "less_than_equal": lambda ctx: (
        gettext("Input should be less than or equal to %(le)s") % {"le": ctx.get("le")}
    ),
    "string_too_short": lambda ctx: (
        ngettext(
            "String should have at least %(min_length)s character",
            "String should have at least %(min_length)s characters",
            _count(ctx.get("min_length")),
        )
        % {"min_length": ctx.get("min_length")}
    ),
    "string_too_long": lambda ctx: (
        ngettext(
            "String should have at most %(max_length)s character",
            "String should have at most %(max_length)s characters",
            _count(ctx.get("max_length")),
        )
        % {"max_length": ctx.get("max_length")}
    ),
    "string_pattern_mismatch": lambda ctx: (
        gettext("String should match pattern '%(pattern)s'") % {"pattern": ctx.get("pattern")}
    ),
    "too_short": lambda ctx: (
        ngettext(
            "List should have at least %(min_length)s item after validation, not %(actual_length)s",
            "List should have at least %(min_length)s items after validation, not %(actual_length)s",
            _count(ctx.get("min_length")),
        )
        % {"min_length": ctx.get("min_length"), "actual_length": ctx.get("actual_length")}
    ),
    "too_long": lambda ctx: (
        ngettext(
            "List should have at most %(max_length)s item after validation, not %(actual_length)s",
            "List should have at most %(max_length)s items after validation, not %(actual_length)s",
            _count(ctx.get("max_length")),
        )
        % {"max_length": ctx.get("max_length"), "actual_length": ctx.get("actual_length")}
    ),
}


def schema_error_message(error: Mapping[str, Any]) -> str:
    """The message of one pydantic error (an item of `ValidationError.errors()`)."""
    wording = _MESSAGES.get(str(error.get("type", "")))
    if wording is not None:
        return wording(error.get("ctx") or {})
    return str(error.get("msg", "not valid")).removeprefix("Value error, ")
