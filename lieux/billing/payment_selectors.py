"""Reads about payments and where invoices stand against them, scoped like the invoice reads.

A venue's team sees every payment of the venues they run; a person sees the payments made on the documents
issued to them or to their organisations. Balances of a whole page of invoices come from two grouped
queries, not two per invoice.
"""

import calendar
from collections.abc import Iterable
from datetime import date

from django.db.models import Count, Q, QuerySet, Sum

from lieux.billing.models import DirectDebitBatch, DocumentKind, Invoice, InvoiceStatus, Mandate, Payment
from lieux.billing.selectors import buyer_invoices
from lieux.billing.services.payments import Balance
from lieux.core.money import ZERO
from lieux.venues import selectors as venue_selectors
from lieux.venues.models import Venue

_RELATED = ("invoice", "venue", "reverses", "recorded_by")


def month_bounds(month: date) -> tuple[date, date]:
    """The first and last day of the month `month` falls in."""
    first = month.replace(day=1)
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


def _narrowed(
    payments: QuerySet[Payment], *, month: date | None, method: str | None, venue: Venue | None
) -> QuerySet[Payment]:
    if venue is not None:
        payments = payments.filter(venue=venue)
    if month is not None:
        first, last = month_bounds(month)
        payments = payments.filter(received_on__gte=first, received_on__lte=last)
    if method:
        payments = payments.filter(method=method)
    return payments.select_related(*_RELATED).order_by("-received_on", "-pk")


def venue_payments(
    venue: Venue, *, month: date | None = None, method: str | None = None
) -> QuerySet[Payment]:
    """A venue's payments and reversals for its team, newest first; the caller has checked the viewer runs
    the venue."""
    return _narrowed(Payment.objects.all(), month=month, method=method, venue=venue)


def visible_payments(
    user, *, venue: Venue | None = None, month: date | None = None, method: str | None = None
) -> QuerySet[Payment]:
    """The payments `user` may read: all those of the venues they run, and those made on the documents
    issued to them or to their organisations."""
    if not getattr(user, "is_authenticated", False):
        return Payment.objects.none()
    own = buyer_invoices(user).order_by().values("pk")
    condition = Q(invoice_id__in=own)
    staffed = venue_selectors.staffed_venue_ids(user)
    if staffed:
        condition |= Q(venue_id__in=staffed)
    return _narrowed(Payment.objects.filter(condition), month=month, method=method, venue=venue)


def payments_of(invoice: Invoice) -> list[Payment]:
    """An invoice's payments in the order they came, each reversal after the payment it undoes."""
    return list(invoice.payments.select_related("recorded_by", "reverses").order_by("received_on", "pk"))


def settles(invoice: Invoice) -> bool:
    """Only an issued invoice is paid; a draft is not owed yet and a credit note is money given back."""
    return invoice.status == InvoiceStatus.ISSUED and invoice.kind == DocumentKind.INVOICE


def balances_of(invoices: Iterable[Invoice]) -> dict[int, Balance]:
    """The balance of each issued invoice among `invoices`, by id (drafts and credit notes have none)."""
    payable = {invoice.pk: invoice for invoice in invoices if settles(invoice)}
    if not payable:
        return {}
    credited = dict(
        Invoice.objects.filter(
            corrects_id__in=payable, kind=DocumentKind.CREDIT_NOTE, status=InvoiceStatus.ISSUED
        )
        .values_list("corrects_id")
        .annotate(total=Sum("gross_amount"))
        .order_by()
    )
    paid = dict(
        Payment.objects.filter(invoice_id__in=payable)
        .values_list("invoice_id")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    return {
        pk: Balance(invoice.gross_amount, credited.get(pk) or ZERO, paid.get(pk) or ZERO)
        for pk, invoice in payable.items()
    }


def venue_mandates(venue: Venue) -> QuerySet[Mandate]:
    return (
        Mandate.objects.filter(venue=venue)
        .select_related("debtor_user", "debtor_organisation")
        .order_by("-signed_on", "-pk")
    )


def venue_debit_batches(venue: Venue) -> QuerySet[DirectDebitBatch]:
    """A venue's debit batches, newest first, with how many debits and how much each carries."""
    return (
        DirectDebitBatch.objects.filter(venue=venue)
        .annotate(debit_count=Count("debits"), total=Sum("debits__amount"))
        .order_by("-created_at", "-pk")
    )
