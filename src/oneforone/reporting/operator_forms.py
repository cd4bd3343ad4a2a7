"""The period filter of the operator's overview, read from the query string."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

DEFAULT_DAYS = 90
MAX_DAYS = 3 * 366
FULL_WIDTH = {"style": "width:100%;min-width:0"}  # the filter fits a 375 px screen


class PeriodForm(forms.Form):
    start = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date", **FULL_WIDTH}),
    )
    end = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date", **FULL_WIDTH})
    )
    by = forms.ChoiceField(
        label=_("Per"),
        choices=[("week", _("week")), ("month", _("month"))],
        required=False,
        widget=forms.Select(attrs=FULL_WIDTH),
    )

    def __init__(self, data: Any = None, *, today: dt.date) -> None:
        # Unfiltered, the inputs show the default period.
        default = {"start": today - dt.timedelta(days=DEFAULT_DAYS - 1), "end": today, "by": "week"}
        if data is not None and not data.get("start") and not data.get("end"):
            data = data.copy()  # e.g. only "per month": the default dates, shown in the inputs
            data["start"] = default["start"].isoformat()  # type: ignore[attr-defined]
            data["end"] = today.isoformat()
        super().__init__(data, initial=default)
        self.today = today

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        end = data.get("end") or self.today
        start = data.get("start") or end - dt.timedelta(days=DEFAULT_DAYS - 1)
        if start > end:
            raise forms.ValidationError(
                _("The period starts after it ends: choose a start date on or before the end date.")
            )
        if (end - start).days >= MAX_DAYS:
            raise forms.ValidationError(
                _(
                    "The period is longer than three years: choose a shorter one, or view it per "
                    "month a year at a time."
                )
            )
        data.update(start=start, end=end, by=data.get("by") or "week")
        return data

    def period(self) -> tuple[dt.date, dt.date, str]:
        """The chosen period, or the default (the last 90 days, per week) when it is invalid."""
        if self.is_bound and self.is_valid():
            data = self.cleaned_data
            return data["start"], data["end"], data["by"]
        return self.today - dt.timedelta(days=DEFAULT_DAYS - 1), self.today, "week"
