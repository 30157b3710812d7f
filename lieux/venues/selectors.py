"""Reads about venues, resources and who may do what where."""

from django.db.models import Q, QuerySet

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
