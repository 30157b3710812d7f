"""The guard against double booking, shared by every write path (create, move, series, approval).

Inside the caller's transaction:
1. lock the leaf resources the booking covers, in id order (PostgreSQL: SELECT … FOR UPDATE, so racing
   writers queue instead of deadlocking on the exclusion constraint; SQLite: the IMMEDIATE transaction
   already holds the write lock);
2. insert the occupancy rows. The exclusion constraint (PostgreSQL) or the trigger (SQLite) is the
   referee and the only check: a free slot costs one INSERT. A taken slot refuses its rows (PostgreSQL:
   ON CONFLICT DO NOTHING skips them, so the transaction goes on without a savepoint; SQLite: the
   trigger aborts the INSERT inside a savepoint, which costs nothing there);
3. only when refused: look for the occupancy in the way, to name it in the BookingConflict; when it is a
   hold past its expiry, free the expired holds of those units and try again. A refusal leaves no row
   behind.
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from lieux.booking.errors import BookingConflict
from lieux.booking.models import Booking, Occupancy, Status
from lieux.booking.rules import blocking_units
from lieux.booking.services import credits
from lieux.core import prepared
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
    """Lock the units' rows, in id order, until the transaction ends (PostgreSQL; SQLite's IMMEDIATE
    transaction holds the whole database already)."""
    if connection.vendor != "postgresql":
        return
    placeholders = ", ".join(["%s"] * len(unit_ids))
    with prepared.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM venues_resource WHERE id IN ({placeholders}) ORDER BY id FOR UPDATE", unit_ids
        )


def release_expired_holds(unit_ids: list[int]) -> None:
    """A hold past its expiry stops blocking as soon as someone else wants the slot: expire those of
    these units and give their credits back."""
    expired = list(
        Booking.objects.filter(
            status=Status.HELD, hold_expires_at__lte=now(), occupancies__resource_id__in=unit_ids
        ).values_list("pk", flat=True)
    )
    if not expired:
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


def occupy(
    booking: Booking,
    start: datetime,
    end: datetime,
    *,
    fresh: bool = False,
    units: Sequence[int] | None = None,
) -> None:
    """Take the slot for `booking` (buffers included), replacing what it held before (nothing when
    `fresh`, a booking created in this transaction). `units`: the leaf resources it covers, when the
    caller has read them (BookingFacts.units). Raises BookingConflict when any covered unit is taken,
    having changed nothing. Must run inside a transaction."""
    resource = booking.resource
    span_start, span_end = start - resource.buffer_before, end + resource.buffer_after
    unit_ids = list(units) if units is not None else units_of(resource)
    lock_units(unit_ids)
    if fresh:
        _take(booking, unit_ids, span_start, span_end)
        return
    with transaction.atomic():  # a savepoint: a refused move keeps the rows it held
        Occupancy.objects.filter(booking=booking).delete()
        _take(booking, unit_ids, span_start, span_end)


# Tries of the INSERT: after holds past their expiry gave the slot up, or a taker let go of it in between.
TAKE_ATTEMPTS = 3


def _take(booking: Booking, unit_ids: list[int], start: datetime, end: datetime) -> None:
    """Insert the occupancies of `booking`, or raise BookingConflict having removed those it inserted."""
    inserted: list[int] = []
    left = unit_ids  # the units not taken yet
    clash = None
    for _attempt in range(TAKE_ATTEMPTS):
        rows, left = _insert(booking.pk, left, start, end)
        inserted += rows
        if not left:
            return
        clash = find_conflict(left, start, end, ignore=booking.pk)
        if clash is None:
            continue  # let go of since it refused the rows: try again
        if not _lapsed_hold(clash.booking):
            break
        release_expired_holds(left)
        clash = None
    Occupancy.objects.filter(pk__in=inserted).delete()
    if clash is None:  # refused each time by a booking let go of before it could be named
        raise BookingConflict(_("This slot has just been taken. Please choose another one."))
    raise conflict_error(clash)


def _lapsed_hold(booking: Booking) -> bool:
    return (
        booking.status == Status.HELD
        and booking.hold_expires_at is not None
        and booking.hold_expires_at <= now()
    )


def _insert(
    booking_id: int, unit_ids: list[int], start: datetime, end: datetime
) -> tuple[list[int], list[int]]:
    """Insert one active occupancy per unit: (ids of the rows inserted, units refused because taken).
    PostgreSQL keeps the rows it accepts and skips the others; SQLite inserts all or none."""
    adapt = connection.ops.adapt_datetimefield_value
    values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(unit_ids))
    params = [value for unit in unit_ids for value in (booking_id, unit, adapt(start), adapt(end), True)]
    insert = (
        "INSERT INTO booking_occupancy (booking_id, resource_id, starts_at, ends_at, is_active)"
        f" VALUES {values}"  # placeholders only
    )
    if connection.vendor == "postgresql":
        with prepared.cursor() as cursor:
            cursor.execute(f"{insert} ON CONFLICT DO NOTHING RETURNING id, resource_id", params)
            rows = cursor.fetchall()
        accepted = {unit for _id, unit in rows}
        return [row_id for row_id, _unit in rows], [unit for unit in unit_ids if unit not in accepted]
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(insert, params)
    except IntegrityError as error:
        if "occupancy_no_overlap" not in str(error):  # another constraint: a bug, not a taken slot
            raise
        return [], list(unit_ids)
    return [], []


def vacate(booking: Booking) -> None:
    Occupancy.objects.filter(booking=booking).update(is_active=False)
