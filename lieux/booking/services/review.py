from django.utils.translation import gettext as _

from lieux.booking.errors import BookingNotFound, BookingStateError
from lieux.booking.models import Booking, Status
from lieux.booking.services.credits import give_back_credits
from lieux.booking.services.occupancy import vacate
from lieux.core import audit
from lieux.core.db import atomic_with_retry
from lieux.core.time import now
from lieux.venues import selectors as venue_selectors


def _review(actor, booking: Booking, *, approve: bool, reason: str) -> Booking:
    if not venue_selectors.is_staff_of(actor, booking.venue_id):
        raise BookingNotFound()

    def write() -> Booking:
        current = Booking.objects.select_for_update().get(pk=booking.pk)
        if current.status != Status.PENDING:
            raise BookingStateError(_("Only a booking awaiting approval can be approved or refused."))
        current.status = Status.CONFIRMED if approve else Status.REFUSED
        current.status_reason = reason[:300]
        current.updated_at = now()
        if not approve:
            give_back_credits(current, actor=actor)
        current.save(
            update_fields=["status", "status_reason", "updated_at", "credits_used", "billable_net_amount"]
        )
        if not approve:
            vacate(current)
        audit.record(
            f"booking.booking.{'approved' if approve else 'refused'}",
            current,
            actor=actor,
            venue_id=current.venue_id,
            reason=reason,
        )
        return current

    return atomic_with_retry(write)


def approve_booking(*, actor, booking: Booking, reason: str = "") -> Booking:
    """The slot was already held by the pending request, so approval cannot collide with anything."""
    return _review(actor, booking, approve=True, reason=reason)


def refuse_booking(*, actor, booking: Booking, reason: str = "") -> Booking:
    return _review(actor, booking, approve=False, reason=reason)
