"""Reads about money owed: invoices with something left to pay, who is past due at a venue, and what the
venue's policy then takes away. The apps above billing (booking, memberships) ask here."""

from datetime import date, timedelta
from decimal import Decimal

from django.db.models import DecimalField, F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from lieux.billing.models import (
    BillingProfile,
    DirectDebit,
    DirectDebitStatus,
    DocumentKind,
    Invoice,
    InvoiceStatus,
    Payment,
)
from lieux.billing.models.invoices import PastDueAccess
from lieux.billing.services.payments import balance
from lieux.core.time import now
from lieux.venues.models import Venue

MONEY: DecimalField = DecimalField(max_digits=14, decimal_places=2)
# SQLite sums decimals as floats: the database only narrows the candidates, and `balance` decides.
HALF_CENT = Decimal("0.005")


def with_amount_due(invoices: QuerySet[Invoice]) -> QuerySet[Invoice]:
    """Annotate `amount_due`: the total less the credit notes issued against it and the payments net of
    their reversals."""
    paid = (
        Payment.objects.filter(invoice=OuterRef("pk"))
        .values("invoice")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    credited = (
        Invoice.objects.filter(
            corrects=OuterRef("pk"), kind=DocumentKind.CREDIT_NOTE, status=InvoiceStatus.ISSUED
        )
        .values("corrects")
        .annotate(total=Sum("gross_amount"))
        .values("total")
    )
    zero = Value(Decimal(0), output_field=MONEY)
    return invoices.annotate(
        amount_due=F("gross_amount")
        - Coalesce(Subquery(credited, output_field=MONEY), zero)
        - Coalesce(Subquery(paid, output_field=MONEY), zero)
    )


def unpaid_invoices(venue: Venue | None = None) -> QuerySet[Invoice]:
    """Issued invoices with something left to pay, oldest due first. Confirm each with `balance` before
    acting on its amount."""
    invoices = Invoice.objects.filter(status=InvoiceStatus.ISSUED, kind=DocumentKind.INVOICE)
    if venue is not None:
        invoices = invoices.filter(venue=venue)
    return (
        with_amount_due(invoices)
        .filter(Q(amount_due__gt=HALF_CENT))
        .select_related("venue", "buyer_user", "buyer_organisation")
        .order_by("due_on", "pk")
    )


def _local_today(venue: Venue) -> date:
    return now().astimezone(venue.tz).date()


def overdue_invoices(
    venue: Venue, user=None, *, organisation=None, today: date | None = None
) -> list[Invoice]:
    """The invoices of a person (or of an organisation) at the venue still unpaid after their due date
    plus the venue's grace days. An invoice whose direct debit is at the bank is not overdue: the money is
    on its way."""
    profile = BillingProfile.objects.filter(venue=venue).first()
    grace = profile.past_due_grace_days if profile else 0
    today = today or _local_today(venue)
    if organisation is not None:
        debtor = Q(buyer_organisation=organisation)
    elif getattr(user, "pk", None) is not None:
        debtor = Q(buyer_user_id=user.pk, buyer_organisation__isnull=True)
    else:
        return []
    debiting = DirectDebit.objects.filter(
        status__in=[DirectDebitStatus.ANNOUNCED, DirectDebitStatus.SUBMITTED]
    ).values("invoice_id")
    candidates = (
        unpaid_invoices(venue)
        .filter(debtor, due_on__lt=today - timedelta(days=grace))
        .exclude(pk__in=debiting)
    )
    return [invoice for invoice in candidates if balance(invoice).due > 0]


def is_past_due(venue: Venue, user=None, *, organisation=None, today: date | None = None) -> bool:
    """Whether the person (or the organisation) owes the venue an invoice overdue beyond its grace days.
    Invoices paid by an organisation count for the organisation, not for each of its members."""
    return bool(overdue_invoices(venue, user, organisation=organisation, today=today))


def access_restriction(venue: Venue, user=None, *, organisation=None, today: date | None = None) -> str:
    """What the venue's past-due policy takes from this person now: a `PastDueAccess` value, KEEP when
    they owe nothing overdue."""
    profile = BillingProfile.objects.filter(venue=venue).first()
    if profile is None or profile.past_due_access == PastDueAccess.KEEP:
        return PastDueAccess.KEEP
    if not is_past_due(venue, user, organisation=organisation, today=today):
        return PastDueAccess.KEEP
    return str(profile.past_due_access)


def may_book(restriction: str) -> bool:
    return restriction == PastDueAccess.KEEP


def may_enter(restriction: str) -> bool:
    return restriction != PastDueAccess.SUSPEND_ALL
