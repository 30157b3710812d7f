"""Secret calendar URLs: get one for a resource, a venue or one's own bookings, and revoke it by rotation."""

from django.utils.translation import gettext as _

from lieux.booking.errors import BookingInvalid
from lieux.booking.ical import may_follow
from lieux.booking.models import CalendarFeed, FeedScope, new_feed_token
from lieux.core import audit
from lieux.core.db import atomic_with_retry
from lieux.core.errors import NotFound
from lieux.venues.models import Resource, Venue


def feed_for(
    *, owner, scope: str, venue: Venue | None = None, resource: Resource | None = None
) -> CalendarFeed:
    """The owner's feed for a scope, created on first request. A resource feed needs `resource` (its
    venue is implied), a venue feed needs `venue`, a personal feed needs neither. Someone who may not
    follow the venue is told it does not exist, as for any other venue's private data."""
    if scope not in FeedScope.values:
        raise BookingInvalid(_("Unknown calendar scope."), code="invalid_scope")
    if scope == FeedScope.RESOURCE:
        if resource is None:
            raise BookingInvalid(_("Choose the resource to follow."), code="resource_required")
        if venue is not None and venue.pk != resource.venue_id:
            raise BookingInvalid(_("This resource belongs to another venue."), code="other_venue")
        venue_id: int | None = resource.venue_id
    elif scope == FeedScope.VENUE:
        if venue is None:
            raise BookingInvalid(_("Choose the venue to follow."), code="venue_required")
        if resource is not None:
            raise BookingInvalid(_("A venue calendar covers all its resources."), code="invalid_scope")
        venue_id = venue.pk
    else:
        if venue is not None or resource is not None:
            raise BookingInvalid(_("Your personal calendar covers every venue."), code="invalid_scope")
        venue_id = None
    if not may_follow(owner, scope=scope, venue_id=venue_id, resource=resource):
        raise NotFound(
            _("No such resource.") if scope == FeedScope.RESOURCE else _("No such venue."),
            code="unknown_resource" if scope == FeedScope.RESOURCE else "unknown_venue",
        )
    resource_id = resource.pk if resource is not None and scope == FeedScope.RESOURCE else None
    key: dict[str, object] = {
        "owner": owner,
        "scope": scope,
        "venue_id": venue_id,
        "resource_id": resource_id,
    }

    def write() -> CalendarFeed:
        # Nothing in the table forbids two rows for one scope: the oldest one is the feed.
        existing = CalendarFeed.objects.filter(**key).order_by("pk").first()
        if existing is not None:
            return existing
        feed = CalendarFeed.objects.create(**key)
        audit.record(
            "booking.feed.created",
            feed,
            actor=owner,
            venue_id=venue_id,
            scope=scope,
            resource=resource_id,
        )
        return feed

    return atomic_with_retry(write)


def rotate_feed(*, owner, feed: CalendarFeed) -> CalendarFeed:
    """Give the feed a new secret URL; the old one answers 404 from now on. Only its owner may rotate
    it; anyone else is told it does not exist."""
    if feed.owner_id != getattr(owner, "pk", None):
        raise NotFound(_("No such calendar."), code="unknown_feed")

    def write() -> CalendarFeed:
        current = CalendarFeed.objects.select_for_update().get(pk=feed.pk)
        current.token = new_feed_token()
        current.save(update_fields=["token"])
        # The token is the secret: the trail says that it changed, never what it is.
        audit.record(
            "booking.feed.rotated", current, actor=owner, venue_id=current.venue_id, scope=current.scope
        )
        return current

    current = atomic_with_retry(write)
    feed.token = current.token
    return current
