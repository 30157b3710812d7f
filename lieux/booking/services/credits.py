"""How a booking is paid: with the booker's credits first (memberships ledger), the rest billed.

Credits are spent when the booking is made, held and pending ones included, so the balance a member sees
already accounts for what awaits approval or confirmation. They come back when a hold lapses, a
request is refused, a move prices the booking again, or the booking is cancelled before the resource's
cancellation deadline; after that deadline they stay spent. Fixed-desk bookings are paid by their
subscription and spend nothing.

At a partner venue (Pass Interlieux, see booking.partners), the person's credits at that venue pay first,
as anywhere; failing those, and when their pass allows it, the credits their home plan grants pay at the
rate of the host resource's conversion table (memberships.services.credits.partner_rates). The booking
records the home venue, the discount and whose credits paid, for the clearing between venues to value.

Called inside the booking's own transaction by every write that prices or frees a booking, after the slot
is taken: the lock order is always resources, then credit lots, so concurrent writers cannot deadlock.
"""

from typing import Any

from lieux.booking.models import Booking, Status
from lieux.booking.services import checks
from lieux.core import audit
from lieux.core.time import now
from lieux.memberships.rules.credits import ZERO, hours_between
from lieux.memberships.services import credits as credit_services
from lieux.venues.models import Venue


def reference(booking_id: int) -> str:
    return f"booking:{booking_id}"


def spend_credits(
    booking: Booking,
    *,
    actor: Any = None,
    quote: checks.Quote | None = None,
    takes_own_credits: bool = True,
) -> None:
    """Spend the booker's credits on `booking` (a new or re-priced one, its slot already taken) and set
    `credits_used` and `billable_net_amount`; the caller saves them. `quote`: the one its price came from
    (checks.quote), asked again when not given. `takes_own_credits`: False when the caller has read that
    the resource converts no credit of its venue (BookingFacts), so none is looked for. The Pass Interlieux
    fields are written here, whoever the caller."""
    resource = booking.resource
    if quote is None:
        quote = checks.quote(booking.booked_by, resource, booking.starts_at, booking.ends_at)
    spend = {
        "person": booking.booked_by,
        "resource": resource,
        "hours": hours_between(booking.starts_at, booking.ends_at),
        "reference": reference(booking.pk),
        "at": booking.starts_at,
        "actor": actor,
    }
    consumption = credit_services.NOTHING
    if takes_own_credits:
        consumption = credit_services.consume_for_booking(venue=resource.venue, **spend)
    credits_venue_id = None
    terms = quote.terms
    if not consumption.credits_used and terms is not None and terms.credits_allowed and terms.credit_type_ids:
        rates = credit_services.partner_rates(
            resource=resource, home_venue_id=terms.home_venue_id, credit_type_ids=terms.credit_type_ids
        )
        if rates:
            home = Venue.objects.get(pk=terms.home_venue_id)
            consumption = credit_services.consume_for_booking(venue=home, rates=rates, **spend)
            if consumption.credits_used:
                credits_venue_id = home.pk
    booking.credits_used = consumption.credits_used
    booking.billable_net_amount = consumption.billable(booking.quoted_net_amount)
    _record_partner_terms(booking, quote, credits_venue_id, actor)


def _record_partner_terms(
    booking: Booking, quote: checks.Quote, credits_venue_id: int | None, actor: Any
) -> None:
    """Set the booking's Pass Interlieux fields and write them now (series and moves save other fields),
    with an audit row when a pass discounted the booking or paid for it."""
    terms = quote.terms
    applies = terms is not None and (quote.discount_percent is not None or credits_venue_id is not None)
    fields = {
        "partner_venue_id": terms.home_venue_id if terms is not None and applies else None,
        "partner_discount_percent": quote.discount_percent if applies else None,
        "credits_venue_id": credits_venue_id,
    }
    changed = any(getattr(booking, name) != value for name, value in fields.items())
    for name, value in fields.items():
        setattr(booking, name, value)
    if changed:
        Booking.objects.filter(pk=booking.pk).update(**fields)
    if terms is not None and applies:
        audit.record(
            "booking.booking.partner_terms",
            booking,
            actor=actor,
            venue_id=booking.venue_id,
            home_venue=terms.home_venue_id,
            subscription=terms.subscription_id,
            discount_percent=None if quote.discount_percent is None else str(quote.discount_percent),
            quoted_net_amount=None if booking.quoted_net_amount is None else str(booking.quoted_net_amount),
            credits_venue=credits_venue_id,
            credits_used=str(booking.credits_used),
        )


def give_back_credits(booking: Booking, *, actor: Any = None, note: str = "") -> None:
    """Return what the booking took to the lots it came from (see memberships.rules.credits for expired
    lots) and price it again at its full quote."""
    if booking.credits_used:
        credit_services.refund_booking(reference=reference(booking.pk), actor=actor, note=note)
    booking.credits_used = ZERO
    booking.billable_net_amount = booking.quoted_net_amount


def refund_on_cancel(booking: Booking, previous_status: str) -> bool:
    """Whether cancelling gives the credits back: always for a request never confirmed or a hold, and for a
    confirmed booking until the resource's cancellation deadline, whoever cancels. After it they stay
    spent, as the slot was kept for the member."""
    if not booking.credits_used:
        return False
    if previous_status != Status.CONFIRMED:
        return True
    return now() <= booking.starts_at - booking.resource.cancellation_deadline
