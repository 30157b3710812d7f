"""Closing a month: each transfer left after netting becomes a B2B invoice from the creditor venue to the
debtor venue, issued through billing, and the statement is frozen.

Everything happens in one transaction under the statement's row lock, so a failure leaves the month open
with no invoice issued. Invoices carry the source key "clearing:<statement id>:<debtor venue id>" at the
creditor venue, so a retried close never invoices twice."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from lieux.accounts.models import Organisation
from lieux.billing.models import Invoice
from lieux.billing.services.drafts import DraftLine, create_draft
from lieux.billing.services.issue import issue_locked
from lieux.core import audit
from lieux.core.db import atomic_with_retry
from lieux.core.errors import ValidationError
from lieux.core.time import now
from lieux.interlieux.clearing import rules
from lieux.interlieux.clearing.models import ClearingStatement, StatementStatus, Transfer
from lieux.venues.models import Venue


def _silent(_line: str) -> None:
    pass


def organisation_for_venue(venue: Venue) -> Organisation:
    """The venue as a business buyer: the organisation carrying its legal name and SIREN, created with its
    address and e-mail on first use."""
    existing = Organisation.objects.filter(siren=venue.siren, name=venue.legal_name).order_by("pk").first()
    if existing is not None:
        return existing
    return Organisation.objects.create(
        name=venue.legal_name,
        siren=venue.siren,
        vat_number=venue.vat_number,
        billing_email=venue.email,
        address=f"{venue.street}\n{venue.postcode} {venue.city}",
    )


def source_key(statement: ClearingStatement, debtor_id: int) -> str:
    return f"clearing:{statement.pk}:{debtor_id}"


def invoice_transfer(statement: ClearingStatement, transfer: Transfer, *, actor: Any = None) -> Invoice:
    first, last = rules.month_bounds(statement.month)
    description = _(
        "Pass Interlieux clearing, %(month)s: balance after multilateral netting "
        "(statement %(id)s, key v%(version)s)"
    ) % {
        "month": f"{statement.month:%m/%Y}",
        "id": statement.pk,
        "version": statement.key_snapshot["version"],
    }
    draft = create_draft(
        venue=transfer.creditor,
        buyer_organisation=organisation_for_venue(transfer.debtor),
        lines=[
            DraftLine(
                description=description,
                quantity=Decimal(1),
                unit_net_amount=transfer.amount,
                service_from=first,
                service_to=last,
            )
        ],
        service_from=first,
        service_to=last,
        source_key=source_key(statement, transfer.debtor_id),
        buyer_reference=f"CLEARING-{statement.month:%Y-%m}",
    )
    return issue_locked(draft.pk, actor=actor)


def close_locked(
    statement: ClearingStatement, *, actor: Any = None, progress: Callable[[str], None] = _silent
) -> ClearingStatement:
    """The closing steps; the caller holds the transaction and the statement's row lock."""
    _first, last = rules.month_bounds(statement.month)
    if last >= timezone.localdate(now()):
        raise ValidationError(
            _("%(month)s is not over yet: it can be computed, not closed.")
            % {"month": f"{statement.month:%Y-%m}"},
            code="month_not_over",
        )
    transfers = list(statement.transfers.select_related("debtor", "creditor").order_by("-amount", "pk"))
    for transfer in transfers:
        transfer.invoice = invoice_transfer(statement, transfer, actor=actor)
        transfer.save(update_fields=["invoice"])
        progress(
            _("invoice %(number)s: %(creditor)s → %(debtor)s, %(amount)s € excl. VAT")
            % {
                "number": transfer.invoice.number,
                "creditor": transfer.creditor.name,
                "debtor": transfer.debtor.name,
                "amount": transfer.amount,
            }
        )
    statement.status = StatementStatus.CLOSED
    statement.closed_at = now()
    statement.closed_by = actor if getattr(actor, "is_authenticated", False) else None
    statement.save(update_fields=["status", "closed_at", "closed_by"])
    audit.record(
        "clearing.statement.closed",
        statement,
        actor=actor,
        month=f"{statement.month:%Y-%m}",
        invoices=[t.invoice_id for t in transfers],
    )
    progress(
        _("%(month)s closed with %(count)s invoices")
        % {"month": f"{statement.month:%Y-%m}", "count": len(transfers)}
    )
    return statement


def close_month(
    statement: ClearingStatement, *, actor: Any = None, progress: Callable[[str], None] = _silent
) -> ClearingStatement:
    """Issue the month's inter-venue invoices and freeze its statement as it was last computed. Closing a
    closed month returns it unchanged."""

    def work() -> ClearingStatement:
        locked = ClearingStatement.objects.select_for_update().get(pk=statement.pk)
        if locked.is_closed:
            return locked
        return close_locked(locked, actor=actor, progress=progress)

    return atomic_with_retry(work)
