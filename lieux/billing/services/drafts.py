"""Draft invoices: working copies with lines and no number."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction

from lieux.accounts.models import Organisation, User
from lieux.billing import rules
from lieux.billing.errors import NothingToInvoice
from lieux.billing.models import BillingProfile, DocumentKind, Invoice, InvoiceLine
from lieux.core.errors import ValidationError
from lieux.venues.models import Venue


@dataclass(frozen=True)
class DraftLine:
    description: str
    quantity: Decimal
    unit_net_amount: Decimal
    vat_rate: Decimal = Decimal(20)
    service_from: date | None = None
    service_to: date | None = None
    unit: str = "C62"  # UN/ECE rec. 20: "one" (HUR for hours, DAY for days)


def profile_for(venue: Venue) -> BillingProfile:
    """The venue's billing profile, created with a prefix made from its slug on first use."""
    try:
        return BillingProfile.objects.get(venue=venue)
    except BillingProfile.DoesNotExist:
        prefix = "".join(ch for ch in venue.slug.upper() if ch.isalnum())[:6] or "LC"
        try:
            with transaction.atomic():
                return BillingProfile.objects.create(venue=venue, invoice_prefix=prefix)
        except IntegrityError:  # created meanwhile by a concurrent issuer
            return BillingProfile.objects.get(venue=venue)


@dataclass
class Draft:
    """A draft not written yet: the invoice row and its lines, validated, with no primary keys."""

    invoice: Invoice
    lines: list[InvoiceLine]


def create_draft(
    *,
    venue: Venue,
    lines: Sequence[DraftLine],
    service_from: date,
    service_to: date,
    buyer_user: User | None = None,
    buyer_organisation: Organisation | None = None,
    sold_to_member: bool = False,
    source_key: str | None = None,
    kind: str = DocumentKind.INVOICE,
    corrects: Invoice | None = None,
    reason: str = "",
    buyer_reference: str = "",
) -> Invoice:
    """Write a draft. With a `source_key` already used at this venue, return that document instead, so a
    retried sale is never invoiced twice. Free lines are dropped; a draft with nothing to pay is refused."""
    if source_key:
        existing = Invoice.objects.filter(venue=venue, source_key=source_key).first()
        if existing:
            return existing
    draft = build_draft(
        venue=venue,
        lines=lines,
        service_from=service_from,
        service_to=service_to,
        buyer_user=buyer_user,
        buyer_organisation=buyer_organisation,
        sold_to_member=sold_to_member,
        source_key=source_key,
        kind=kind,
        corrects=corrects,
        reason=reason,
        buyer_reference=buyer_reference,
    )
    return save_draft(draft, check_existing=False)


def build_draft(
    *,
    venue: Venue,
    lines: Sequence[DraftLine],
    service_from: date,
    service_to: date,
    buyer_user: User | None = None,
    buyer_organisation: Organisation | None = None,
    sold_to_member: bool = False,
    source_key: str | None = None,
    kind: str = DocumentKind.INVOICE,
    corrects: Invoice | None = None,
    reason: str = "",
    buyer_reference: str = "",
) -> Draft:
    """The draft `create_draft` writes, checked but not saved: callers writing many documents at once
    (`issue.issue_new_documents`) build each one here and write them together."""
    if buyer_user is None and buyer_organisation is None:
        raise ValidationError("An invoice needs a buyer.", code="buyer_required")
    if service_to < service_from:
        raise ValidationError("The service period ends before it starts.", code="invalid_period")
    regime = rules.vat_regime(venue.vat_status, sold_to_member=sold_to_member)
    paid_lines = [line for line in lines if line.quantity * line.unit_net_amount != 0]
    if not paid_lines:
        raise NothingToInvoice()
    for line in paid_lines:
        if line.quantity <= 0 or line.unit_net_amount < 0:
            raise ValidationError("Quantities and prices must be positive.", code="invalid_line")
        if regime.charges_vat and line.vat_rate not in rules.FRENCH_VAT_RATES:
            raise ValidationError(
                f"VAT rate {line.vat_rate} % is not a French rate.", code="invalid_vat_rate"
            )
    invoice = Invoice(
        venue=venue,
        kind=kind,
        buyer_user=buyer_user,
        buyer_organisation=buyer_organisation,
        source_key=source_key,
        corrects=corrects,
        reason=reason,
        service_from=service_from,
        service_to=service_to,
        buyer_reference=buyer_reference,
        vat_regime=regime.code,
    )
    invoice_lines = [
        InvoiceLine(
            position=position,
            description=line.description,
            quantity=line.quantity,
            unit=line.unit,
            unit_net_amount=line.unit_net_amount,
            vat_rate=line.vat_rate if regime.charges_vat else Decimal(0),
            vat_category=regime.category,
            net_amount=rules.Line(
                line.description, line.quantity, line.unit_net_amount, line.vat_rate
            ).net_amount,
            service_from=line.service_from,
            service_to=line.service_to,
        )
        for position, line in enumerate(paid_lines, start=1)
    ]
    return Draft(invoice, invoice_lines)


def save_draft(draft: Draft, *, check_existing: bool = True) -> Invoice:
    """Write a built draft, or return the document already written under its source_key."""
    invoice, source_key = draft.invoice, draft.invoice.source_key
    if check_existing and source_key:
        existing = Invoice.objects.filter(venue_id=invoice.venue_id, source_key=source_key).first()
        if existing:
            return existing
    try:
        with transaction.atomic():
            invoice.save()
            for invoice_line in draft.lines:
                invoice_line.invoice = invoice
            InvoiceLine.objects.bulk_create(draft.lines)
    except IntegrityError:
        if source_key and (
            existing := Invoice.objects.filter(venue_id=invoice.venue_id, source_key=source_key).first()
        ):
            return existing  # a concurrent caller wrote the same sale first
        raise
    return invoice
