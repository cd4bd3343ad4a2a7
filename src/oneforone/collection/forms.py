"""Forms of the hub pages: parse and check what a hub operator typed, nothing else."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import MinValueValidator, RegexValidator
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext, gettext_lazy

from oneforone.accounts.models import Organisation, OrganisationKind
from oneforone.collection.models import Collector, Condition, Hub, Intake, Lot, LotKind
from oneforone.shipments.models import Notification, Stream

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME_INPUT = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
NUMBER = {"inputmode": "numeric", "min": "0"}
DECIMAL = {"inputmode": "decimal", "min": "0"}
PAID_WITH = [
    ("", gettext_lazy("Not paid yet")),
    ("cash", gettext_lazy("Cash")),
    ("mobile_money", gettext_lazy("Mobile money")),
]
MAX_PHOTOS = 6


class CollectorChoice(forms.ModelChoiceField):
    def __init__(self, *args: Any, several_hubs: bool = False, **kwargs: Any) -> None:
        self.several_hubs = several_hubs
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.code} ({obj.hub.name})" if self.several_hubs else obj.code


class HubChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return gettext("%(name)s, %(city)s (pays in %(currency)s)") % {
            "name": obj.name,
            "city": obj.city,
            "currency": obj.currency,
        }


class MultiplePhotoInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Several photos in one file input (taken with the phone's camera)."""

    def __init__(self, **kwargs: Any) -> None:
        attrs = {"accept": "image/jpeg,image/png,image/webp", "capture": "environment"}
        kwargs.setdefault("widget", MultiplePhotoInput(attrs=attrs))
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        files = data if isinstance(data, list | tuple) else [data] if data else []
        if len(files) > MAX_PHOTOS:
            raise forms.ValidationError(
                gettext("At most %(count)s photos; leave out the rest.") % {"count": MAX_PHOTOS}
            )
        return [super(PhotosField, self).clean(file, initial) for file in files]


def _decimal(places: int, *, required: bool = True, label: str | None = None) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=required,
        max_digits=12,
        decimal_places=places,
        min_value=Decimal(0),
        widget=forms.NumberInput(attrs={**DECIMAL, "step": "any"}),
    )


def parse_imeis(text: str) -> list[str]:
    """IMEIs typed or scanned one per line (or separated by commas or spaces)."""
    return [value for value in text.replace(",", " ").split() if value]


class PaymentFields(forms.Form):
    """How the collector was paid on the spot, if they were."""

    paid_with = forms.ChoiceField(label=gettext_lazy("Paid"), choices=PAID_WITH, required=False)
    payment_reference = forms.CharField(
        label=gettext_lazy("Mobile-money reference"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("the transaction ID from the confirmation message"),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (
            data.get("paid_with") == "mobile_money"
            and not data.get("payment_reference", "").strip()
        ):
            self.add_error(
                "payment_reference",
                gettext_lazy(
                    "Mobile money needs its transaction reference; copy it from the confirmation SMS."
                ),
            )
        return data


class IntakeForm(PaymentFields):
    """A purchase from a collector: who, when, how many phones in what state, their weight, the
    batteries taken out, the price per phone, how it was paid, IMEIs, photos and the place."""

    field_order = [
        "hub",
        "collector",
        "collected_on",
        "collected_time",
        "phones",
        "net_weight_kg",
        "condition",
        "batteries_removed",
        "battery_weight_kg",
        "price_per_phone",
        "paid_with",
        "payment_reference",
        "imeis",
        "photos",
        "note",
    ]

    hub = HubChoice(
        label=gettext_lazy("Hub"),
        queryset=Hub.objects.none(),
        to_field_name="code",
        empty_label=None,
    )
    collector = CollectorChoice(
        label=gettext_lazy("Collector"),
        queryset=Collector.objects.none(),
        to_field_name="code",
        empty_label=gettext_lazy("choose the collector's code"),
    )
    collected_on = forms.DateField(label=gettext_lazy("Date collected"), widget=DATE_INPUT)
    collected_time = forms.TimeField(
        label=gettext_lazy("Time"),
        required=False,
        widget=TIME_INPUT,
        help_text=gettext_lazy(
            "the hub's clock; leave empty for now (today) or midday (an earlier day)"
        ),
    )
    phones = forms.IntegerField(
        label=gettext_lazy("Phones"), min_value=1, widget=forms.NumberInput(attrs=NUMBER)
    )
    net_weight_kg = forms.DecimalField(
        label=gettext_lazy("Net weight (kg)"),
        max_digits=12,
        decimal_places=3,
        validators=[MinValueValidator(Decimal("0.001"))],
        widget=forms.NumberInput(attrs={**DECIMAL, "step": "0.001"}),
        help_text=gettext_lazy("the phones without their batteries"),
    )
    condition = forms.ChoiceField(
        label=gettext_lazy("Condition"),
        choices=Condition.choices,
        required=False,
        initial=Condition.WHOLE,
    )
    batteries_removed = forms.IntegerField(
        label=gettext_lazy("Batteries removed"),
        min_value=0,
        initial=0,
        widget=forms.NumberInput(attrs=NUMBER),
    )
    battery_weight_kg = forms.DecimalField(
        label=gettext_lazy("Battery weight (kg)"),
        required=False,
        max_digits=12,
        decimal_places=3,
        min_value=Decimal(0),
        widget=forms.NumberInput(attrs={**DECIMAL, "step": "0.001"}),
    )
    price_per_phone = forms.DecimalField(
        label=gettext_lazy("Price per phone"),
        max_digits=12,
        decimal_places=4,
        min_value=Decimal(0),
        widget=forms.NumberInput(attrs={**DECIMAL, "step": "any"}),
    )
    imeis = forms.CharField(
        label=gettext_lazy("IMEIs"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "inputmode": "numeric", "autocomplete": "off"}),
        help_text=gettext_lazy("where readable: one per line, 15 digits (type or scan)"),
    )
    photos = PhotosField(
        label=gettext_lazy("Photos"),
        help_text=format_lazy(
            gettext_lazy("of the phones on the scale; up to {count}"), count=MAX_PHOTOS
        ),
    )
    note = forms.CharField(
        label=gettext_lazy("Note"),
        max_length=300,
        required=False,
        help_text=gettext_lazy(
            "about the phones, not the person: no names or phone numbers (notes are kept "
            "for good and cannot be erased with a collector's personal data)"
        ),
    )
    latitude = forms.DecimalField(
        label=gettext_lazy("Latitude"),
        required=False,
        max_digits=9,
        decimal_places=6,
        widget=forms.HiddenInput(),
    )
    longitude = forms.DecimalField(
        label=gettext_lazy("Longitude"),
        required=False,
        max_digits=9,
        decimal_places=6,
        widget=forms.HiddenInput(),
    )
    gps_accuracy_m = forms.IntegerField(
        label=gettext_lazy("Gps accuracy m"),
        required=False,
        min_value=0,
        widget=forms.HiddenInput(),
    )
    # Made by the page's script when the form is filled: a double tap, or a record queued on the
    # phone while offline and sent again, is recorded once.
    client_uuid = forms.UUIDField(
        label=gettext_lazy("Client uuid"), required=False, widget=forms.HiddenInput()
    )

    def __init__(
        self,
        *args: Any,
        hubs: QuerySet[Hub],
        hub: Hub,
        last_price: Decimal | None = None,
        cap_note: str = "",
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
            Collector.objects.filter(hub__in=hubs, active=True)
            .select_related("hub")
            .order_by("code")
        )
        self.fields["collected_on"].initial = timezone.localdate()
        self.fields["price_per_phone"].label = gettext("Price per phone (%(currency)s)") % {
            "currency": hub.currency
        }
        self.fields["price_per_phone"].help_text = cap_note
        if last_price is not None:
            self.fields["price_per_phone"].initial = format(last_price.normalize(), "f")

    def clean_collected_on(self) -> dt.date:
        collected_on: dt.date = self.cleaned_data["collected_on"]
        if collected_on > timezone.localdate():
            raise forms.ValidationError(
                gettext_lazy("The date is in the future; enter the day the phones came in.")
            )
        return collected_on

    def clean_imeis(self) -> list[str]:
        return parse_imeis(self.cleaned_data.get("imeis") or "")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        hub, collector = data.get("hub"), data.get("collector")
        if hub is not None and collector is not None and collector.hub_id != hub.pk:
            self.add_error(
                "collector",
                gettext(
                    "Collector %(code)s is registered at another hub; "
                    "choose a collector of %(hub)s."
                )
                % {"code": collector.code, "hub": hub.name},
            )
        phones, batteries = data.get("phones"), data.get("batteries_removed")
        if phones is not None and batteries is not None and batteries > phones:
            self.add_error(
                "batteries_removed",
                gettext_lazy("More batteries than phones; count the batteries taken out again."),
            )
        data["condition"] = data.get("condition") or Condition.WHOLE
        data["battery_weight_kg"] = data.get("battery_weight_kg") or Decimal(0)
        if data["battery_weight_kg"] > 0 and batteries == 0:
            self.add_error(
                "batteries_removed",
                gettext_lazy("A battery weight needs the number of batteries taken out."),
            )
        return data


class CorrectionForm(PaymentFields):
    """The right figures of a record, with why it is corrected: reversal plus a new record."""

    field_order = [
        "reason",
        "phones",
        "net_weight_kg",
        "condition",
        "batteries_removed",
        "battery_weight_kg",
        "price_per_phone",
        "imeis",
        "paid_with",
        "payment_reference",
    ]

    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=300,
        help_text=gettext_lazy("what was wrong, e.g. 'miscounted: 38 phones, not 40'"),
    )
    phones = forms.IntegerField(
        label=gettext_lazy("Phones"), min_value=1, widget=forms.NumberInput(attrs=NUMBER)
    )
    net_weight_kg = forms.DecimalField(
        label=gettext_lazy("Net weight (kg)"),
        max_digits=12,
        decimal_places=3,
        validators=[MinValueValidator(Decimal("0.001"))],
        widget=forms.NumberInput(attrs={**DECIMAL, "step": "0.001"}),
    )
    condition = forms.ChoiceField(label=gettext_lazy("Condition"), choices=Condition.choices)
    batteries_removed = forms.IntegerField(
        label=gettext_lazy("Batteries removed"), min_value=0, widget=forms.NumberInput(attrs=NUMBER)
    )
    battery_weight_kg = forms.DecimalField(
        label=gettext_lazy("Battery weight (kg)"),
        max_digits=12,
        decimal_places=3,
        min_value=Decimal(0),
        widget=forms.NumberInput(attrs={**DECIMAL, "step": "0.001"}),
    )
    price_per_phone = forms.DecimalField(
        label=gettext_lazy("Price per phone"),
        max_digits=12,
        decimal_places=4,
        min_value=Decimal(0),
        widget=forms.NumberInput(attrs={**DECIMAL, "step": "any"}),
    )
    imeis = forms.CharField(
        label=gettext_lazy("IMEIs"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "inputmode": "numeric"}),
    )

    def __init__(self, *args: Any, intake: Intake, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                "phones": intake.phones,
                "net_weight_kg": intake.net_weight_kg,
                "condition": intake.condition,
                "batteries_removed": intake.batteries_removed,
                "battery_weight_kg": intake.battery_weight_kg,
                "price_per_phone": format(intake.price_per_phone.normalize(), "f"),
                "imeis": "\n".join(i.imei for i in intake.imeis.all()),
            },
        )
        super().__init__(*args, **kwargs)
        self.fields["price_per_phone"].label = gettext("Price per phone (%(currency)s)") % {
            "currency": intake.currency
        }
        self.fields["paid_with"].label = gettext("Paid for the corrected record")
        self.fields["paid_with"].help_text = gettext(
            "the original payment stays in the ledger; settle the difference on the payments page"
        )

    def clean_imeis(self) -> list[str]:
        return parse_imeis(self.cleaned_data.get("imeis") or "")


class ReversalForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=300,
        help_text=gettext_lazy("why the record is cancelled, e.g. 'entered twice'"),
    )


def open_intakes(hub: Hub, kind: str) -> QuerySet[Intake]:
    """Records not yet packed: their phones, or their weighed batteries for a battery lot."""
    if kind == LotKind.BATTERIES:
        return Intake.objects.filter(
            hub=hub,
            battery_lot__isnull=True,
            reverses__isnull=True,
            reversed_by__isnull=True,
            batteries_removed__gt=0,
            battery_weight_kg__gt=0,
        )
    return Intake.objects.filter(
        hub=hub, lot__isnull=True, reverses__isnull=True, reversed_by__isnull=True
    )


class SealLotForm(forms.Form):
    """Pack checked open intakes of one hub into a lot under the number on its seal."""

    intakes = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Intakes"),
        queryset=Intake.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": gettext_lazy("Tick the open intakes that go into this lot.")},
    )
    seal_number = forms.CharField(
        max_length=40,
        label=gettext_lazy("Seal number"),
        help_text=gettext_lazy("the number printed on the seal of the bag or box"),
    )

    def __init__(self, *args: Any, hub: Hub, kind: str = LotKind.PHONES, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["intakes"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = open_intakes(hub, kind)

    def clean_seal_number(self) -> str:
        seal_number: str = self.cleaned_data["seal_number"].strip()
        if Lot.objects.filter(seal_number=seal_number).exists():
            raise forms.ValidationError(
                gettext(
                    "Seal number %(seal)s is already used on another lot; check the number on "
                    "the seal, or use a new seal."
                )
                % {"seal": seal_number}
            )
        return seal_number


class ConsignmentForm(forms.Form):
    """Put checked sealed lots of a hub into a consignment for a carrier and a recycler."""

    lots = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Lots"),
        queryset=Lot.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": gettext_lazy("Tick the sealed lots that travel in this consignment.")
        },
    )
    reference = forms.CharField(
        label=gettext_lazy("Reference"),
        max_length=40,
        help_text=gettext_lazy("letters, digits, dots, dashes; e.g. GH-ACC-2026-014"),
        validators=[
            RegexValidator(
                r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
                gettext_lazy("Use letters, digits, dots and dashes only."),
            )
        ],
    )
    carrier = forms.ModelChoiceField(
        label=gettext_lazy("Carrier"),
        queryset=Organisation.objects.none(),
        empty_label=gettext_lazy("choose the carrier"),
    )
    recycler = forms.ModelChoiceField(
        label=gettext_lazy("Recycler"),
        queryset=Organisation.objects.none(),
        empty_label=gettext_lazy("choose the recycler"),
    )
    notification = forms.ModelChoiceField(
        label=gettext_lazy("Notification"),
        queryset=Notification.objects.none(),
        required=False,
        empty_label=gettext_lazy("none yet"),
        help_text=gettext_lazy(
            "the consented notification it moves under; it cannot be dispatched without"
        ),
    )

    def __init__(self, *args: Any, hub: Hub, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        querysets = {
            "lots": Lot.objects.filter(hub=hub, consignment__isnull=True, kind=LotKind.PHONES),
            "carrier": Organisation.objects.filter(kind=OrganisationKind.CARRIER),
            "recycler": Organisation.objects.filter(kind=OrganisationKind.RECYCLER),
            "notification": Notification.objects.filter(
                notifier=hub.organisation,
                stream=Stream.PHONES,
                last_departure__gte=timezone.localdate(),
            ),
        }
        for name, queryset in querysets.items():
            field = self.fields[name]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = queryset

    def clean_reference(self) -> str:
        reference = str(self.cleaned_data["reference"]).strip()
        if reference.lower() == "new":
            raise forms.ValidationError(gettext_lazy("Choose a reference other than 'new'."))
        return reference
