"""Reads about venues, resources and who may do what where."""

import random
import time
from datetime import date

from django.db import transaction
from django.db.models import Q, QuerySet
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from lieux.venues.models import Closure, OpeningHours, Resource, Role, Venue, VenueRole


def is_network_admin(user) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_superuser or user.administered_networks.exists())


def staffed_venue_ids(user) -> set[int]:
    """Venues whose private data `user` may see and change: those they manage or staff, or all of the
    network for its admins."""
    if not getattr(user, "is_authenticated", False):
        return set()
    if user.is_superuser:
        return set(Venue.objects.values_list("pk", flat=True))
    ids = set(
        VenueRole.objects.filter(user=user, role__in=[Role.MANAGER, Role.STAFF]).values_list(
            "venue_id", flat=True
        )
    )
    ids |= set(Venue.objects.filter(network__admins=user).values_list("pk", flat=True))
    return ids


def is_staff_of(user, venue_id: int) -> bool:
    return venue_id in staffed_venue_ids(user)


def is_member_of(user, venue_id: int) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return VenueRole.objects.filter(user=user, venue_id=venue_id).exists()


def venues() -> QuerySet[Venue]:
    return Venue.objects.select_related("network").prefetch_related("opening_hours")


def resources(
    *,
    venue: Venue | None = None,
    kind: str | None = None,
    min_capacity: int | None = None,
    city: str | None = None,
) -> QuerySet[Resource]:
    qs = Resource.objects.filter(is_active=True).select_related("venue", "parent").prefetch_related("prices")
    if venue is not None:
        qs = qs.filter(venue=venue)
    if kind:
        qs = qs.filter(kind=kind)
    if min_capacity:
        qs = qs.filter(capacity__gte=min_capacity)
    if city:
        qs = qs.filter(venue__city__iexact=city)
    return qs.order_by("venue__name", "kind", "name")


def opening_windows(venue: Venue) -> dict[int, list[tuple]]:
    """Weekday → [(opens_at, closes_at)] in the venue's wall time."""
    windows: dict[int, list[tuple]] = {}
    for oh in OpeningHours.objects.filter(venue=venue).order_by("weekday", "opens_at"):
        windows.setdefault(oh.weekday, []).append((oh.opens_at, oh.closes_at))
    return windows


def closures_between(venue: Venue, first_day, last_day) -> list[tuple]:
    return list(
        Closure.objects.filter(venue=venue)
        .filter(Q(starts_on__lte=last_day) & Q(ends_on__gte=first_day))
        .values_list("starts_on", "ends_on")
    )


# --- Venues' calendars kept a minute in memory, for the door check -----------------------------------------

# A door asks about its venue's hours at every scan; they change a few times a year. Each server process
# reads the calendars of a whole network for a day at once (one query for the hours, one for that day's
# closures) and keeps them this long: a change made elsewhere (another server
# process, the admin of another server) reaches the doors within this bound, one made through this process
# at once (see `_forget_calendars`).
CALENDAR_CACHE_SECONDS = 60.0

Calendar = tuple[dict[int, tuple[tuple, ...]], tuple[tuple, ...]]
_NO_CALENDAR: Calendar = ({}, ())
# (network, day) → (when the copy expires, venue id → its calendar that day)
_calendars: dict[tuple[int, date], tuple[float, dict[int, Calendar]]] = {}


def _network_calendars(network_id: int, day: date) -> dict[int, Calendar]:
    windows: dict[int, dict[int, list[tuple]]] = {}
    hours = (
        OpeningHours.objects.filter(venue__network_id=network_id)
        .order_by("venue_id", "weekday", "opens_at")
        .values_list("venue_id", "weekday", "opens_at", "closes_at")
    )
    for venue_id, weekday, opens_at, closes_at in hours:
        windows.setdefault(venue_id, {}).setdefault(weekday, []).append((opens_at, closes_at))
    closures: dict[int, list[tuple]] = {}
    closed = Closure.objects.filter(venue__network_id=network_id, starts_on__lte=day, ends_on__gte=day)
    for venue_id, starts_on, ends_on in closed.values_list("venue_id", "starts_on", "ends_on"):
        closures.setdefault(venue_id, []).append((starts_on, ends_on))
    return {
        venue_id: (
            {weekday: tuple(spans) for weekday, spans in windows.get(venue_id, {}).items()},
            tuple(closures.get(venue_id, ())),
        )
        for venue_id in windows.keys() | closures.keys()
    }


def cached_calendar(venue: Venue, day: date) -> Calendar:
    """`opening_windows(venue)` and `closures_between(venue, day, day)`, as immutable tuples, from this
    process's copy of the venue's network for `day`, read again after CALENDAR_CACHE_SECONDS."""
    key = (venue.network_id, day)
    at = time.monotonic()
    hit = _calendars.get(key)
    if hit is None or hit[0] <= at:
        if len(_calendars) >= 64:
            _calendars.clear()  # only stale days of a few networks can be there
        # Copies of different days or networks read together expire spread over the bound's last fifth.
        expires = at + CALENDAR_CACHE_SECONDS * random.uniform(0.8, 1.0)
        hit = _calendars[key] = (expires, _network_calendars(venue.network_id, day))
    return hit[1].get(venue.pk, _NO_CALENDAR)


def forget_calendars() -> None:
    """Drop this process's copies: the next check reads them again."""
    _calendars.clear()


@receiver([post_save, post_delete], sender=OpeningHours, dispatch_uid="venues.calendar.hours")
@receiver([post_save, post_delete], sender=Closure, dispatch_uid="venues.calendar.closure")
@receiver([post_save, post_delete], sender=Venue, dispatch_uid="venues.calendar.venue")
def _forget_calendars(sender, **kwargs) -> None:
    # Dropped now and again once the change is committed: a check reading the old rows in between would
    # otherwise keep them for a whole CALENDAR_CACHE_SECONDS.
    forget_calendars()
    transaction.on_commit(forget_calendars)
