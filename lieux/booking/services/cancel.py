from django.utils.translation import gettext as _

from lieux.booking.errors import BookingStateError
from lieux.booking.models import BLOCKING_STATUSES, Booking, Status
from lieux.booking.services import checks
from lieux.booking.services.credits import give_back_credits, refund_on_cancel
from lieux.booking.services.occupancy import vacate
from lieux.core import audit
from lieux.core.db import atomic_with_retry
from lieux.core.time import now


def cancel_booking(*, actor, booking: Booking, reason: str = "") -> Booking:
    """Cancel and free the slot. A member may cancel their own booking until the resource's
    cancellation deadline; staff of the venue may cancel any of its bookings at any time. Credits spent
    on it come back when it is cancelled before the deadline (see credits.refund_on_cancel)."""
    staff = checks.ensure_may_manage(actor, booking)

    def write() -> Booking:
        current = Booking.objects.select_for_update().select_related("resource").get(pk=booking.pk)
        if current.status not in BLOCKING_STATUSES:
            raise BookingStateError(
                _("This booking is already %(s)s.") % {"s": current.get_status_display().lower()}
            )
        if current.subscription_id and not staff:
            raise BookingStateError(
                _("This desk comes with your subscription; it is released when the subscription ends."),
                code="desk_of_subscription",
            )
        if not staff and current.status == Status.CONFIRMED:
            deadline = current.starts_at - current.resource.cancellation_deadline
            if now() > deadline:
                raise BookingStateError(
                    _("The cancellation deadline has passed; please contact the venue."),
                    code="cancellation_deadline_passed",
                )
        previous = current.status
        refund = refund_on_cancel(current, previous)
        if refund:
            give_back_credits(current, actor=actor)
        current.status = Status.CANCELLED
        current.cancelled_at = current.updated_at = now()
        current.status_reason = reason[:300]
        current.save(
            update_fields=[
                "status",
                "cancelled_at",
                "updated_at",
                "status_reason",
                "credits_used",
                "billable_net_amount",
            ]
        )
        vacate(current)
        audit.record(
            "booking.booking.cancelled",
            current,
            actor=actor,
            venue_id=current.venue_id,
            previous=previous,
            reason=reason,
            credits_returned=refund,
        )
        return current

    return atomic_with_retry(write)
