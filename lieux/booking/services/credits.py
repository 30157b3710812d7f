"""How a booking is paid: with the booker's credits first (memberships ledger), the rest billed.

Credits are spent when the booking is made, held and pending ones included, so the balance a member sees
already accounts for what awaits approval or confirmation. They come back when a hold lapses, a
request is refused, a move prices the booking again, or the booking is cancelled before the resource's
cancellation deadline; after that deadline they stay spent. Fixed-desk bookings are paid by their
subscription and spend nothing.

Called inside the booking's own transaction by every write that prices or frees a booking, after the slot
is taken: the lock order is always resources, then credit lots, so concurrent writers cannot deadlock.
"""

from typing import Any

from lieux.booking.models import Booking, Status
from lieux.core.time import now
from lieux.memberships.rules.credits import ZERO, hours_between
from lieux.memberships.services import credits as credit_services


def reference(booking_id: int) -> str:
    return f"booking:{booking_id}"


def spend_credits(booking: Booking, *, actor: Any = None) -> None:
    """Spend the booker's credits on `booking` (a new or re-priced one, its slot already taken) and set
    `credits_used` and `billable_net_amount`; the caller saves them."""
    consumption = credit_services.consume_for_booking(
        person=booking.booked_by,
        venue=booking.resource.venue,
        resource=booking.resource,
        hours=hours_between(booking.starts_at, booking.ends_at),
        reference=reference(booking.pk),
        at=booking.starts_at,
        actor=actor,
    )
    booking.credits_used = consumption.credits_used
    booking.billable_net_amount = consumption.billable(booking.quoted_net_amount)


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
