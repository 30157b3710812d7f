"""Venues, resources, availability and free/busy.

The directory (venues, resources, availability) is public: it is what a visitor needs to choose a place
and a time, and it names nobody. Free/busy over an arbitrary period needs an account.
"""

from datetime import timedelta
from typing import Annotated

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router

from lieux.api.base import api, require_aware
from lieux.api.schemas import (
    AvailabilityOut,
    BusyOut,
    CityName,
    Day,
    ErrorOut,
    Instant,
    ResourceOut,
    Slug,
    ValidationErrorOut,
    VenueOut,
    VenueSummaryOut,
    WallTime,
    intervals,
    resource_brief,
    resource_out,
    venue_detail,
    venue_summary,
)
from lieux.booking import selectors as booking_selectors
from lieux.core.errors import NotFound, ValidationError
from lieux.core.time import now
from lieux.venues import selectors as venue_selectors
from lieux.venues.models import Resource, ResourceKind, Venue

router = Router(tags=["Venues and resources"])

MAX_CAPACITY = 10_000
BUSY_DEFAULT_SPAN = timedelta(days=7)
BUSY_MAX_SPAN = timedelta(days=92)

NOT_FOUND = {404: ErrorOut}
INVALID = {422: ValidationErrorOut}


def venue_by_slug(slug: str) -> Venue:
    venue = venue_selectors.venues().filter(slug=slug).first()
    if venue is None:
        raise NotFound(_("No such venue."), code="unknown_venue")
    return venue


def venue_filter(slug: str | None) -> Venue | None:
    """A `venue=` filter: absent means every venue, unknown is a 404."""
    return None if slug is None else venue_by_slug(slug)


def resource_by_ref(ref: str) -> Resource:
    """`<venue-slug>/<resource-slug>` → a bookable resource, or 404 unknown_resource. The pattern of
    `ResourceRef` has already guaranteed exactly one slash."""
    venue_slug, slug = ref.split("/")
    resource = venue_selectors.resources().filter(venue__slug=venue_slug, slug=slug).first()
    if resource is None:
        raise NotFound(_("No such resource."), code="unknown_resource")
    return resource


@router.get(
    "/venues",
    response=list[VenueSummaryOut],
    auth=None,
    summary="List the venues",
    description="Every venue of the network, by name. Public.",
)
def list_venues(request: HttpRequest):
    return [venue_summary(v) for v in venue_selectors.venues()]


@router.get(
    "/venues/{slug}",
    response={200: VenueOut, **NOT_FOUND, **INVALID},
    auth=None,
    summary="One venue",
    description="Legal details, address, time zone, weekly opening hours (local wall time) and the closures "
    "that have not ended yet. Public. 404 `unknown_venue` for an unknown slug.",
)
def get_venue(request: HttpRequest, slug: Slug):
    venue = venue_by_slug(slug)
    today = now().astimezone(venue.tz).date()
    # Upcoming closures with their reason; venues.selectors.closures_between only gives date pairs.
    closures = venue.closures.filter(ends_on__gte=today).order_by("starts_on")
    return venue_detail(venue, closures)


@router.get(
    "/resources",
    response={200: list[ResourceOut], **NOT_FOUND, **INVALID},
    auth=None,
    summary="List bookable resources",
    description="Rooms, desks and equipment that can be booked, with their prices (excluding VAT), booking "
    "rules, parent resource and equipment tags. Filter by venue slug, kind, minimum capacity or city. "
    "Public.",
)
def list_resources(
    request: HttpRequest,
    venue: Slug | None = None,
    kind: ResourceKind | None = None,
    min_capacity: Annotated[int | None, Query(ge=1, le=MAX_CAPACITY)] = None,
    city: CityName | None = None,
):
    found = venue_selectors.resources(
        venue=venue_filter(venue), kind=kind, min_capacity=min_capacity, city=city
    )
    return [resource_out(r) for r in found]


@router.get(
    "/availability",
    response={200: AvailabilityOut, **NOT_FOUND, **INVALID},
    auth=None,
    summary="Free time per resource on a day",
    description="For each matching resource, when its venue is open on that local day and which parts of it "
    "are free. Across the whole network unless a venue is given. `start`/`end` (HH:MM, local to each "
    "venue) narrow the search, e.g. 14:00–16:00; a time skipped by a daylight-saving change is accepted. "
    "Public: free windows name nobody. 422 for a malformed date or time, or `end_before_start`.",
)
def availability(
    request: HttpRequest,
    date: Day,
    venue: Slug | None = None,
    kind: ResourceKind | None = None,
    min_capacity: Annotated[int | None, Query(ge=1, le=MAX_CAPACITY)] = None,
    city: CityName | None = None,
    start: WallTime | None = None,
    end: WallTime | None = None,
):
    if start is not None and end is not None and end <= start:
        raise ValidationError(_("The end must be after the start."), code="end_before_start")
    found = booking_selectors.availability(
        day=date,
        venue=venue_filter(venue),
        kind=kind,
        min_capacity=min_capacity,
        city=city,
        start=start,
        end=end,
    )
    return {
        "date": date,
        "resources": [
            {
                "resource": resource_brief(a.resource),
                "venue": a.resource.venue.slug,
                "kind": a.resource.kind,
                "capacity": a.resource.capacity,
                "timezone": a.resource.venue.timezone,
                "open": intervals(a.open, a.resource.venue.tz),
                "free": intervals(a.free, a.resource.venue.tz),
            }
            for a in found
        ],
    }


@router.get(
    "/resources/{venue_slug}/{resource_slug}/busy",
    response={200: BusyOut, **NOT_FOUND, **INVALID},
    summary="Free/busy of a resource",
    description="The taken intervals of one resource that overlap `from`–`to` (ISO 8601 with offset; "
    "default: the next 7 days, at most 92 days), counting buffers and the sub-rooms of a hall. This is all "
    "a member may see of other people's bookings: no title, no person. 404 `unknown_resource`.",
)
def busy(
    request: HttpRequest,
    venue_slug: Slug,
    resource_slug: Slug,
    from_: Annotated[Instant | None, Query(alias="from")] = None,
    to: Instant | None = None,
):
    require_aware(from_, to)
    resource = resource_by_ref(f"{venue_slug}/{resource_slug}")
    start = from_ or now()
    end = to or start + BUSY_DEFAULT_SPAN
    if end <= start:
        raise ValidationError(_("The end must be after the start."), code="end_before_start")
    if end - start > BUSY_MAX_SPAN:
        raise ValidationError(
            _("Ask for at most %(n)s days at a time.") % {"n": BUSY_MAX_SPAN.days}, code="range_too_long"
        )
    tz = resource.venue.tz
    taken = booking_selectors.busy_intervals([resource], start, end)[resource.pk]
    return {
        "resource": resource_brief(resource),
        "timezone": resource.venue.timezone,
        "start": start.astimezone(tz),
        "end": end.astimezone(tz),
        "busy": intervals(taken, tz),
    }


api.add_router("", router)
