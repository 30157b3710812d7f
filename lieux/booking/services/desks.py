"""Fixed desks: a fixed-desk subscription books its desk in the booking calendar for as long as it runs.

The desk is one booking spanning whole local days, linked to the subscription and taken through the
normal occupancy guard, so a desk cannot be given twice: a taken desk raises BookingConflict (409) and,
since the hooks run inside the subscription's transaction, the subscription change is rolled back too.

Span: from the first day of the subscription (today if it started earlier: the past is not rebooked) to
its `ends_on` when it has one, otherwise over a rolling horizon of HORIZON_MONTHS that the daily job
`sync_fixed_desks` extends when fewer than RENEW_WITHIN_DAYS remain. When the subscription ends, the days
after its last day (or after today) are released.
"""

from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from lieux.booking.errors import BookingConflict
from lieux.booking.models import BLOCKING_STATUSES, Booking, Status
from lieux.booking.services.occupancy import occupy, vacate
from lieux.core import audit
from lieux.core.db import atomic_with_retry
from lieux.core.errors import ValidationError
from lieux.core.time import day_bounds, now
from lieux.memberships.models import DeskMode, Subscription, SubscriptionStatus
from lieux.memberships.rules.credits import add_months

HORIZON_MONTHS = 12
RUNNING = [s for s in SubscriptionStatus.values if s != SubscriptionStatus.ENDED]
RENEW_WITHIN_DAYS = 60


def _today(subscription: Subscription) -> date:
    return now().astimezone(subscription.venue.tz).date()


def _live_bookings(subscription: Subscription) -> list[Booking]:
    return list(
        Booking.objects.select_for_update()
        .filter(subscription=subscription, status__in=BLOCKING_STATUSES)
        .select_related("resource", "venue")
        .order_by("starts_at", "pk")
    )


def _last_day(booking: Booking) -> date:
    return (booking.ends_at.astimezone(booking.venue.tz) - timedelta(microseconds=1)).date()


def _bounds(subscription: Subscription, first: date, last: date) -> tuple[datetime, datetime]:
    tz = subscription.venue.tz
    return day_bounds(first, tz)[0], day_bounds(last, tz)[1]


def _target_last_day(subscription: Subscription, first: date, current: Booking | None, today: date) -> date:
    if subscription.ends_on is not None:
        return subscription.ends_on
    if current is not None:
        last = _last_day(current)
        if last - today > timedelta(days=RENEW_WITHIN_DAYS):
            return last
        return add_months(max(last, today), HORIZON_MONTHS)
    return add_months(first, HORIZON_MONTHS) - timedelta(days=1)


def _release(booking: Booking, last_kept: date, *, actor: Any = None) -> None:
    """Free the days of `booking` after `last_kept`: shorten it, or cancel it if it had not begun."""
    if _last_day(booking) <= last_kept:
        return
    tz = booking.venue.tz
    cut = day_bounds(last_kept, tz)[1]
    if cut <= booking.starts_at:
        booking.status = Status.CANCELLED
        booking.cancelled_at = booking.updated_at = now()
        booking.status_reason = _("The subscription ended.")
        booking.save(update_fields=["status", "cancelled_at", "updated_at", "status_reason"])
        vacate(booking)
        audit.record("booking.desk.released", booking, actor=actor, venue_id=booking.venue_id, cancelled=True)
        return
    booking.ends_at, booking.updated_at = cut, now()
    booking.save(update_fields=["ends_at", "updated_at"])
    occupy(booking, booking.starts_at, cut)
    audit.record(
        "booking.desk.released", booking, actor=actor, venue_id=booking.venue_id, until=last_kept.isoformat()
    )


def sync_fixed_desk(subscription: Subscription, *, actor: Any = None) -> Booking | None:
    """Make the desk booking of a subscription match it: booked (or moved, extended, trimmed) while the
    plan is a fixed-desk one with a desk, released otherwise. Idempotent. Raises BookingConflict when the
    desk is taken and ValidationError when it belongs to another venue."""
    with transaction.atomic():
        live = _live_bookings(subscription)
        today = _today(subscription)
        wants_desk = (
            subscription.plan.desk_mode == DeskMode.FIXED
            and subscription.desk_id is not None
            and subscription.status != SubscriptionStatus.ENDED
        )
        if not wants_desk:
            for booking in live:
                _release(booking, min(subscription.ends_on or today, today), actor=actor)
            return None
        desk = subscription.desk
        assert desk is not None
        if desk.venue_id != subscription.venue_id:
            raise ValidationError(
                _("The desk must be a resource of the same venue."), code="desk_other_venue"
            )
        current = next((b for b in live if b.resource_id == desk.pk), None)
        for booking in live:  # a desk changed for another one frees the old one from today
            if booking is not current:
                _release(booking, today - timedelta(days=1), actor=actor)
        first = max(subscription.started_on, today)
        last = _target_last_day(subscription, first, current, today)
        if current is None:
            if last < first:
                return None
            start_at, end_at = _bounds(subscription, first, last)
            booking = Booking.objects.create(
                venue_id=subscription.venue_id,
                resource=desk,
                booked_by=subscription.member,
                organisation=subscription.payer_organisation,
                subscription=subscription,
                title=_("Fixed desk — %(person)s") % {"person": subscription.member},
                starts_at=start_at,
                ends_at=end_at,
                status=Status.CONFIRMED,
            )
            occupy(booking, start_at, end_at, fresh=True)
            audit.record(
                "booking.desk.booked",
                booking,
                actor=actor,
                venue_id=booking.venue_id,
                subscription=subscription.pk,
                first=first.isoformat(),
                last=last.isoformat(),
            )
            return booking
        if last < _last_day(current):
            _release(current, last, actor=actor)
        elif last > _last_day(current):
            end_at = _bounds(subscription, first, last)[1]
            current.ends_at, current.updated_at = end_at, now()
            current.save(update_fields=["ends_at", "updated_at"])
            occupy(current, current.starts_at, end_at)
            audit.record(
                "booking.desk.extended",
                current,
                actor=actor,
                venue_id=current.venue_id,
                last=last.isoformat(),
            )
        return current


def on_subscription_started(subscription: Subscription) -> None:
    sync_fixed_desk(subscription)


def on_subscription_ended(subscription: Subscription) -> None:
    """Free the desk from the day after the subscription's last day (or after today)."""
    with transaction.atomic():
        today = _today(subscription)
        last_kept = min(subscription.ends_on, today) if subscription.ends_on else today
        for booking in _live_bookings(subscription):
            _release(booking, last_kept)


def sync_fixed_desks() -> tuple[int, int]:
    """Daily: extend the rolling horizon of running fixed desks, trim those given an end date, release
    those of ended subscriptions. A desk that cannot be extended (someone booked it beyond the horizon)
    is left as it is and counted, with an audit row for the venue's staff. Returns (synced, conflicts)."""
    subscriptions = (
        Subscription.objects.filter(
            Q(plan__desk_mode=DeskMode.FIXED, desk__isnull=False, status__in=RUNNING)
            | Q(desk_bookings__status=Status.CONFIRMED, desk_bookings__ends_at__gt=now())
        )
        .select_related("plan", "venue", "desk", "member")
        .distinct()
        .order_by("pk")
    )
    synced = conflicts = 0
    for subscription in subscriptions:
        step = on_subscription_ended if subscription.status == SubscriptionStatus.ENDED else sync_fixed_desk
        try:
            atomic_with_retry(partial(step, subscription))
            synced += 1
        except BookingConflict as conflict:
            conflicts += 1
            atomic_with_retry(
                partial(
                    audit.record,
                    "booking.desk.renewal_conflict",
                    subscription,
                    venue_id=subscription.venue_id,
                    detail=str(conflict.message),
                )
            )
    return synced, conflicts


def register() -> None:
    """Subscribe to the memberships hooks (once, however often the app is readied)."""
    from lieux.memberships import hooks

    if on_subscription_started not in hooks.on_subscription_started:
        hooks.on_subscription_started.append(on_subscription_started)
    if on_subscription_ended not in hooks.on_subscription_ended:
        hooks.on_subscription_ended.append(on_subscription_ended)
