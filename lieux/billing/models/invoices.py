"""Invoices and credit notes as legal records.

A draft is a working copy with no number. Issuing it snapshots the seller and buyer, allocates the next
number of its (venue, kind, year) series inside the same transaction, and seals it with a footprint that
chains it to the previous document of the venue. From then on the database refuses any UPDATE or DELETE
of the invoice and its lines (migration 0002); corrections are credit notes.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from lieux.core.time import now


class PastDueAccess(models.TextChoices):
    KEEP = "keep", _("Access kept, reminders only")
    SUSPEND_BOOKING = "suspend_booking", _("No new bookings until paid")
    SUSPEND_ALL = "suspend_all", _("No bookings and no entry until paid")


class BillingProfile(models.Model):
    """How one venue invoices: its numbering prefix, terms, bank details and legal extras."""

    venue = models.OneToOneField("venues.Venue", on_delete=models.CASCADE, related_name="billing_profile")
    invoice_prefix = models.CharField(
        _("invoice number prefix"),
        max_length=12,
        help_text=_("Letters and digits only, e.g. BRK. Numbers read PREFIX-F-2026-000001."),
    )
    payment_terms_days = models.PositiveSmallIntegerField(_("payment terms (days)"), default=30)
    late_penalty_rate = models.CharField(
        _("late-payment penalty rate"),
        max_length=120,
        default="taux directeur de la BCE majoré de 10 points",
    )
    rcs_city = models.CharField(_("RCS city"), max_length=80, blank=True)
    share_capital = models.CharField(_("share capital"), max_length=40, blank=True)
    vat_on_debits = models.BooleanField(_("VAT paid on debits"), default=False)
    iban = models.CharField(_("IBAN"), max_length=34, blank=True)
    bic = models.CharField(_("BIC"), max_length=11, blank=True)
    sepa_creditor_id = models.CharField(_("SEPA creditor identifier (ICS)"), max_length=35, blank=True)
    logo = models.FileField(_("logo"), upload_to="logos/", blank=True)
    past_due_grace_days = models.PositiveSmallIntegerField(
        _("grace days before the past-due policy"), default=15
    )
    past_due_access = models.CharField(
        _("when a member is past due"),
        max_length=20,
        choices=PastDueAccess.choices,
        default=PastDueAccess.KEEP,
    )
    # Footprint of the venue's last issued document. This row is locked while a document is issued, so
    # numbers and the chain advance one document at a time per venue.
    chain_head = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        verbose_name = _("billing profile")
        verbose_name_plural = _("billing profiles")

    def __str__(self) -> str:
        return str(self.venue)


class DocumentKind(models.TextChoices):
    INVOICE = "invoice", _("Invoice")
    CREDIT_NOTE = "credit_note", _("Credit note")


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ISSUED = "issued", _("Issued")


class BuyerKind(models.TextChoices):
    PERSON = "person", _("Private person")
    BUSINESS = "business", _("Business or association")


class OperationNature(models.TextChoices):
    """Nature of the operation (BT-23 in the French e-invoicing profile)."""

    SERVICES = "services", _("Services")
    GOODS = "goods", _("Goods")
    MIXED = "mixed", _("Goods and services")


class VatCategory(models.TextChoices):
    """UNTDID 5305 codes used in France (BR-FR-15)."""

    STANDARD = "S", _("Standard rate")
    EXEMPT = "E", _("Exempt")
    OUT_OF_SCOPE = "O", _("Outside the scope of VAT")


class InvoiceSeries(models.Model):
    """The counter of one numbering series. Its row is locked while a number is taken, and the increment
    rolls back with a failed issue, so numbers stay gapless (a database sequence would not)."""

    venue = models.ForeignKey("venues.Venue", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12, choices=DocumentKind.choices)
    year = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["venue", "kind", "year"], name="one_series_per_venue_kind_year")
        ]

    def __str__(self) -> str:
        return f"{self.venue_id}/{self.kind}/{self.year}: {self.last_number}"


class Invoice(models.Model):
    venue = models.ForeignKey("venues.Venue", on_delete=models.PROTECT, related_name="invoices")
    kind = models.CharField(
        _("kind"), max_length=12, choices=DocumentKind.choices, default=DocumentKind.INVOICE
    )
    status = models.CharField(_("status"), max_length=8, choices=InvoiceStatus.choices, default="draft")
    # Who pays: a person, or an organisation on behalf of its members. Snapshotted at issue into `buyer`.
    buyer_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="invoices"
    )
    buyer_organisation = models.ForeignKey(
        "accounts.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="invoices"
    )
    # A caller-chosen key ("booking:42", "subscription:7:2026-12") so that retrying a sale never invoices
    # it twice; the unique constraint is the guarantee, not the caller's care.
    source_key = models.CharField(max_length=120, null=True, blank=True)  # noqa: DJ001 - NULLs never collide
    corrects = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="credit_notes"
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    service_from = models.DateField(_("service from"))
    service_to = models.DateField(_("service to"))
    operation_nature = models.CharField(
        max_length=10, choices=OperationNature.choices, default=OperationNature.SERVICES
    )
    buyer_reference = models.CharField(_("purchase order"), max_length=60, blank=True)
    created_at = models.DateTimeField(default=now)

    # Set when issued, then frozen.
    number = models.CharField(_("number"), max_length=35, null=True, blank=True)  # noqa: DJ001 - drafts: NULL
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    sequence = models.PositiveIntegerField(null=True, blank=True)
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    issued_on = models.DateField(_("issue date"), null=True, blank=True)
    due_on = models.DateField(_("due date"), null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    seller = models.JSONField(default=dict, blank=True)
    buyer = models.JSONField(default=dict, blank=True)
    vat_regime = models.CharField(max_length=20, blank=True)
    vat_mention = models.CharField(max_length=200, blank=True)
    net_amount = models.DecimalField(
        _("total excl. VAT"), max_digits=12, decimal_places=2, default=Decimal(0)
    )
    vat_amount = models.DecimalField(_("VAT"), max_digits=12, decimal_places=2, default=Decimal(0))
    gross_amount = models.DecimalField(
        _("total incl. VAT"), max_digits=12, decimal_places=2, default=Decimal(0)
    )
    # The sealed content is what the footprint was computed over: `lieux billing verify` compares it with
    # the live columns to name an altered field, and rehashes it to detect an altered seal.
    sealed_content = models.JSONField(default=dict, blank=True)
    previous_footprint = models.CharField(max_length=64, blank=True)
    footprint = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["venue", "number"], name="invoice_number_unique_per_venue"),
            models.UniqueConstraint(
                fields=["venue", "kind", "year", "sequence"], name="invoice_sequence_unique"
            ),
            models.UniqueConstraint(fields=["venue", "source_key"], name="invoice_source_key_unique"),
            models.CheckConstraint(
                condition=models.Q(status="draft", number__isnull=True)
                | models.Q(status="issued", number__isnull=False, issued_at__isnull=False),
                name="invoice_number_iff_issued",
            ),
            models.CheckConstraint(
                condition=models.Q(buyer_user__isnull=False) | models.Q(buyer_organisation__isnull=False),
                name="invoice_has_buyer",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="invoice", corrects__isnull=True)
                | models.Q(kind="credit_note", corrects__isnull=False),
                name="credit_note_references_invoice",
            ),
        ]
        indexes = [
            models.Index(fields=["venue", "status", "issued_at"]),
            models.Index(fields=["buyer_user", "issued_at"]),
        ]

    def __str__(self) -> str:
        return self.number or _("Draft #%(id)s") % {"id": self.pk}

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        # The database refuses it too (migration 0002); this gives a clear error first.
        if self.pk and type(self).objects.filter(pk=self.pk, status=InvoiceStatus.ISSUED).exists():
            raise PermissionError(
                f"invoice {self.number} is issued: it can only be corrected by a credit note"
            )
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.is_issued:
            raise PermissionError(f"invoice {self.number} is issued: it cannot be deleted")
        return super().delete(*args, **kwargs)

    @property
    def is_issued(self) -> bool:
        return self.status == InvoiceStatus.ISSUED

    @property
    def is_credit_note(self) -> bool:
        return self.kind == DocumentKind.CREDIT_NOTE

    @property
    def is_business(self) -> bool:
        return self.buyer.get("kind") == BuyerKind.BUSINESS


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField()
    description = models.CharField(_("description"), max_length=300)
    quantity = models.DecimalField(_("quantity"), max_digits=10, decimal_places=3, default=Decimal(1))
    unit = models.CharField(_("unit"), max_length=12, default="C62", help_text=_("UN/ECE rec. 20 code"))
    unit_net_amount = models.DecimalField(_("unit price excl. VAT"), max_digits=12, decimal_places=2)
    vat_rate = models.DecimalField(
        _("VAT rate (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal(0),
        validators=[MinValueValidator(0)],
    )
    vat_category = models.CharField(max_length=2, choices=VatCategory.choices, default=VatCategory.STANDARD)
    net_amount = models.DecimalField(_("amount excl. VAT"), max_digits=12, decimal_places=2)
    service_from = models.DateField(null=True, blank=True)
    service_to = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["invoice", "position"], name="invoice_line_position")]

    def __str__(self) -> str:
        return self.description


class InvoiceDocument(models.Model):
    """The rendered PDF/A-3 with its Factur-X XML, written once after the invoice is issued."""

    invoice = models.OneToOneField(Invoice, on_delete=models.PROTECT, related_name="document")
    pdf = models.BinaryField()
    xml = models.TextField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=now)
    emailed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"PDF {self.invoice_id}"


class PeriodClosing(models.Model):
    """A closed accounting period of one venue: totals, perpetual total and an archive, each closing
    chained to the previous one. No document may be issued inside a closed period afterwards."""

    venue = models.ForeignKey("venues.Venue", on_delete=models.PROTECT, related_name="closings")
    period_start = models.DateField()
    period_end = models.DateField()
    closed_at = models.DateTimeField(default=now)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    document_count = models.PositiveIntegerField()
    net_amount = models.DecimalField(max_digits=14, decimal_places=2)
    vat_amount = models.DecimalField(max_digits=14, decimal_places=2)
    gross_amount = models.DecimalField(max_digits=14, decimal_places=2)
    perpetual_gross_amount = models.DecimalField(max_digits=16, decimal_places=2)
    last_footprint = models.CharField(max_length=64, blank=True)
    archive_name = models.CharField(max_length=200)
    archive_sha256 = models.CharField(max_length=64)
    previous_footprint = models.CharField(max_length=64, blank=True)
    footprint = models.CharField(max_length=64)

    class Meta:
        ordering = ["venue", "period_start"]
        constraints = [
            models.UniqueConstraint(fields=["venue", "period_start"], name="one_closing_per_period"),
        ]

    def __str__(self) -> str:
        return f"{self.period_start} → {self.period_end}"
