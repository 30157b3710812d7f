"""Reads about invoices, scoped to who is asking.

A person sees the documents issued to them and to the organisations they belong to; the staff of a venue
see every document of that venue, drafts included. Anything else does not exist for the viewer: the API
and the web answer 404 exactly as for a number that was never issued, so nobody can enumerate another
venue's or another member's invoices.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import ExtractMonth, ExtractYear
from django.utils.translation import gettext as _

from lieux.accounts.models import Organisation
from lieux.billing.models import DocumentKind, Invoice, InvoiceStatus
from lieux.core.errors import NotFound
from lieux.core.money import ZERO
from lieux.venues import selectors as venue_selectors
from lieux.venues.models import Venue

_RELATED = ("venue", "buyer_user", "buyer_organisation", "corrects")


def _organisation_ids(user) -> QuerySet:
    return Organisation.members.through.objects.filter(user_id=user.pk).values("organisation_id")


def _as_buyer(user) -> Q:
    return Q(status=InvoiceStatus.ISSUED) & (
        Q(buyer_user_id=user.pk) | Q(buyer_organisation_id__in=_organisation_ids(user))
    )


def buyer_invoices(user, venue: Venue | None = None) -> QuerySet[Invoice]:
    """The documents issued to `user` or to their organisations (the member's own list, even for a
    venue's team), newest first."""
    if not getattr(user, "is_authenticated", False):
        return Invoice.objects.none()
    invoices = Invoice.objects.filter(_as_buyer(user)).select_related(*_RELATED)
    if venue is not None:
        invoices = invoices.filter(venue=venue)
    return invoices.order_by("-issued_at", "-pk")


def visible_invoices(
    user,
    venue: Venue | None = None,
    status: str | None = None,
    *,
    kind: str | None = None,
) -> QuerySet[Invoice]:
    """Invoices and credit notes `user` may read, newest first. A buyer sees only issued documents (a
    draft is the venue's working copy, not yet an invoice); the venue's staff see drafts too."""
    if not getattr(user, "is_authenticated", False):
        return Invoice.objects.none()
    as_buyer = _as_buyer(user)
    staffed = venue_selectors.staffed_venue_ids(user)
    condition = as_buyer | Q(venue_id__in=staffed) if staffed else as_buyer
    invoices = Invoice.objects.filter(condition).select_related(*_RELATED)
    if venue is not None:
        invoices = invoices.filter(venue=venue)
    if status:
        invoices = invoices.filter(status=status)
    if kind:
        invoices = invoices.filter(kind=kind)
    # Drafts have no issue date yet: they come first, as the newest working copies.
    return invoices.order_by("-issued_at", "-pk")


def invoice_for(user, invoice_id: int) -> Invoice:
    """One document `user` may read, with its lines; NotFound otherwise (also for another venue's)."""
    invoice = visible_invoices(user).filter(pk=invoice_id).prefetch_related("lines").first()
    if invoice is None:
        raise NotFound(_("No such invoice."), code="unknown_invoice")
    return invoice


def venue_invoices(
    venue: Venue,
    *,
    status: str | None = None,
    kind: str | None = None,
    search: str = "",
    issued_from: date | None = None,
    issued_to: date | None = None,
) -> QuerySet[Invoice]:
    """A venue's documents for its team, filtered; the caller has checked the viewer runs the venue."""
    invoices = Invoice.objects.filter(venue=venue).select_related(*_RELATED)
    if status:
        invoices = invoices.filter(status=status)
    if kind:
        invoices = invoices.filter(kind=kind)
    if search:
        invoices = invoices.filter(
            Q(number__icontains=search)
            | Q(buyer_user__email__icontains=search)
            | Q(buyer_user__last_name__icontains=search)
            | Q(buyer_organisation__name__icontains=search)
        )
    if issued_from is not None:
        invoices = invoices.filter(issued_on__gte=issued_from)
    if issued_to is not None:
        invoices = invoices.filter(issued_on__lte=issued_to)
    return invoices.order_by("-issued_at", "-pk")


def credit_notes_of(invoice: Invoice) -> QuerySet[Invoice]:
    return Invoice.objects.filter(corrects=invoice, kind=DocumentKind.CREDIT_NOTE).order_by("issued_at", "pk")


@dataclass(frozen=True)
class MonthTotal:
    year: int
    month: int
    invoiced: Decimal  # invoices, incl. VAT
    credited: Decimal  # credit notes, incl. VAT (positive)

    @property
    def net(self) -> Decimal:
        return self.invoiced - self.credited


def monthly_totals(venue: Venue, *, last: date, months: int = 12) -> list[MonthTotal]:
    """Issued totals per calendar month (issue date at the venue), the `months` months ending with the
    month of `last`, oldest first; months without a document are there with zeros. One query."""
    year, month = last.year, last.month
    keys: list[tuple[int, int]] = []
    for _step in range(months):
        keys.append((year, month))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    keys.reverse()
    first = date(keys[0][0], keys[0][1], 1)
    rows = (
        Invoice.objects.filter(venue=venue, status=InvoiceStatus.ISSUED, issued_on__gte=first)
        .filter(issued_on__lte=last)
        .annotate(y=ExtractYear("issued_on"), m=ExtractMonth("issued_on"))
        .values("y", "m", "kind")
        .annotate(total=Sum("gross_amount"))
        .order_by()
    )
    found: dict[tuple[int, int, str], Decimal] = {(r["y"], r["m"], r["kind"]): r["total"] for r in rows}
    return [
        MonthTotal(
            year=y,
            month=m,
            invoiced=found.get((y, m, DocumentKind.INVOICE), ZERO) or ZERO,
            credited=found.get((y, m, DocumentKind.CREDIT_NOTE), ZERO) or ZERO,
        )
        for y, m in keys
    ]
