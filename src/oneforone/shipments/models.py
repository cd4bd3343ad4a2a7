from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy


class Stream(models.TextChoices):
    """What a notification or a consignment carries; batteries travel on their own."""

    PHONES = "phones", gettext_lazy("Discarded phones without batteries")
    BATTERIES = "batteries", gettext_lazy("Batteries removed from phones")


class ConsignmentState(models.TextChoices):
    DRAFT = "draft", gettext_lazy("Being packed at the hub")
    DISPATCHED = "dispatched", gettext_lazy("Dispatched by the hub")
    IN_TRANSIT = "in_transit", gettext_lazy("In the carrier's custody")
    RECEIVED = "received", gettext_lazy("Received and counted by the recycler")
    TREATED = "treated", gettext_lazy("Treatment completed")


# The only moves the database accepts (see the trigger in migration 0002).
TRANSITIONS: dict[str, str] = {
    ConsignmentState.DRAFT: ConsignmentState.DISPATCHED,
    ConsignmentState.DISPATCHED: ConsignmentState.IN_TRANSIT,
    ConsignmentState.IN_TRANSIT: ConsignmentState.RECEIVED,
    ConsignmentState.RECEIVED: ConsignmentState.TREATED,
}


class Consignment(models.Model):
    """Sealed lots travelling from a hub to a recycler through signed custody steps."""

    reference = models.CharField(max_length=40, unique=True)
    origin_hub = models.ForeignKey(
        "collection.Hub", on_delete=models.PROTECT, related_name="consignments"
    )
    carrier = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    recycler = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(
        max_length=12, choices=ConsignmentState.choices, default=ConsignmentState.DRAFT
    )
    phones_dispatched = models.PositiveIntegerField(null=True, blank=True)
    net_weight_kg_dispatched = models.DecimalField(
        max_digits=12, decimal_places=3, null=True, blank=True
    )
    container_number = models.CharField(max_length=20, blank=True)
    planned_departure = models.DateField(null=True, blank=True)
    # Issue 6: the notification it moves under and, for batteries, the dangerous-goods data.
    notification = models.ForeignKey(
        "Notification",
        on_delete=models.PROTECT,
        related_name="consignments",
        null=True,
        blank=True,
    )
    stream = models.CharField(max_length=10, choices=Stream.choices, default=Stream.PHONES)
    un_number = models.CharField(max_length=10, blank=True, help_text=gettext_lazy("e.g. UN3480"))
    dangerous_goods_class = models.CharField(max_length=4, blank=True)
    packing_instruction = models.CharField(
        max_length=10, blank=True, help_text=gettext_lazy("e.g. P909")
    )
    damaged = models.BooleanField(
        default=False, help_text=gettext_lazy("damaged or defective batteries")
    )
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=ConsignmentState.values),
                name="consignment_state_known",
            ),
            models.CheckConstraint(
                condition=models.Q(state=ConsignmentState.DRAFT)
                | models.Q(phones_dispatched__gte=1, net_weight_kg_dispatched__gt=0)
                # A battery consignment carries no phones, only their batteries' weight.
                | models.Q(stream="batteries", phones_dispatched=0, net_weight_kg_dispatched__gt=0),
                name="consignment_dispatched_has_figures",
            ),
            # Batteries travel as dangerous goods of class 9 under P909 (P908/LP904 when damaged).
            models.CheckConstraint(
                condition=models.Q(
                    stream="phones", un_number="", dangerous_goods_class="", packing_instruction=""
                )
                | models.Q(
                    stream="batteries",
                    un_number__in=("UN3480", "UN3481", "UN3090", "UN3091"),
                    dangerous_goods_class="9",
                    damaged=False,
                    packing_instruction="P909",
                )
                | models.Q(
                    stream="batteries",
                    un_number__in=("UN3480", "UN3481", "UN3090", "UN3091"),
                    dangerous_goods_class="9",
                    damaged=True,
                    packing_instruction__in=("P908", "LP904"),
                ),
                name="consignment_dangerous_goods_complete",
            ),
        ]

    def __str__(self) -> str:
        return self.reference


class CustodyStep(models.TextChoices):
    DISPATCH = "dispatch", gettext_lazy("Hub dispatch")
    PICKUP = "pickup", gettext_lazy("Carrier pick-up")
    HANDOVER = "handover", gettext_lazy("Handover to the next carrier")
    RECEIPT = "receipt", gettext_lazy("Consignee receipt")
    RECEPTION = "reception", gettext_lazy("Recycler reception")
    TREATMENT = "treatment", gettext_lazy("Treatment completion")


class CustodySignature(models.Model):
    """A party's signature over the consignment's fields at one step; append-only, hash-chained."""

    consignment = models.ForeignKey(
        Consignment, on_delete=models.PROTECT, related_name="signatures"
    )
    step = models.CharField(max_length=10, choices=CustodyStep.choices)
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField()
    sealed_fields = models.JSONField()
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    # Issue 6: a handover is signed once per carrier leg; every other step has leg 0.
    leg = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["signed_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["consignment", "step", "leg"], name="custody_step_once_per_leg"
            ),
            models.CheckConstraint(
                condition=models.Q(step="handover", leg__gte=2)
                | (~models.Q(step="handover") & models.Q(leg=0)),
                name="custody_leg_only_on_handover",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.consignment} {self.step} by {self.organisation}"


# --- Issue 6: transboundary movements under the Basel Convention and Regulation (EU) 2024/1157 ---


class CodeList(models.TextChoices):
    """The dated code lists a notification or movement document draws its codes from."""

    BASEL = "basel", gettext_lazy("Basel Annex VIII/IX/II and Y codes")
    HAZARD = "hazard", gettext_lazy("Basel H codes (hazardous characteristics)")
    OPERATION = "operation", gettext_lazy("Recovery (R) and disposal (D) operations")
    EWC = "ewc", gettext_lazy("EU List of Waste")
    HS = "hs", gettext_lazy("Harmonised System (customs)")
    UN_NUMBER = "un_number", gettext_lazy("UN numbers (dangerous goods)")
    PACKING_INSTRUCTION = "packing_instruction", gettext_lazy("ADR/IMDG packing instructions")
    PACKAGING = "packaging", gettext_lazy("Packaging types")
    PHYSICAL = "physical", gettext_lazy("Physical characteristics")
    TRANSPORT = "transport", gettext_lazy("Means of transport")


class Code(models.Model):
    """One entry of a code list, valid on the days from valid_from to valid_to (both inclusive;
    open ends mean always). A document uses the entries valid on its date; `replaced_by` names
    the codes that take over when an entry ends."""

    code_list = models.CharField(max_length=24, choices=CodeList.choices)
    code = models.CharField(max_length=20)
    label = models.CharField(max_length=400)
    hazardous = models.BooleanField(default=False)
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True)
    replaced_by = models.CharField(max_length=100, blank=True)
    source = models.CharField(max_length=300)

    class Meta:
        ordering = ["code_list", "code", "valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["code_list", "code", "valid_from"],
                nulls_distinct=False,
                name="code_once_per_start",
            ),
            models.CheckConstraint(
                condition=models.Q(valid_from__isnull=True)
                | models.Q(valid_to__isnull=True)
                | models.Q(valid_to__gte=models.F("valid_from")),
                name="code_validity_ordered",
            ),
            models.CheckConstraint(
                condition=models.Q(code_list__in=CodeList.values), name="code_list_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.get_code_list_display()})"


class ShipmentType(models.TextChoices):
    SINGLE = "single", gettext_lazy("Single shipment")
    MULTIPLE = "multiple", gettext_lazy("Multiple shipments")


class Notification(models.Model):
    """A notification of transboundary shipments (Annex IA of Regulation (EU) 2024/1157), by its
    numbered blocks. The number is the one the authority of export issued, stored as issued."""

    number = models.CharField(
        max_length=40, unique=True, help_text=gettext_lazy("as issued (block 1)")
    )
    stream = models.CharField(max_length=10, choices=Stream.choices, default=Stream.PHONES)
    # Blocks 1-2: notifier and consignee; 10-11: generator and facility.
    notifier = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    consignee = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    generator = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    generator_site = models.CharField(
        max_length=300, help_text=gettext_lazy("site and process of generation")
    )
    facility = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    facility_site = models.CharField(
        max_length=300, help_text=gettext_lazy("actual site of recovery")
    )
    # Blocks 3-7: shipments, quantity, dates, packaging.
    shipment_type = models.CharField(max_length=8, choices=ShipmentType.choices)
    intended_shipments = models.PositiveIntegerField()
    total_quantity_kg = models.DecimalField(max_digits=14, decimal_places=3)
    first_departure = models.DateField()
    last_departure = models.DateField()
    packaging_types = models.JSONField(default=list, help_text=gettext_lazy("packaging type codes"))
    # Blocks 11-14: operation and waste description and codes.
    operation_code = models.CharField(max_length=4, help_text=gettext_lazy("R code"))
    technology = models.CharField(max_length=300, blank=True)
    waste_description = models.TextField()
    physical_characteristics = models.CharField(max_length=4)
    basel_code = models.CharField(max_length=20)
    ewc_code = models.CharField(max_length=20)
    hs_code = models.CharField(max_length=20)
    y_codes = models.JSONField(default=list, blank=True)
    h_codes = models.JSONField(default=list, blank=True)
    un_number = models.CharField(max_length=10, blank=True)
    # The dates the codes above were checked against (the notification's date).
    notified_on = models.DateField()
    # The day the competent authority of destination acknowledged the notification as complete;
    # the transit authorities' tacit-consent periods run from it.
    acknowledged_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-notified_on", "number"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(intended_shipments__gte=1), name="notification_shipments_min"
            ),
            models.CheckConstraint(
                condition=models.Q(shipment_type="multiple") | models.Q(intended_shipments=1),
                name="notification_single_is_one",
            ),
            models.CheckConstraint(
                condition=models.Q(total_quantity_kg__gt=0), name="notification_quantity_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(last_departure__gte=models.F("first_departure")),
                name="notification_departures_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class RouteRole(models.TextChoices):
    EXPORT = "export", gettext_lazy("State of export")
    TRANSIT = "transit", gettext_lazy("State of transit")
    IMPORT = "import", gettext_lazy("State of import")


class RouteStop(models.Model):
    """A country on the notified route (block 16), in order, with its competent authority and
    the points where the shipment leaves and enters it."""

    notification = models.ForeignKey(Notification, on_delete=models.PROTECT, related_name="route")
    sequence = models.PositiveSmallIntegerField()
    role = models.CharField(max_length=8, choices=RouteRole.choices)
    country = models.CharField(max_length=2, help_text=gettext_lazy("ISO 3166-1 alpha-2"))
    competent_authority = models.CharField(max_length=200)
    entry_point = models.CharField(max_length=200, blank=True)
    exit_point = models.CharField(max_length=200, blank=True)
    customs_office = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["notification", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["notification", "sequence"], name="route_stop_sequence_once"
            ),
            models.CheckConstraint(
                condition=models.Q(country__regex=r"^[A-Z]{2}$"), name="route_stop_country_iso"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.notification} {self.sequence}: {self.country} ({self.role})"


class NotifiedCarrier(models.Model):
    """A carrier named in the notification (block 8), with its means of transport."""

    notification = models.ForeignKey(
        Notification, on_delete=models.PROTECT, related_name="carriers"
    )
    sequence = models.PositiveSmallIntegerField()
    carrier = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    means_of_transport = models.CharField(max_length=4, help_text=gettext_lazy("transport code"))

    class Meta:
        ordering = ["notification", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["notification", "sequence"], name="notified_carrier_sequence_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.notification} carrier {self.sequence}: {self.carrier}"


class Decision(models.TextChoices):
    CONSENT = "consent", gettext_lazy("Consent")
    CONDITIONS = "conditions", gettext_lazy("Consent with conditions")
    OBJECTION = "objection", gettext_lazy("Objection")
    TACIT = "tacit", gettext_lazy("Tacit consent (no objection within the legal period)")


class Consent(models.Model):
    """A competent authority's decision on a notification; append-only (a new decision supersedes)."""

    notification = models.ForeignKey(
        Notification, on_delete=models.PROTECT, related_name="consents"
    )
    route_stop = models.ForeignKey(RouteStop, on_delete=models.PROTECT, related_name="consents")
    decision = models.CharField(max_length=10, choices=Decision.choices)
    conditions = models.TextField(blank=True)
    decided_on = models.DateField()
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True)
    reference = models.CharField(max_length=100, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["notification", "route_stop", "recorded_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(decision="objection")
                | models.Q(valid_from__isnull=False, valid_to__isnull=False),
                name="consent_has_validity",
            ),
            models.CheckConstraint(
                condition=~models.Q(decision="conditions") | ~models.Q(conditions=""),
                name="consent_conditions_stated",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.notification} {self.route_stop.country}: {self.decision}"


class Contract(models.Model):
    """The contract between notifier and consignee for the recovery of the notified waste."""

    notification = models.ForeignKey(
        Notification, on_delete=models.PROTECT, related_name="contracts"
    )
    reference = models.CharField(max_length=100)
    signed_on = models.DateField()
    valid_from = models.DateField()
    valid_to = models.DateField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_to__gte=models.F("valid_from")),
                name="contract_validity_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"contract {self.reference} for {self.notification}"


class FinancialGuarantee(models.Model):
    """A guarantee or insurance covering transport, recovery and 90 days of storage."""

    reference = models.CharField(max_length=100, unique=True)
    guarantor = models.CharField(max_length=200)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    valid_from = models.DateField()
    valid_to = models.DateField()
    notifications = models.ManyToManyField(Notification, related_name="guarantees")
    released_on = models.DateField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="guarantee_amount_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(currency__regex=r"^[A-Z]{3}$"), name="guarantee_currency_iso"
            ),
            models.CheckConstraint(
                condition=models.Q(valid_to__gte=models.F("valid_from")),
                name="guarantee_validity_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"guarantee {self.reference}"


class ChangeKind(models.TextChoices):
    QUANTITY = "quantity", gettext_lazy("Quantity")
    ROUTE = "route", gettext_lazy("Route")
    DATES = "dates", gettext_lazy("Dates")
    CARRIER = "carrier", gettext_lazy("Carrier")


class ChangeAnswer(models.TextChoices):
    ACCEPTED = "accepted", gettext_lazy("Accepted by the authorities")
    REFUSED = "refused", gettext_lazy("Refused by the authorities")
    WITHDRAWN = "withdrawn", gettext_lazy("Withdrawn by the notifier")


class ChangeRequest(models.Model):
    """A significant change to a consented notification; shipments wait until it is answered."""

    notification = models.ForeignKey(
        Notification, on_delete=models.PROTECT, related_name="change_requests"
    )
    kind = models.CharField(max_length=10, choices=ChangeKind.choices)
    description = models.TextField()
    proposed = models.JSONField(default=dict, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField()
    answer = models.CharField(max_length=10, choices=ChangeAnswer.choices, blank=True)
    answered_on = models.DateField(null=True, blank=True)
    answer_note = models.TextField(blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )

    class Meta:
        ordering = ["notification", "requested_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(answer="", answered_on__isnull=True)
                | (~models.Q(answer="") & models.Q(answered_on__isnull=False)),
                name="change_request_answer_dated",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.notification}: {self.kind} change"


class MovementDocument(models.Model):
    """The movement document of one consignment (Annex IB), numbered n/N under its notification."""

    consignment = models.OneToOneField(
        Consignment, on_delete=models.PROTECT, related_name="movement_document"
    )
    notification = models.ForeignKey(
        Notification, on_delete=models.PROTECT, related_name="movement_documents"
    )
    serial = models.PositiveIntegerField(help_text=gettext_lazy("n of n/N"))
    actual_quantity_kg = models.DecimalField(max_digits=14, decimal_places=3)
    actual_departure = models.DateField()
    packaging_type = models.CharField(max_length=4)
    packages = models.PositiveIntegerField()
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["notification", "serial"]
        constraints = [
            models.UniqueConstraint(
                fields=["notification", "serial"], name="movement_document_serial_once"
            ),
            models.CheckConstraint(
                condition=models.Q(serial__gte=1), name="movement_document_serial_min"
            ),
            models.CheckConstraint(
                condition=models.Q(actual_quantity_kg__gt=0, packages__gte=1),
                name="movement_document_quantity_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.notification} {self.serial}/{self.notification.intended_shipments}"


class Attachment(models.Model):
    """A signed scan or other file kept with a notification or a movement document; the bytes
    are stored under their SHA-256 and kept for the retention period after completion."""

    notification = models.ForeignKey(
        Notification, on_delete=models.PROTECT, related_name="attachments"
    )
    movement_document = models.ForeignKey(
        MovementDocument,
        on_delete=models.PROTECT,
        related_name="attachments",
        null=True,
        blank=True,
    )
    title = models.CharField(max_length=200)
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    content = models.BinaryField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["uploaded_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(sha256__regex=r"^[0-9a-f]{64}$"), name="attachment_sha256"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.sha256[:12]})"


# --- Issue 6: carrier legs, revision requests and battery consignments (movement part) ---

BATTERY_UN_NUMBERS = ("UN3480", "UN3481", "UN3090", "UN3091")


class CarrierLeg(models.Model):
    """One carrier's part of the journey: leg 1 is the pick-up at the hub, each later leg the
    handover from the previous carrier (block 8 of the movement document)."""

    consignment = models.ForeignKey(Consignment, on_delete=models.PROTECT, related_name="legs")
    movement_document = models.ForeignKey(
        MovementDocument, on_delete=models.PROTECT, related_name="legs", null=True, blank=True
    )
    sequence = models.PositiveSmallIntegerField()
    carrier = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    means_of_transport = models.CharField(
        max_length=4, help_text=gettext_lazy("R road, S sea, T rail, A air")
    )
    vehicle = models.CharField(
        max_length=60, help_text=gettext_lazy("plate number, or vessel and voyage")
    )
    transferred_on = models.DateField()
    signature = models.OneToOneField(
        CustodySignature, on_delete=models.PROTECT, related_name="carrier_leg"
    )

    class Meta:
        ordering = ["consignment", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["consignment", "sequence"], name="carrier_leg_sequence_once"
            ),
            models.CheckConstraint(
                condition=models.Q(sequence__gte=1), name="carrier_leg_sequence_min"
            ),
            models.CheckConstraint(
                condition=~models.Q(vehicle=""), name="carrier_leg_vehicle_named"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.consignment} leg {self.sequence}: {self.carrier}"


class RevisionStatus(models.TextChoices):
    PENDING = "pending", gettext_lazy("Waiting for the other parties")
    APPROVED = "approved", gettext_lazy("Approved and applied")
    REJECTED = "rejected", gettext_lazy("Rejected")


class RevisionRequest(models.Model):
    """A change to a field sealed by a signature; applied only when every other party that
    signed the consignment approves it."""

    consignment = models.ForeignKey(
        Consignment, on_delete=models.PROTECT, related_name="revision_requests"
    )
    target = models.CharField(
        max_length=20, help_text=gettext_lazy("consignment, movement_document or leg")
    )
    target_id = models.PositiveBigIntegerField()
    field = models.CharField(max_length=40)
    old_value = models.CharField(max_length=200)
    new_value = models.CharField(max_length=200)
    reason = models.TextField()
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=RevisionStatus.choices, default=RevisionStatus.PENDING
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(reason=""), name="revision_request_reason_given"
            ),
            models.CheckConstraint(
                condition=models.Q(status="pending", closed_at__isnull=True)
                | (~models.Q(status="pending") & models.Q(closed_at__isnull=False)),
                name="revision_request_closed_dated",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.consignment}: {self.field} {self.old_value} -> {self.new_value}"


class RevisionVote(models.TextChoices):
    APPROVE = "approve", gettext_lazy("Approve")
    REJECT = "reject", gettext_lazy("Reject")


class RevisionAnswer(models.Model):
    """One signing party's answer to a revision request (append-only)."""

    request = models.ForeignKey(RevisionRequest, on_delete=models.PROTECT, related_name="answers")
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    vote = models.CharField(max_length=8, choices=RevisionVote.choices)
    note = models.TextField(blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField()

    class Meta:
        ordering = ["answered_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "organisation"], name="revision_answer_once_per_party"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request}: {self.vote} by {self.organisation}"


class ConsigneeReceipt(models.Model):
    """The consignee's signed statement that the shipment arrived (block 18)."""

    consignment = models.OneToOneField(
        Consignment, on_delete=models.PROTECT, related_name="consignee_receipt"
    )
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    received_on = models.DateField()
    quantity_kg = models.DecimalField(max_digits=14, decimal_places=3)
    signature = models.OneToOneField(
        CustodySignature, on_delete=models.PROTECT, related_name="consignee_receipt"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity_kg__gt=0), name="consignee_receipt_quantity_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.consignment} received {self.received_on}"


# The deadline models live in their own module; imported here so Django registers them.
from oneforone.shipments.deadline_models import (  # noqa: E402, F401
    DeadlineAct,
    DeadlineReminder,
    DeadlineRule,
)
