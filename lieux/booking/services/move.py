from datetime import datetime

from django.utils.translation import gettext as _

from lieux.booking.errors import BookingInvalid, BookingStateError
from lieux.booking.models import BLOCKING_STATUSES, Booking, BookingInvoice, Status
from lieux.booking.services import checks
from lieux.booking.services.credits import give_back_credits, spend_credits
from lieux.booking.services.occupancy import occupy
from lieux.core import audit
from lieux.core.db import atomic_with_retry
from lieux.core.time import now
from lieux.venues.models import Resource


def move_booking(
    *,
    actor,
    booking: Booking,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    resource: Resource | None = None,
    title: str | None = None,
    notes: str | None = None,
) -> Booking:
    """Change the time, the resource (within the same venue), the title or the notes of a booking.
    The new slot is taken before the old one is freed, in one transaction: a refused move leaves the
    booking exactly as it was. A move is priced again: its credits come back and the new slot spends
    what it costs, so a longer slot may leave a part to bill and a shorter one frees credits."""
    staff = checks.ensure_may_manage(actor, booking)
    new_resource = resource or booking.resource
    if new_resource.venue_id != booking.venue_id:
        raise BookingInvalid(
            _("A booking can only move to a resource of the same venue."), code="other_venue"
        )
    start = starts_at or booking.starts_at
    end = ends_at or booking.ends_at
    moves = (start, end, new_resource.pk) != (booking.starts_at, booking.ends_at, booking.resource_id)
    if moves:
        checks.ensure_may_book(actor, new_resource, staff=staff)
        checks.ensure_valid_slot(new_resource, start, end, staff=staff)

    def write() -> Booking:
        current = Booking.objects.select_for_update().get(pk=booking.pk)
        if current.status not in BLOCKING_STATUSES:
            raise BookingStateError(_("A cancelled booking cannot be changed."))
        if moves and BookingInvoice.objects.filter(booking=current).exists():
            raise BookingStateError(
                _("This booking has been invoiced; it can no longer be moved."), code="booking_invoiced"
            )
        if moves and current.subscription_id and not staff:
            raise BookingStateError(
                _("This desk comes with your subscription; ask the venue to change it."),
                code="desk_of_subscription",
            )
        before = {
            "start": current.starts_at.isoformat(),
            "end": current.ends_at.isoformat(),
            "resource": current.resource_id,
            "title": current.title,
        }
        if title is not None:
            current.title = title.strip() or current.title
        if notes is not None:
            current.notes = notes
        if moves:
            current.resource = new_resource
            current.starts_at, current.ends_at = start, end
            current.quoted_net_amount = checks.estimate_price(current.booked_by, new_resource, start, end)
            if new_resource.approval_required and not staff and current.status == Status.CONFIRMED:
                current.status = Status.PENDING
            occupy(current, start, end)
            if current.subscription_id:  # a fixed desk is paid by its subscription
                current.quoted_net_amount = current.billable_net_amount = None
            else:
                # Priced again from scratch: the credits come back, then the new slot spends its cost.
                give_back_credits(current, actor=actor)
                spend_credits(current, actor=actor)
        current.updated_at = now()
        current.save()
        audit.record(
            "booking.booking.moved" if moves else "booking.booking.updated",
            current,
            actor=actor,
            venue_id=current.venue_id,
            before=before,
            after={
                "start": start.isoformat(),
                "end": end.isoformat(),
                "resource": new_resource.pk,
                "title": current.title,
            },
        )
        return current

    return atomic_with_retry(write)
