"""The guard against double booking, shared by every write path (create, move, series, approval).

Inside the caller's transaction:
1. lock the leaf resources the booking covers, in id order (PostgreSQL: SELECT … FOR UPDATE, so racing
   writers queue instead of deadlocking on the exclusion constraint; SQLite: the IMMEDIATE transaction
   already holds the write lock);
2. look for an active occupancy that overlaps, to name the conflicting slot in the error;
3. insert the occupancy rows. The exclusion constraint (PostgreSQL) or the trigger (SQLite) is the
   referee: if anything slipped past steps 1–2 the insert fails and becomes the same BookingConflict.
"""

from collections import defaultdict
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from lieux.booking.errors import BookingConflict
from lieux.booking.models import Booking, Occupancy, Status
from lieux.booking.rules import blocking_units
from lieux.booking.services import credits
from lieux.core.time import now
from lieux.memberships.services import credits as credit_services
from lieux.venues.models import Resource


def units_of(resource: Resource) -> list[int]:
    children: dict[int, list[int]] = defaultdict(list)
    for pk, parent_id in Resource.objects.filter(venue_id=resource.venue_id).values_list("pk", "parent_id"):
        if parent_id:
            children[parent_id].append(pk)
    return blocking_units(resource.pk, children)


def lock_units(unit_ids: list[int]) -> None:
    list(Resource.objects.select_for_update().filter(pk__in=unit_ids).order_by("pk").values_list("pk"))


def release_expired_holds(unit_ids: list[int]) -> None:
    """A hold past its expiry stops blocking as soon as someone else wants the slot."""
    expired = list(
        Booking.objects.filter(
            status=Status.HELD, hold_expires_at__lte=now(), occupancies__resource_id__in=unit_ids
        ).values_list("pk", flat=True)
    )
    if not expired:  # the usual case: one indexed read, no write
        return
    Occupancy.objects.filter(booking__in=expired).update(is_active=False)
    Booking.objects.filter(pk__in=expired).update(status=Status.EXPIRED, updated_at=now())
    # Credits a lapsed hold had set aside go back to their lots (lots are locked after the resources).
    for booking_id in Booking.objects.filter(pk__in=expired, credits_used__gt=0).values_list("pk", flat=True):
        credit_services.refund_booking(reference=credits.reference(booking_id))
    Booking.objects.filter(pk__in=expired, credits_used__gt=0).update(
        credits_used=0, billable_net_amount=F("quoted_net_amount")
    )


def find_conflict(
    unit_ids: list[int], start: datetime, end: datetime, *, ignore: int | None
) -> Occupancy | None:
    qs = Occupancy.objects.filter(
        resource_id__in=unit_ids, is_active=True, starts_at__lt=end, ends_at__gt=start
    ).select_related("booking__resource", "booking__venue")
    if ignore is not None:
        qs = qs.exclude(booking_id=ignore)
    return qs.order_by("starts_at").first()


def conflict_error(occupancy: Occupancy) -> BookingConflict:
    """Names the taken slot (resource and times) without revealing who booked it or why."""
    other = occupancy.booking
    tz = other.venue.tz
    start, end = other.starts_at.astimezone(tz), other.ends_at.astimezone(tz)
    return BookingConflict(
        _("%(resource)s is already booked on %(day)s from %(start)s to %(end)s.")
        % {
            "resource": other.resource.name,
            "day": date_format(start, "l j F Y"),
            "start": start.strftime("%H:%M"),
            "end": end.strftime("%H:%M"),
        },
        conflict={
            "resource": other.resource.slug,
            "start": other.starts_at.astimezone(tz).isoformat(),
            "end": other.ends_at.astimezone(tz).isoformat(),
        },
    )


def occupy(booking: Booking, start: datetime, end: datetime, *, fresh: bool = False) -> None:
    """Take the slot for `booking` (buffers included), replacing what it held before (nothing when
    `fresh`, a booking created in this transaction). Raises BookingConflict when any covered unit is
    taken. Must run inside a transaction."""
    resource = booking.resource
    span_start, span_end = start - resource.buffer_before, end + resource.buffer_after
    units = units_of(resource)
    lock_units(units)
    release_expired_holds(units)
    clash = find_conflict(units, span_start, span_end, ignore=booking.pk)
    if clash is not None:
        raise conflict_error(clash)
    if not fresh:
        Occupancy.objects.filter(booking=booking).delete()
    try:
        with transaction.atomic():
            Occupancy.objects.bulk_create(
                Occupancy(booking=booking, resource_id=unit, starts_at=span_start, ends_at=span_end)
                for unit in units
            )
    except IntegrityError as error:
        clash = find_conflict(units, span_start, span_end, ignore=booking.pk)
        if clash is None:
            raise
        raise conflict_error(clash) from error


def vacate(booking: Booking) -> None:
    Occupancy.objects.filter(booking=booking).update(is_active=False)
