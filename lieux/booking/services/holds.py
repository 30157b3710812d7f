from django.utils.translation import gettext as _

from lieux.booking.errors import BookingStateError
from lieux.booking.models import Booking, Status
from lieux.booking.services import checks
from lieux.booking.services.create import initial_status
from lieux.booking.services.credits import give_back_credits
from lieux.booking.services.occupancy import vacate
from lieux.core import audit
from lieux.core.db import atomic_with_retry
from lieux.core.time import now
from lieux.venues import selectors as venue_selectors


def confirm_hold(*, actor, booking: Booking) -> Booking:
    """Turn a hold into a booking (confirmed, or pending when the resource needs approval)."""
    checks.ensure_may_manage(actor, booking)

    def write() -> Booking:
        current = Booking.objects.select_for_update().select_related("resource").get(pk=booking.pk)
        if current.status != Status.HELD:
            raise BookingStateError(_("This booking is not on hold."))
        if current.hold_expires_at is not None and current.hold_expires_at <= now():
            raise BookingStateError(_("The hold has expired; please book again."), code="hold_expired")
        staff = venue_selectors.is_staff_of(current.booked_by, current.venue_id)
        current.status = initial_status(current.resource, staff=staff, hold=False)
        current.hold_expires_at = None
        current.updated_at = now()
        current.save(update_fields=["status", "hold_expires_at", "updated_at"])
        audit.record(
            "booking.booking.created", current, actor=actor, venue_id=current.venue_id, status=current.status
        )
        return current

    return atomic_with_retry(write)


def expire_holds() -> int:
    """Release every hold past its expiry, and the credits it held. Idempotent; run by the worker every
    minute."""

    def write() -> int:
        expired = list(
            Booking.objects.select_for_update().filter(status=Status.HELD, hold_expires_at__lte=now())
        )
        for booking in expired:
            booking.status = Status.EXPIRED
            booking.updated_at = now()
            give_back_credits(booking)
            booking.save(update_fields=["status", "updated_at", "credits_used", "billable_net_amount"])
            vacate(booking)
            audit.record("booking.booking.expired", booking, venue_id=booking.venue_id)
        return len(expired)

    return atomic_with_retry(write)
