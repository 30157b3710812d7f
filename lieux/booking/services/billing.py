"""Invoicing what credits did not cover: a source of the memberships billing run.

The run asks `pending` for the confirmed bookings that ended in the period with something left to bill
and no invoice yet, then calls `bill` for each. `bill` is idempotent twice over: the booking's
BookingInvoice row (one per booking) and the draft's source_key "booking:<id>" (one per venue), so a run
killed at any point and started again bills each booking once.
"""

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from lieux.billing.models import Invoice
from lieux.billing.services.drafts import DraftLine, create_draft
from lieux.billing.services.issue import issue_invoice
from lieux.booking.models import Booking, BookingInvoice, Status
from lieux.core import audit
from lieux.core.db import atomic_with_retry
from lieux.core.errors import NotFound
from lieux.core.time import UTC, now
from lieux.memberships.hooks import BillingSource
from lieux.venues import selectors as venue_selectors

VAT_RATE = Decimal(20)  # room hire: the standard rate; the venue's regime may waive it on the invoice


def pending(period_start: date, period_end: date, venue_ids: Iterable[int] | None = None) -> list[int]:
    """Ids of confirmed bookings that ended within [period_start, period_end] (each venue's local dates,
    and not after now) with a billable remainder and no invoice yet, oldest first."""
    # A day of margin on each side in UTC, then the exact local dates per venue below.
    low = datetime.combine(period_start - timedelta(days=1), time.min, tzinfo=UTC)
    high = datetime.combine(period_end + timedelta(days=2), time.min, tzinfo=UTC)
    bookings = Booking.objects.filter(
        status=Status.CONFIRMED,
        billable_net_amount__gt=0,
        invoice_link__isnull=True,
        ends_at__gte=low,
        ends_at__lt=high,
        ends_at__lte=now(),
    ).select_related("venue")
    if venue_ids is not None:
        bookings = bookings.filter(venue_id__in=list(venue_ids))
    return [
        booking.pk
        for booking in bookings.order_by("ends_at", "pk")
        if period_start <= last_day(booking) <= period_end
    ]


def last_day(booking: Booking) -> date:
    """The local day a booking ends on (a booking ending at midnight ends the day before)."""
    return (booking.ends_at.astimezone(booking.venue.tz) - timedelta(microseconds=1)).date()


def describe(booking: Booking) -> str:
    tz = booking.venue.tz
    start, end = booking.starts_at.astimezone(tz), booking.ends_at.astimezone(tz)
    text = _("%(resource)s on %(day)s, %(start)s–%(end)s") % {
        "resource": booking.resource.name,
        "day": start.strftime("%d/%m/%Y"),
        "start": start.strftime("%H:%M"),
        "end": end.strftime("%H:%M"),
    }
    if booking.partner_discount_percent:
        text += ", " + _("Pass Interlieux discount %(percent)s%%") % {
            "percent": percent_text(booking.partner_discount_percent)
        }
    if booking.credits_used and booking.credits_venue_id and booking.credits_venue_id != booking.venue_id:
        # Another venue's credits (Pass Interlieux): named, since the clearing between venues values them.
        text += " " + _("(%(credits)s credits of %(venue)s used)") % {
            "credits": booking.credits_used,
            "venue": booking.credits_venue.name if booking.credits_venue else "",
        }
    elif booking.credits_used:
        text += " " + _("(%(credits)s credits used)") % {"credits": booking.credits_used}
    return text[:300]


def percent_text(percent: Decimal) -> str:
    """20.00 → "20", 12.50 → "12,5" in French: a rate as people write it."""
    value = percent.quantize(Decimal(1)) if percent == percent.to_integral_value() else percent.normalize()
    return number_format(value)


def bill(booking_id: int, period_start: date | None = None, period_end: date | None = None) -> Invoice:
    """Issue the invoice of a booking's billable remainder and link it to the booking; a booking already
    invoiced returns its invoice. Buyer: the organisation the booking was made for, else the booker.
    Seller: the booking's venue, also at a partner venue (Pass Interlieux): the resource is the host's, and
    the home venue's plan sells nothing there; its credits spent are named on the line."""

    def write() -> Invoice:
        try:
            booking = (
                Booking.objects.select_for_update(of=("self",))
                .select_related("venue", "resource", "booked_by", "organisation", "credits_venue")
                .get(pk=booking_id)
            )
        except Booking.DoesNotExist:
            raise NotFound(_("No such booking.")) from None
        link = BookingInvoice.objects.filter(booking=booking).select_related("invoice").first()
        if link is not None:
            return link.invoice
        amount = booking.billable_net_amount or Decimal(0)
        day = booking.starts_at.astimezone(booking.venue.tz).date()
        draft = create_draft(
            venue=booking.venue,
            lines=[
                DraftLine(
                    description=describe(booking),
                    quantity=Decimal(1),
                    unit_net_amount=amount,
                    vat_rate=VAT_RATE,
                    service_from=day,
                    service_to=last_day(booking),
                )
            ],
            service_from=day,
            service_to=last_day(booking),
            buyer_user=None if booking.organisation_id else booking.booked_by,
            buyer_organisation=booking.organisation,
            sold_to_member=venue_selectors.is_member_of(booking.booked_by, booking.venue_id),
            source_key=f"booking:{booking.pk}",
        )
        invoice = issue_invoice(draft.pk)
        BookingInvoice.objects.create(booking=booking, invoice=invoice)
        audit.record(
            "booking.booking.invoiced",
            booking,
            venue_id=booking.venue_id,
            invoice=invoice.pk,
            number=invoice.number,
            net_amount=str(invoice.net_amount),
        )
        return invoice

    return atomic_with_retry(write)


SOURCE = BillingSource(name="bookings", pending=pending, bill=bill)


def register() -> None:
    """Add the bookings to the billing run's sources (once, however often the app is readied)."""
    from lieux.memberships import hooks

    if all(source.name != SOURCE.name for source in hooks.billing_sources):
        hooks.billing_sources.append(SOURCE)
