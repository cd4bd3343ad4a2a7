"""Forms of the registry's operator and partner pages: parse and check what was typed.

The actions decide; a form only turns text into values and says what to correct.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.db.backends.postgresql.psycopg_any import NumericRange
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from oneforone.accounts.models import Organisation, OrganisationKind
from oneforone.registry import serials
from oneforone.registry.models import (
    AllocationPreference,
    Cancellation,
    CancellationReason,
    IssuanceBatch,
)

NUMBER = {"inputmode": "numeric", "min": "1"}
# A select is as wide as its longest option unless told otherwise: long partner names would
# push it past a phone's screen.
SELECT = forms.Select(attrs={"style": "width:100%;min-width:0"})


def _partners() -> Any:
    return Organisation.objects.filter(kind=OrganisationKind.PARTNER).order_by("name")


class CancellationForm(forms.Form):
    """Units of one batch to cancel: first and last unit numbers, or a block serial."""

    first = forms.IntegerField(
        required=False,
        label=gettext_lazy("First unit number"),
        widget=forms.NumberInput(attrs=NUMBER),
    )
    last = forms.IntegerField(
        required=False,
        label=gettext_lazy("Last unit number"),
        widget=forms.NumberInput(attrs=NUMBER),
    )
    block = forms.CharField(
        required=False,
        max_length=60,
        label=gettext_lazy("or a block serial"),
        help_text=gettext_lazy(
            "e.g. O4O-GH-2026-0000120001-0000120050-X; a single serial cancels one unit"
        ),
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "spellcheck": "false"}),
    )
    reason = forms.ChoiceField(
        choices=CancellationReason.choices, widget=SELECT, label=gettext_lazy("Reason")
    )
    explanation = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label=gettext_lazy("Explanation"),
        help_text=gettext_lazy("shown on the public records of the affected certificates"),
        error_messages={
            "required": gettext_lazy(
                "Explain the cancellation (what was found, by whom, which document); "
                "it is shown on the public records."
            )
        },
    )

    def __init__(self, *args: Any, batch: IssuanceBatch, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.batch = batch
        lower, upper = batch.units.lower, batch.units.upper - 1
        within = _("from %(lower)s to %(upper)s") % {"lower": lower, "upper": upper}
        self.fields["first"].help_text = within
        self.fields["last"].help_text = within
        self.fields["first"].widget.attrs.update(min=str(lower), max=str(upper))
        self.fields["last"].widget.attrs.update(min=str(lower), max=str(upper))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, last, text = data.get("first"), data.get("last"), data.get("block", "").strip()
        if "first" in self.errors or "last" in self.errors:
            return data
        batch = self.batch
        if text:
            try:
                block = serials.parse(text)
            except serials.SerialError as error:
                self.add_error(
                    "block",
                    _(
                        "%(problem)s. Copy the block from the batch above, or leave it empty and "
                        "enter first and last unit numbers."
                    )
                    % {"problem": error},
                )
                return data
            if (block.country, block.year) != (batch.origin_country, batch.vintage_year):
                self.add_error(
                    "block",
                    _(
                        "The block is of %(block_country)s %(block_year)s, batch %(batch)s is of "
                        "%(country)s %(year)s; choose the batch that holds the block."
                    )
                    % {
                        "block_country": block.country,
                        "block_year": block.year,
                        "batch": batch.pk,
                        "country": batch.origin_country,
                        "year": batch.vintage_year,
                    },
                )
                return data
            if (first is not None or last is not None) and (first, last) != (
                block.first,
                block.last,
            ):
                self.add_error(
                    None,
                    _("The unit numbers and the block serial differ; clear one of them."),
                )
                return data
            first, last = block.first, block.last
        elif first is None or last is None:
            self.add_error(
                None,
                _("Enter the first and the last unit number, or a block serial, to cancel."),
            )
            return data
        if last < first:
            self.add_error(
                "last",
                _("The last unit %(last)s is before the first %(first)s; swap them.")
                % {"last": last, "first": first},
            )
            return data
        lower, upper = batch.units.lower, batch.units.upper - 1
        if not (lower <= first and last <= upper):
            self.add_error(
                None,
                _(
                    "Units %(first)s-%(last)s are not all in batch %(batch)s (units %(lower)s to "
                    "%(upper)s); enter numbers inside that range, or choose another batch."
                )
                % {"first": first, "last": last, "batch": batch.pk, "lower": lower, "upper": upper},
            )
            return data
        overlapping = Cancellation.objects.filter(
            batch=batch, units__overlap=NumericRange(first, last + 1)
        ).first()
        if overlapping is not None:
            self.add_error(
                None,
                _(
                    "Units %(first)s-%(last)s are cancelled already; enter a range that leaves "
                    "them out."
                )
                % {"first": overlapping.units.lower, "last": overlapping.units.upper - 1},
            )
            return data
        data["first"], data["last"] = first, last
        return data


class ReservationForm(forms.Form):
    """Set units aside for a partner's quota (a tender, a programme) before it registers."""

    partner = forms.ModelChoiceField(
        queryset=Organisation.objects.none(),
        empty_label=gettext_lazy("choose the partner"),
        widget=SELECT,
        label=gettext_lazy("Partner"),
    )
    label = forms.CharField(
        max_length=100,
        label=gettext_lazy("Quota"),
        help_text=gettext_lazy("the quota it serves, e.g. a tender reference"),
        error_messages={"required": gettext_lazy("Name the quota, e.g. the tender reference.")},
    )
    quantity = forms.IntegerField(
        min_value=1, label=gettext_lazy("Units"), widget=forms.NumberInput(attrs=NUMBER)
    )
    accept_fewer = forms.BooleanField(
        required=False,
        label=gettext_lazy("Reserve what is free if fewer units are free than asked"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["partner"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = _partners()

    def clean_label(self) -> str:
        label = str(self.cleaned_data["label"]).strip()
        if not label:
            raise forms.ValidationError(_("Name the quota, e.g. the tender reference."))
        return label


class ReleaseForm(forms.Form):
    """Give a quota's unallocated units back to supply."""

    partner = forms.ModelChoiceField(queryset=Organisation.objects.none())
    label = forms.CharField(max_length=100)
    reason = forms.CharField(
        max_length=500,
        error_messages={
            "required": gettext_lazy(
                "Say why the reservation is released (e.g. the tender was "
                "cancelled); the reason is kept in the audit log."
            )
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["partner"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = _partners()


class AllocationPreferenceForm(forms.Form):
    """Which supply a partner's registrations take first: origin countries and vintage years."""

    origin_countries = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=gettext_lazy("Origin countries"),
        help_text=gettext_lazy("none ticked: any country"),
    )
    vintage_years = forms.TypedMultipleChoiceField(
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        label=gettext_lazy("Vintage years"),
        help_text=gettext_lazy("the year the recycler completed treatment; none ticked: any year"),
    )
    strict = forms.BooleanField(
        required=False,
        label=gettext_lazy("Strict: wait for matching supply rather than take other supply"),
    )
    allow_partial = forms.BooleanField(
        required=False,
        label=gettext_lazy(
            "Allow partial allocation: compensate part of a registration when supply is short"
        ),
    )

    def __init__(
        self,
        *args: Any,
        countries: Iterable[str],
        years: Iterable[int],
        preference: AllocationPreference | None = None,
        **kwargs: Any,
    ) -> None:
        if preference is not None:
            kwargs.setdefault(
                "initial",
                {
                    "origin_countries": preference.origin_countries,
                    "vintage_years": preference.vintage_years,
                    "strict": preference.strict,
                    "allow_partial": preference.allow_partial,
                },
            )
        else:
            kwargs.setdefault("initial", {"allow_partial": True})
        super().__init__(*args, **kwargs)
        # Keep what the preference holds selectable even when no batch has it (yet).
        held_countries = set(preference.origin_countries) if preference else set()
        held_years = set(preference.vintage_years) if preference else set()
        country_field = self.fields["origin_countries"]
        assert isinstance(country_field, forms.MultipleChoiceField)
        country_field.choices = [
            (code, f"{code} · {serials.country_name(code)}")
            for code in sorted(set(countries) | held_countries)
        ]
        year_field = self.fields["vintage_years"]
        assert isinstance(year_field, forms.MultipleChoiceField)
        year_field.choices = [(str(y), str(y)) for y in sorted(set(years) | held_years)]

    @classmethod
    def for_partner(
        cls, data: Any, partner: Organisation
    ) -> tuple[AllocationPreferenceForm, AllocationPreference | None]:
        """The form for a partner's preference, its choices from the batches issued so far."""
        from oneforone.registry.queries import issued_origins

        preference = AllocationPreference.objects.filter(partner=partner).first()
        countries, years = issued_origins()
        return cls(data, countries=countries, years=years, preference=preference), preference

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (
            data.get("strict")
            and not data.get("origin_countries")
            and not data.get("vintage_years")
        ):
            self.add_error(
                "strict",
                _(
                    "Strict waits for matching supply, but nothing is ticked to match; tick a "
                    "country or a year, or untick strict."
                ),
            )
        return data
