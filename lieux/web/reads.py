"""Reads the pages need that the apps' selectors do not offer in this shape (counts for the home page,
every resource of a venue for its team, a person's organisations). Read-only, scoped like the selectors."""

from datetime import date, timedelta

from django.db.models import Count, Q, QuerySet

from lieux.accounts.models import Organisation
from lieux.booking.models import Status
from lieux.venues import selectors as venue_selectors
from lieux.venues.models import Closure, Network, Resource, Venue


def the_network() -> Network | None:
    """One installation serves one network; the oldest row is it."""
    return Network.objects.order_by("pk").first()


def venues_with_resource_counts() -> QuerySet[Venue]:
    return venue_selectors.venues().annotate(
        resource_count=Count("resources", filter=Q(resources__is_active=True))
    )


def staffed_venues(staffed_ids: set[int]) -> QuerySet[Venue]:
    """The venues of `staffed_venue_ids`, with how many requests wait for an answer."""
    return Venue.objects.filter(pk__in=staffed_ids).annotate(
        pending_count=Count("bookings", filter=Q(bookings__status=Status.PENDING))
    )


def staffed_venue(staffed_ids: set[int], slug: str) -> Venue | None:
    """The venue of that slug among `staffed_venue_ids`, or None, also when it exists but others run it."""
    return Venue.objects.filter(pk__in=staffed_ids, slug=slug).first()


def every_resource(venue: Venue) -> QuerySet[Resource]:
    """Active or not: the team manages the ones that cannot be booked at the moment too."""
    return Resource.objects.filter(venue=venue).select_related("parent").order_by("kind", "name")


def organisations_of(user) -> QuerySet[Organisation]:
    return Organisation.objects.filter(members=user).order_by("name")


def upcoming_closures(venue: Venue, today: date, days: int = 90) -> QuerySet[Closure]:
    return Closure.objects.filter(
        venue=venue, ends_on__gte=today, starts_on__lte=today + timedelta(days=days)
    )
