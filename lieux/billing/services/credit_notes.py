"""Credit notes (avoirs): the only way to correct or refund an issued invoice."""

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db.models import Sum
from django.utils.translation import gettext as _

from lieux.billing.errors import AlreadyCredited, NotIssued
from lieux.billing.models import DocumentKind, Invoice, InvoiceStatus
from lieux.billing.services.drafts import DraftLine, create_draft
from lieux.billing.services.issue import issue_locked
from lieux.core.db import atomic_with_retry
from lieux.core.errors import ValidationError
from lieux.core.money import ZERO


def issue_credit_note(
    invoice: Invoice,
    *,
    reason: str,
    lines: Sequence[DraftLine] | None = None,
    actor: Any = None,
    source_key: str | None = None,
) -> Invoice:
    """Credit all of `invoice` (no `lines`) or part of it. The total credited never exceeds the invoice:
    the check and the issue run under the venue's issuing lock, so two concurrent refunds cannot both pass."""
    if not reason.strip():
        raise ValidationError(_("Say why the invoice is credited."), code="reason_required")

    def work() -> Invoice:
        original = Invoice.objects.get(pk=invoice.pk)
        if original.status != InvoiceStatus.ISSUED or original.kind != DocumentKind.INVOICE:
            raise NotIssued(_("Only an issued invoice can be credited."))
        credit_lines = lines or [
            DraftLine(
                description=line.description,
                quantity=line.quantity,
                unit_net_amount=line.unit_net_amount,
                vat_rate=line.vat_rate,
                service_from=line.service_from,
                service_to=line.service_to,
                unit=line.unit,
            )
            for line in original.lines.all()
        ]
        draft = create_draft(
            venue=original.venue,
            kind=DocumentKind.CREDIT_NOTE,
            corrects=original,
            reason=reason,
            lines=credit_lines,
            service_from=original.service_from,
            service_to=original.service_to,
            buyer_user=original.buyer_user,
            buyer_organisation=original.buyer_organisation,
            sold_to_member=original.vat_regime == "exempt_members",
            source_key=source_key,
        )
        if draft.is_issued:  # the same source_key was credited already
            return draft
        note = issue_locked(draft.pk, actor=actor)
        if credited_amount(original) > original.gross_amount:
            raise AlreadyCredited(
                _("Invoice %(number)s would be credited beyond its total.") % {"number": original.number}
            )
        return note

    return atomic_with_retry(work)


def credited_amount(invoice: Invoice) -> Decimal:
    total = Invoice.objects.filter(
        corrects=invoice, kind=DocumentKind.CREDIT_NOTE, status=InvoiceStatus.ISSUED
    ).aggregate(total=Sum("gross_amount"))["total"]
    return total or ZERO
