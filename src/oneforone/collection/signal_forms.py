"""Forms of the signal and network pages: resolve a flag, filter the queue, a hub's settings."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext_lazy

from oneforone.accounts.models import Organisation, OrganisationKind
from oneforone.collection.hub_actions import MAX_RADIUS_M, MIN_RADIUS_M
from oneforone.collection.models import Area, Country, FlagKind, FlagResolution, Hub

# ISO weekday numbers with Django's abbreviations, which its catalogues translate (ma, lun.).
WEEKDAYS = [(number, WEEKDAYS_ABBR[number - 1]) for number in range(1, 8)]


class ResolveFlagForm(forms.Form):
    resolution = forms.ChoiceField(
        label=gettext_lazy("Resolution"),
        choices=FlagResolution.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": gettext_lazy("Choose how the flag ends: explained, corrected or fraud.")
        },
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("What you checked and found, for whoever reads this later."),
        error_messages={"required": gettext_lazy("Write what you checked and found.")},
    )


class FlagFilterForm(forms.Form):
    state = forms.ChoiceField(
        label=gettext_lazy("State"),
        choices=[("open", "Open"), ("resolved", "Resolved"), ("all", "All")],
        required=False,
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"),
        choices=[("", gettext_lazy("Any signal")), *FlagKind.choices],
        required=False,
    )
    country = forms.ChoiceField(label=gettext_lazy("Country"), required=False)
    hub = forms.ChoiceField(label=gettext_lazy("Hub"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        hubs = list(Hub.objects.order_by("country", "name").values_list("code", "name", "country"))
        country, hub = self.fields["country"], self.fields["hub"]
        assert isinstance(country, forms.ChoiceField)
        assert isinstance(hub, forms.ChoiceField)
        country.choices = [("", gettext_lazy("Any country"))] + [
            (c, c) for c in sorted({c for _, _, c in hubs})
        ]
        hub.choices = [("", gettext_lazy("Any hub"))] + [(code, name) for code, name, _ in hubs]


class HubSettingsForm(forms.Form):
    opens_at = forms.TimeField(
        label=gettext_lazy("Opens at"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    closes_at = forms.TimeField(
        label=gettext_lazy("Closes at"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    open_weekdays = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Buys on"),
        choices=WEEKDAYS,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": gettext_lazy("Tick at least one day the hub buys on.")},
    )
    latitude = forms.DecimalField(
        label=gettext_lazy("Latitude"),
        max_digits=9,
        decimal_places=6,
        required=False,
        min_value=-90,
        max_value=90,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        help_text=gettext_lazy("Degrees, e.g. 5.568 (north is positive)."),
    )
    longitude = forms.DecimalField(
        label=gettext_lazy("Longitude"),
        max_digits=9,
        decimal_places=6,
        required=False,
        min_value=-180,
        max_value=180,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        help_text=gettext_lazy("Degrees, e.g. -0.212 (west is negative)."),
    )
    radius_m = forms.IntegerField(
        label=gettext_lazy("Radius (m)"),
        min_value=MIN_RADIUS_M,
        max_value=MAX_RADIUS_M,
        help_text=gettext_lazy("Intakes recorded farther than this from the hub are flagged."),
    )

    @classmethod
    def for_hub(cls, hub: Hub) -> HubSettingsForm:
        return cls(
            initial={
                "opens_at": hub.opens_at,
                "closes_at": hub.closes_at,
                "open_weekdays": list(hub.open_weekdays),
                "latitude": hub.latitude,
                "longitude": hub.longitude,
                "radius_m": hub.radius_m,
            }
        )


class RegisterHubForm(forms.Form):
    organisation = forms.ModelChoiceField(
        label=gettext_lazy("Collection partner"),
        queryset=Organisation.objects.filter(kind=OrganisationKind.COLLECTION_PARTNER).order_by(
            "name"
        ),
        error_messages={
            "required": gettext_lazy("Choose the collection partner that runs the hub.")
        },
    )
    name = forms.CharField(
        label=gettext_lazy("Name"), max_length=200, help_text=gettext_lazy("e.g. Tamale hub")
    )
    code = forms.SlugField(
        label=gettext_lazy("Code"),
        max_length=30,
        help_text=gettext_lazy(
            "Short and for good: lower-case letters, digits and dashes, e.g. gh-tamale."
        ),
    )
    country = forms.ModelChoiceField(
        label=gettext_lazy("Country"), queryset=Country.objects.order_by("name")
    )
    city = forms.CharField(label=gettext_lazy("City"), max_length=100)
    area = forms.ChoiceField(label=gettext_lazy("Area"), choices=Area.choices)
    latitude = forms.DecimalField(
        label=gettext_lazy("Latitude"),
        max_digits=9,
        decimal_places=6,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    longitude = forms.DecimalField(
        label=gettext_lazy("Longitude"),
        max_digits=9,
        decimal_places=6,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
