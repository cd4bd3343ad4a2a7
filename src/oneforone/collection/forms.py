"""Forms of the hub pages: parse and check what a hub operator typed, nothing else."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.core.validators import MinValueValidator, RegexValidator
from django.db.models import QuerySet
from django.utils import timezone

from oneforone.accounts.models import Organisation, OrganisationKind
from oneforone.collection.models import Collector, Hub, Intake, Lot

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
NUMBER = {"inputmode": "numeric", "min": "0"}
DECIMAL = {"inputmode": "decimal", "min": "0"}


class CollectorChoice(forms.ModelChoiceField):
    def __init__(self, *args: Any, several_hubs: bool = False, **kwargs: Any) -> None:
        self.several_hubs = several_hubs
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.code} ({obj.hub.name})" if self.several_hubs else obj.code


class HubChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name}, {obj.city} (pays in {obj.currency})"


class IntakeForm(forms.Form):
    """A purchase from a collector: count, weight, batteries taken out, price per phone."""

    hub = HubChoice(queryset=Hub.objects.none(), to_field_name="code", empty_label=None)
    collector = CollectorChoice(
        queryset=Collector.objects.none(),
        to_field_name="code",
        empty_label="choose the collector's code",
    )
    collected_on = forms.DateField(label="Date collected", widget=DATE_INPUT)
    phones = forms.IntegerField(min_value=1, widget=forms.NumberInput(attrs=NUMBER))
    net_weight_kg = forms.DecimalField(
        label="Net weight (kg)",
        max_digits=12,
        decimal_places=3,
        validators=[MinValueValidator(Decimal("0.001"))],
        widget=forms.NumberInput(attrs={**DECIMAL, "step": "0.001"}),
    )
    batteries_removed = forms.IntegerField(
        min_value=0, initial=0, widget=forms.NumberInput(attrs=NUMBER)
    )
    price_per_phone = forms.DecimalField(
        max_digits=12,
        decimal_places=4,
        min_value=Decimal(0),
        widget=forms.NumberInput(attrs={**DECIMAL, "step": "any"}),
    )

    def __init__(
        self,
        *args: Any,
        hubs: QuerySet[Hub],
        hub: Hub,
        last_price: Decimal | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        several = hubs.count() > 1
        hub_field = self.fields["hub"]
        assert isinstance(hub_field, HubChoice)
        hub_field.queryset = hubs
        hub_field.initial = hub.code
        if not several:
            hub_field.widget = forms.HiddenInput()
        collector_field = self.fields["collector"]
        assert isinstance(collector_field, CollectorChoice)
        collector_field.several_hubs = several
        collector_field.queryset = (
            Collector.objects.filter(hub__in=hubs).select_related("hub").order_by("code")
        )
        self.fields["collected_on"].initial = timezone.localdate()
        self.fields["price_per_phone"].label = f"Price per phone ({hub.currency})"
        if last_price is not None:
            self.fields["price_per_phone"].initial = format(last_price.normalize(), "f")

    def clean_collected_on(self) -> dt.date:
        collected_on: dt.date = self.cleaned_data["collected_on"]
        if collected_on > timezone.localdate():
            raise forms.ValidationError(
                "The date is in the future; enter the day the phones came in."
            )
        return collected_on

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        hub, collector = data.get("hub"), data.get("collector")
        if hub is not None and collector is not None and collector.hub_id != hub.pk:
            self.add_error(
                "collector",
                f"Collector {collector.code} is registered at another hub; "
                f"choose a collector of {hub.name}.",
            )
        phones, batteries = data.get("phones"), data.get("batteries_removed")
        if phones is not None and batteries is not None and batteries > phones:
            self.add_error(
                "batteries_removed",
                "More batteries than phones; count the batteries taken out again.",
            )
        return data


class SealLotForm(forms.Form):
    """Pack checked open intakes of one hub into a lot under the number on its seal."""

    intakes = forms.ModelMultipleChoiceField(
        queryset=Intake.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Tick the open intakes that go into this lot."},
    )
    seal_number = forms.CharField(
        max_length=40,
        label="Seal number",
        help_text="the number printed on the seal of the bag or box",
    )

    def __init__(self, *args: Any, hub: Hub, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["intakes"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = Intake.objects.filter(hub=hub, lot__isnull=True)

    def clean_seal_number(self) -> str:
        seal_number: str = self.cleaned_data["seal_number"].strip()
        if Lot.objects.filter(seal_number=seal_number).exists():
            raise forms.ValidationError(
                f"Seal number {seal_number} is already used on another lot; check the number on "
                "the seal, or use a new seal."
            )
        return seal_number


class ConsignmentForm(forms.Form):
    """Put checked sealed lots of a hub into a consignment for a carrier and a recycler."""

    lots = forms.ModelMultipleChoiceField(
        queryset=Lot.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Tick the sealed lots that travel in this consignment."},
    )
    reference = forms.CharField(
        max_length=40,
        help_text="letters, digits, dots, dashes; e.g. GH-ACC-2026-014",
        validators=[
            RegexValidator(
                r"^[A-Za-z0-9][A-Za-z0-9._-]*$", "Use letters, digits, dots and dashes only."
            )
        ],
    )
    carrier = forms.ModelChoiceField(
        queryset=Organisation.objects.none(), empty_label="choose the carrier"
    )
    recycler = forms.ModelChoiceField(
        queryset=Organisation.objects.none(), empty_label="choose the recycler"
    )

    def __init__(self, *args: Any, hub: Hub, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        querysets = {
            "lots": Lot.objects.filter(hub=hub, consignment__isnull=True),
            "carrier": Organisation.objects.filter(kind=OrganisationKind.CARRIER),
            "recycler": Organisation.objects.filter(kind=OrganisationKind.RECYCLER),
        }
        for name, queryset in querysets.items():
            field = self.fields[name]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = queryset

    def clean_reference(self) -> str:
        reference = str(self.cleaned_data["reference"]).strip()
        if reference.lower() == "new":
            raise forms.ValidationError("Choose a reference other than 'new'.")
        return reference
