"""Forms of the notification pages: the filters, the notification's blocks, and one form per
document recorded against it (acknowledgement, consent, contract, guarantee, change)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.validators import MinValueValidator
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from oneforone.accounts.models import Organisation, OrganisationKind
from oneforone.shipments.codes import codes_valid_on
from oneforone.shipments.models import (
    ChangeAnswer,
    ChangeKind,
    ChangeRequest,
    CodeList,
    Decision,
    FinancialGuarantee,
    Notification,
    RouteRole,
    RouteStop,
    ShipmentType,
    Stream,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

STATUSES = [
    ("", gettext_lazy("any status")),
    ("pending", gettext_lazy("awaiting consent")),
    ("objected", gettext_lazy("objected")),
    ("consented", gettext_lazy("consented")),
    ("ended", gettext_lazy("period ended")),
]
WRITTEN_DECISIONS = [(d.value, d.label) for d in Decision if d != Decision.TACIT]


def date_field(
    label: StrOrPromise, *, required: bool = True, help_text: StrOrPromise = ""
) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        help_text=help_text,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


def kg_field(label: StrOrPromise, *, required: bool = True) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=required,
        max_digits=14,
        decimal_places=3,
        validators=[MinValueValidator(Decimal("0.001"))],
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.001", "min": "0"}),
    )


class NotificationFilterForm(forms.Form):
    status = forms.ChoiceField(label=gettext_lazy("Status"), choices=STATUSES, required=False)
    country = forms.CharField(
        label=gettext_lazy("Country"),
        max_length=2,
        required=False,
        help_text=gettext_lazy("country of export"),
    )
    stream = forms.ChoiceField(
        label=gettext_lazy("Stream"),
        choices=[("", gettext_lazy("any stream")), *Stream.choices],
        required=False,
    )

    def clean_country(self) -> str:
        return str(self.cleaned_data["country"]).strip().upper()


def _code_choices(code_list: str, on: dt.date, *, blank: str | None = None) -> list[Any]:
    choices: list[Any] = [("", blank)] if blank is not None else []
    return choices + [(c.code, f"{c.code} · {c.label}") for c in codes_valid_on(code_list, on)]


def _y_only(choices: list[Any]) -> list[Any]:
    return [choice for choice in choices if str(choice[0]).startswith("Y")]


class NotificationCreateForm(forms.Form):
    """The blocks of Annex IA; the codes offered are those valid on the notification date."""

    number = forms.CharField(
        label=gettext_lazy("Number"),
        max_length=40,
        help_text=gettext_lazy("exactly as the authority issued it"),
    )
    notified_on = date_field(
        "Notified on", help_text=gettext_lazy("codes are checked against this date")
    )
    notifier = forms.ModelChoiceField(
        queryset=Organisation.objects.none(), label=gettext_lazy("Notifier")
    )
    stream = forms.ChoiceField(
        label=gettext_lazy("Stream"), choices=Stream.choices, initial=Stream.PHONES
    )
    consignee = forms.ModelChoiceField(
        label=gettext_lazy("Consignee"), queryset=Organisation.objects.none()
    )
    facility = forms.ModelChoiceField(
        label=gettext_lazy("Facility"), queryset=Organisation.objects.none()
    )
    generator_site = forms.CharField(
        max_length=300, label=gettext_lazy("Site and process of generation")
    )
    facility_site = forms.CharField(max_length=300, label=gettext_lazy("Actual site of recovery"))
    shipment_type = forms.ChoiceField(
        label=gettext_lazy("Shipment type"),
        choices=ShipmentType.choices,
        initial=ShipmentType.MULTIPLE,
    )
    intended_shipments = forms.IntegerField(
        min_value=1, label=gettext_lazy("Intended number of shipments")
    )
    total_quantity_kg = kg_field(gettext_lazy("Total intended quantity (kg)"))
    first_departure = date_field(gettext_lazy("First departure"))
    last_departure = date_field(gettext_lazy("Last departure"))
    packaging_types = forms.MultipleChoiceField(
        label=gettext_lazy("Packaging types"), widget=forms.CheckboxSelectMultiple
    )
    operation_code = forms.ChoiceField(label=gettext_lazy("Recovery operation"))
    technology = forms.CharField(
        max_length=300, required=False, label=gettext_lazy("Technology employed")
    )
    waste_description = forms.CharField(
        label=gettext_lazy("Waste description"), widget=forms.Textarea(attrs={"rows": 2})
    )
    physical_characteristics = forms.ChoiceField(
        label=gettext_lazy("Physical characteristics"),
    )
    basel_code = forms.ChoiceField(label=gettext_lazy("Basel code (Annex VIII/IX)"))
    y_codes = forms.MultipleChoiceField(required=False, label=gettext_lazy("Y codes"))
    h_codes = forms.MultipleChoiceField(required=False, label=gettext_lazy("H codes"))
    ewc_code = forms.ChoiceField(label=gettext_lazy("EU List of Waste code"))
    hs_code = forms.ChoiceField(label=gettext_lazy("HS code"))
    un_number = forms.ChoiceField(required=False, label=gettext_lazy("UN number (batteries)"))
    carrier = forms.ModelChoiceField(
        label=gettext_lazy("Carrier"), queryset=Organisation.objects.none()
    )
    means_of_transport = forms.ChoiceField(
        label=gettext_lazy("Means of transport"),
    )
    export_country = forms.CharField(max_length=2, label=gettext_lazy("Country of export"))
    export_authority = forms.CharField(
        max_length=200, label=gettext_lazy("Its competent authority")
    )
    export_exit_point = forms.CharField(
        max_length=200, required=False, label=gettext_lazy("Point of exit")
    )
    export_customs = forms.CharField(
        max_length=200, required=False, label=gettext_lazy("Customs office of export")
    )
    transit_country = forms.CharField(
        max_length=2, required=False, label=gettext_lazy("Transit country")
    )
    transit_authority = forms.CharField(
        max_length=200, required=False, label=gettext_lazy("Its authority")
    )
    transit_point = forms.CharField(
        max_length=200, required=False, label=gettext_lazy("Transit port")
    )
    import_country = forms.CharField(max_length=2, label=gettext_lazy("Country of import"))
    import_authority = forms.CharField(
        max_length=200, label=gettext_lazy("Its competent authority")
    )
    import_entry_point = forms.CharField(
        max_length=200, required=False, label=gettext_lazy("Point of entry")
    )
    import_customs = forms.CharField(
        max_length=200, required=False, label=gettext_lazy("Customs office of entry")
    )

    CODE_FIELDS = {
        "packaging_types": (CodeList.PACKAGING, None),
        "operation_code": (CodeList.OPERATION, None),
        "physical_characteristics": (CodeList.PHYSICAL, None),
        "basel_code": (CodeList.BASEL, None),
        "y_codes": (CodeList.BASEL, None),
        "h_codes": (CodeList.HAZARD, None),
        "ewc_code": (CodeList.EWC, None),
        "hs_code": (CodeList.HS, None),
        "un_number": (CodeList.UN_NUMBER, "none"),
        "means_of_transport": (CodeList.TRANSPORT, None),
    }

    def __init__(self, *args: Any, notifiers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        on = self._date_of_codes()
        for name, (code_list, blank) in self.CODE_FIELDS.items():
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = _code_choices(code_list, on, blank=blank)
        y_field = self.fields["y_codes"]
        assert isinstance(y_field, forms.ChoiceField)
        y_field.choices = _y_only(_code_choices(CodeList.BASEL, on))
        querysets = {
            "notifier": notifiers,
            "consignee": Organisation.objects.filter(kind=OrganisationKind.RECYCLER),
            "facility": Organisation.objects.filter(kind=OrganisationKind.RECYCLER),
            "carrier": Organisation.objects.filter(kind=OrganisationKind.CARRIER),
        }
        for name, queryset in querysets.items():
            choice = self.fields[name]
            assert isinstance(choice, forms.ModelChoiceField)
            choice.queryset = queryset
        if not self.is_bound:
            today = timezone.localdate()
            self.initial.setdefault("notified_on", today)
            self.initial.setdefault("operation_code", "R4")
            self.initial.setdefault("physical_characteristics", "2")
            self.initial.setdefault("packaging_types", ["4"])
            self.initial.setdefault("means_of_transport", "S")

    def _date_of_codes(self) -> dt.date:
        """The codes valid on the date entered (today until one is)."""
        raw = self.data.get("notified_on") if self.is_bound else None
        try:
            return dt.date.fromisoformat(str(raw)) if raw else timezone.localdate()
        except ValueError:
            return timezone.localdate()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name in ("export_country", "transit_country", "import_country"):
            cleaned[name] = str(cleaned.get(name) or "").strip().upper()
        if cleaned["transit_country"] and not cleaned.get("transit_authority"):
            self.add_error(
                "transit_authority", gettext_lazy("Name the transit country's authority.")
            )
        return cleaned

    def route(self) -> list[tuple[str, str, str, str, str, str]]:
        """(role, country, authority, entry, exit, customs) for each stop, in order."""
        data = self.cleaned_data
        stops: list[tuple[str, str, str, str, str, str]] = [
            (
                RouteRole.EXPORT,
                data["export_country"],
                data["export_authority"],
                "",
                data["export_exit_point"],
                data["export_customs"],
            )
        ]
        if data["transit_country"]:
            point = data["transit_point"]
            stops.append(
                (
                    RouteRole.TRANSIT,
                    data["transit_country"],
                    data["transit_authority"],
                    point,
                    point,
                    "",
                )
            )
        stops.append(
            (
                RouteRole.IMPORT,
                data["import_country"],
                data["import_authority"],
                data["import_entry_point"],
                "",
                data["import_customs"],
            )
        )
        return stops


class AcknowledgeForm(forms.Form):
    acknowledged_on = date_field(gettext_lazy("Acknowledged on"))


class StopChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        assert isinstance(obj, RouteStop)
        return f"{obj.country} · {obj.competent_authority} ({obj.get_role_display().lower()})"


class ConsentForm(forms.Form):
    route_stop = StopChoiceField(queryset=RouteStop.objects.none(), label=gettext_lazy("Authority"))
    decision = forms.ChoiceField(label=gettext_lazy("Decision"), choices=WRITTEN_DECISIONS)
    decided_on = date_field(gettext_lazy("Decided on"))
    valid_from = date_field(
        gettext_lazy("Valid from"), required=False, help_text=gettext_lazy("not for an objection")
    )
    valid_to = date_field(gettext_lazy("Valid to"), required=False)
    conditions = forms.CharField(
        label=gettext_lazy("Conditions"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("as the authority set them"),
    )
    reference = forms.CharField(
        max_length=100, required=False, label=gettext_lazy("Decision reference")
    )

    def __init__(self, *args: Any, notification: Notification, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        stop = self.fields["route_stop"]
        assert isinstance(stop, forms.ModelChoiceField)
        stop.queryset = notification.route.all()


class TacitConsentForm(forms.Form):
    route_stop = StopChoiceField(
        queryset=RouteStop.objects.none(),
        label=gettext_lazy("Transit authority"),
        help_text=gettext_lazy("30 days after the acknowledgement in the EU, 60 days elsewhere"),
    )

    def __init__(self, *args: Any, notification: Notification, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        stop = self.fields["route_stop"]
        assert isinstance(stop, forms.ModelChoiceField)
        stop.queryset = notification.route.filter(role=RouteRole.TRANSIT)


class ContractForm(forms.Form):
    reference = forms.CharField(label=gettext_lazy("Reference"), max_length=100)
    signed_on = date_field(gettext_lazy("Signed on"))
    valid_from = date_field(gettext_lazy("Valid from"))
    valid_to = date_field(gettext_lazy("Valid to"))


class GuaranteeForm(forms.Form):
    reference = forms.CharField(label=gettext_lazy("Reference"), max_length=100)
    guarantor = forms.CharField(
        label=gettext_lazy("Guarantor"), max_length=200, help_text=gettext_lazy("bank or insurer")
    )
    amount = forms.DecimalField(
        label=gettext_lazy("Amount"),
        max_digits=14,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01", "min": "0"}),
    )
    currency = forms.CharField(label=gettext_lazy("Currency"), max_length=3, initial="EUR")
    valid_from = date_field(gettext_lazy("Valid from"))
    valid_to = date_field(gettext_lazy("Valid to"))
    also_covers = forms.ModelMultipleChoiceField(
        queryset=Notification.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=gettext_lazy("Also covers"),
    )

    def __init__(self, *args: Any, notification: Notification, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        others = self.fields["also_covers"]
        assert isinstance(others, forms.ModelMultipleChoiceField)
        others.queryset = Notification.objects.filter(notifier=notification.notifier).exclude(
            pk=notification.pk
        )


class GuaranteeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        assert isinstance(obj, FinancialGuarantee)
        return f"{obj.reference} · {obj.amount} {obj.currency}"


class ReleaseForm(forms.Form):
    guarantee = GuaranteeChoiceField(
        label=gettext_lazy("Guarantee"), queryset=FinancialGuarantee.objects.none()
    )
    released_on = date_field(gettext_lazy("Released on"))

    def __init__(self, *args: Any, notification: Notification, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["guarantee"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = notification.guarantees.filter(released_on__isnull=True)


class ChangeForm(forms.Form):
    """A change of quantity, dates, carrier or route. A route change keeps the countries of
    export and import with their authorities and proposes the border points and the transit
    country (none: a direct route)."""

    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=ChangeKind.choices)
    description = forms.CharField(
        label=gettext_lazy("Description"), widget=forms.Textarea(attrs={"rows": 2})
    )
    total_quantity_kg = kg_field(gettext_lazy("New total quantity (kg)"), required=False)
    intended_shipments = forms.IntegerField(
        min_value=1, required=False, label=gettext_lazy("New shipments")
    )
    first_departure = date_field(gettext_lazy("New first departure"), required=False)
    last_departure = date_field(gettext_lazy("New last departure"), required=False)
    carrier = forms.ModelChoiceField(
        queryset=Organisation.objects.filter(kind=OrganisationKind.CARRIER),
        required=False,
        label=gettext_lazy("New carrier"),
    )
    means_of_transport = forms.ChoiceField(label=gettext_lazy("Means of transport"), required=False)
    export_exit_point = forms.CharField(
        required=False, label=gettext_lazy("New exit point (country of export)")
    )
    transit_country = forms.CharField(
        required=False,
        max_length=2,
        label=gettext_lazy("New transit country (ISO code; empty: none)"),
    )
    transit_authority = forms.CharField(
        required=False, label=gettext_lazy("Its competent authority")
    )
    transit_point = forms.CharField(required=False, label=gettext_lazy("Its entry and exit point"))
    import_entry_point = forms.CharField(
        required=False, label=gettext_lazy("New entry point (country of import)")
    )

    def __init__(self, *args: Any, notification: Notification, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.notification = notification
        means = self.fields["means_of_transport"]
        assert isinstance(means, forms.ChoiceField)
        means.choices = _code_choices(CodeList.TRANSPORT, timezone.localdate(), blank="—")

    def proposed(self) -> dict[str, Any]:
        """The values the change proposes, for its kind only."""
        data = self.cleaned_data
        kind = data["kind"]
        if kind == ChangeKind.QUANTITY:
            names = ["total_quantity_kg", "intended_shipments"]
        elif kind == ChangeKind.DATES:
            names = ["first_departure", "last_departure"]
        elif kind == ChangeKind.ROUTE:
            return {"route": self._proposed_route()}
        else:
            carrier = data.get("carrier")
            if carrier is None or not data.get("means_of_transport"):
                return {}
            return {
                "carriers": [
                    {"carrier": carrier.pk, "means_of_transport": data["means_of_transport"]}
                ]
            }
        return {
            name: str(data[name]) if not isinstance(data[name], int) else data[name]
            for name in names
            if data.get(name) not in (None, "")
        }

    def _proposed_route(self) -> list[dict[str, str]]:
        """The notification's route with the proposed border points and transit country."""
        data = self.cleaned_data
        stops = list(self.notification.route.order_by("sequence"))
        export, imports = stops[0], stops[-1]
        route = [
            {
                "role": export.role,
                "country": export.country,
                "competent_authority": export.competent_authority,
                "exit_point": data.get("export_exit_point") or export.exit_point,
                "customs_office": export.customs_office,
            }
        ]
        transit = str(data.get("transit_country") or "").strip().upper()
        if transit:
            point = data.get("transit_point") or ""
            route.append(
                {
                    "role": RouteRole.TRANSIT,
                    "country": transit,
                    "competent_authority": data.get("transit_authority") or "",
                    "entry_point": point,
                    "exit_point": point,
                }
            )
        route.append(
            {
                "role": imports.role,
                "country": imports.country,
                "competent_authority": imports.competent_authority,
                "entry_point": data.get("import_entry_point") or imports.entry_point,
                "customs_office": imports.customs_office,
            }
        )
        return route

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if (
            cleaned.get("kind") == ChangeKind.ROUTE
            and cleaned.get("transit_country")
            and not cleaned.get("transit_authority")
        ):
            self.add_error(
                "transit_authority", gettext_lazy("Name the transit country's authority.")
            )
        return cleaned


class ChangeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        assert isinstance(obj, ChangeRequest)
        return gettext("%(kind)s of %(day)s: %(description)s") % {
            "kind": obj.get_kind_display(),
            "day": f"{obj.requested_at:%Y-%m-%d}",
            "description": obj.description[:60],
        }


class AnswerForm(forms.Form):
    change = ChangeChoiceField(label=gettext_lazy("Change"), queryset=ChangeRequest.objects.none())
    answer = forms.ChoiceField(label=gettext_lazy("Answer"), choices=ChangeAnswer.choices)
    answered_on = date_field(gettext_lazy("Answered on"))
    note = forms.CharField(
        label=gettext_lazy("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, notification: Notification, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["change"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = notification.change_requests.filter(answer="")
