"""`{{ value|figure:2 }}`: a Decimal rounded to at most that many places, trailing zeros dropped,
grouped and with the decimal mark of the page's language."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def figure(value: Decimal | int | float | None, places: int = 2) -> str:
    if value is None or value == "":
        return "–"
    rounded = Decimal(value).quantize(Decimal(1).scaleb(-int(places)), ROUND_HALF_UP)
    text = format(rounded.normalize(), "f")
    decimals = len(text.partition(".")[2])
    return number_format(Decimal(text), decimal_pos=decimals, force_grouping=True)
