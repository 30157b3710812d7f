"""iCalendar (RFC 5545) feeds: which feeds are live, which bookings they carry, and their bytes.

A feed shows what its owner may see: bookings they made and bookings of the venues they staff in detail,
every other booking as a bare "Busy" slot (no title, no person, no notes). Privacy is decided by
`selectors.visible_bookings`, again at every render, so a person who leaves a venue stops seeing its
details at the next refresh.

The envelope and the VTIMEZONE blocks come from the `icalendar` package; the VEVENT lines are written
(escaped and folded) here, because building one `Event` object per booking costs about 0.05 ms and
serialising it another 0.09 ms — a yearly feed of a busy room (3,000 events) would take more than 0.4 s
per refresh, against about 0.08 s this way. The tests parse every feed with `icalendar` and with `ics`.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet
from django.utils import translation
from django.utils.translation import gettext as _
from icalendar import Calendar, Timezone

from lieux.booking import selectors
from lieux.booking.models import Booking, CalendarFeed, FeedScope, Status
from lieux.core.time import UTC, now
from lieux.venues import selectors as venue_selectors
from lieux.venues.models import BookableBy, Resource

PRODID = "-//Lieux Communs//Calendar feeds//FR"
DAYS_BACK = 30
DAYS_AHEAD = 365
MAX_TOKEN_LENGTH = 64
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# Cancelled, refused and expired bookings stay in the feed as CANCELLED: a calendar client that had the
# event removes it only when told so, and silently dropping it would leave a ghost booking there.
ICAL_STATUS = {
    Status.CONFIRMED: "CONFIRMED",
    Status.PENDING: "TENTATIVE",
    Status.HELD: "TENTATIVE",
    Status.CANCELLED: "CANCELLED",
    Status.REFUSED: "CANCELLED",
    Status.EXPIRED: "CANCELLED",
}

_FIELDS = (
    "pk",
    "title",
    "notes",
    "starts_at",
    "ends_at",
    "status",
    "created_at",
    "updated_at",
    "booked_by_id",
    "booked_by__first_name",
    "booked_by__last_name",
    "booked_by__email",
    "resource__name",
    "venue__name",
    "venue__street",
    "venue__postcode",
    "venue__city",
    "venue__timezone",
    "venue__network__slug",
    "detailed",
)


def may_follow(owner, *, scope: str, venue_id: int | None, resource: Resource | None) -> bool:
    """Whether `owner` may hold a feed of this scope. Staff and members (any role) of a venue may follow
    it and its resources; a resource anyone may book may be followed by anyone with an account, since its
    free/busy is what the public availability search already shows."""
    if not getattr(owner, "is_authenticated", False) or not owner.is_active:
        return False
    if scope == FeedScope.PERSON:
        return True
    if venue_id is None:
        return False
    if venue_selectors.is_staff_of(owner, venue_id):
        return True
    if scope == FeedScope.RESOURCE:
        if resource is None or not resource.is_active:
            return False
        if resource.bookable_by == BookableBy.ANYONE:
            return True
    return venue_selectors.is_member_of(owner, venue_id)


def live_feed(token: str) -> CalendarFeed | None:
    """The feed a secret URL names, or None when the token is unknown (rotated) or its owner may no
    longer follow what it covers."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    feed = (
        CalendarFeed.objects.select_related("owner", "venue", "resource", "resource__venue")
        .filter(token=token)
        .first()
    )
    if feed is None:
        return None
    if not may_follow(feed.owner, scope=feed.scope, venue_id=feed.venue_id, resource=feed.resource):
        return None
    return feed


def related_resource_ids(resource: Resource) -> list[int]:
    """The resource, the parts it is made of and the wholes it is part of: the hall is busy while one of
    its rooms is booked, and a room is busy while the whole hall is. Siblings are independent."""
    parents: dict[int, int | None] = {}
    children: dict[int, list[int]] = {}
    for pk, parent_id in Resource.objects.filter(venue_id=resource.venue_id).values_list("pk", "parent_id"):
        parents[pk] = parent_id
        if parent_id:
            children.setdefault(parent_id, []).append(pk)
    related = {resource.pk}
    stack = [resource.pk]
    while stack:
        below = children.get(stack.pop(), [])
        related.update(below)
        stack.extend(below)
    ancestor = parents.get(resource.pk)
    while ancestor is not None and ancestor not in related:
        related.add(ancestor)
        ancestor = parents.get(ancestor)
    return sorted(related)


def feed_bookings(feed: CalendarFeed, start: datetime, end: datetime) -> QuerySet:
    """The rows a feed shows in [start, end), as tuples of `_FIELDS`, in one query. `detailed` says
    whether the owner may read the booking (their own, or of a venue they staff)."""
    qs = Booking.objects.filter(starts_at__lt=end, ends_at__gt=start)
    if feed.scope == FeedScope.PERSON:
        qs = qs.filter(booked_by_id=feed.owner_id)
    elif feed.scope == FeedScope.VENUE and feed.venue is not None:
        qs = qs.filter(venue=feed.venue)
    elif feed.scope == FeedScope.RESOURCE and feed.resource is not None:
        qs = qs.filter(resource_id__in=related_resource_ids(feed.resource))
    else:
        qs = qs.none()
    readable = selectors.visible_bookings(feed.owner).values("pk")
    return (
        qs.annotate(detailed=ExpressionWrapper(Q(pk__in=readable), output_field=BooleanField()))
        .order_by("starts_at", "pk")
        .values_list(*_FIELDS)
    )


def feed_name(feed: CalendarFeed) -> str:
    if feed.scope == FeedScope.PERSON:
        return _("My bookings")
    if feed.scope == FeedScope.RESOURCE and feed.resource is not None:
        return f"{feed.resource.name} — {feed.resource.venue.name}"
    return feed.venue.name if feed.venue is not None else _("Bookings")


@lru_cache(maxsize=32)
def _vtimezone(zone: str, first_year: int, last_year: int) -> Timezone:
    """Building a VTIMEZONE walks every transition of the zone: cached per zone and year span."""
    return Timezone.from_tzinfo(
        ZoneInfo(zone), tzid=zone, first_date=date(first_year, 1, 1), last_date=date(last_year + 1, 1, 1)
    )


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _local(name: str, moment: datetime, tz: ZoneInfo) -> str:
    """A wall time with its TZID, so the event follows the venue's clock. The second 02:30 of an autumn
    night is written in UTC: a TZID wall time that occurs twice means its first occurrence."""
    wall = moment.astimezone(tz)
    if wall.fold and wall.replace(fold=0).utcoffset() != wall.utcoffset():
        return f"{name}:{_utc(moment)}"
    return f"{name};TZID={tz.key}:{wall.strftime('%Y%m%dT%H%M%S')}"


def escape_text(value: str) -> str:
    """TEXT escaping of RFC 5545 §3.3.11. Done here rather than with icalendar's escape_char, which reads a
    literal backslash-N as a line break ("C:\\Nouveau" would lose its backslash). Control characters
    other than tab and line breaks are not allowed in TEXT and are dropped."""
    return (
        _CONTROL.sub("", value)
        .replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\n")
        .replace("\r", "\n")
        .replace("\n", "\\n")
    )


def _text(name: str, value: str) -> str:
    return f"{name}:{escape_text(value)}"


@dataclass(frozen=True)
class _Labels:
    busy: str
    booked_by: str


def _event_lines(row: tuple, owner_id: int, labels: _Labels, zones: dict[str, ZoneInfo]) -> list[str]:
    (
        pk,
        title,
        notes,
        starts_at,
        ends_at,
        status,
        created_at,
        updated_at,
        booked_by_id,
        first_name,
        last_name,
        email,
        resource_name,
        venue_name,
        street,
        postcode,
        city,
        zone,
        network_slug,
        detailed,
    ) = row
    tz = zones.get(zone) or zones.setdefault(zone, ZoneInfo(zone))
    address = ", ".join(part for part in (street, f"{postcode} {city}".strip()) if part)
    # Every write path stamps updated_at (the bulk expiry of holds too, which writes no audit row), so
    # the seconds since creation give a SEQUENCE that is stable between renders and grows with each change.
    sequence = max(0, int((updated_at - created_at).total_seconds()))
    ical_status = ICAL_STATUS.get(status, "CONFIRMED")
    lines = [
        "BEGIN:VEVENT",
        f"UID:booking-{pk}@{network_slug}",
        # Without METHOD, DTSTAMP is when the event was last revised in the store (RFC 5545 §3.8.7.2),
        # which keeps two renders of an unchanged feed byte-identical.
        f"DTSTAMP:{_utc(updated_at)}",
        _local("DTSTART", starts_at, tz),
        _local("DTEND", ends_at, tz),
        f"CREATED:{_utc(created_at)}",
        f"LAST-MODIFIED:{_utc(updated_at)}",
        f"SEQUENCE:{sequence}",
        _text("SUMMARY", title if detailed else labels.busy),
        _text("LOCATION", f"{resource_name}, {venue_name}, {address}" if address else resource_name),
        f"STATUS:{ical_status}",
        f"TRANSP:{'TRANSPARENT' if ical_status == 'CANCELLED' else 'OPAQUE'}",
    ]
    if detailed:
        description = []
        if booked_by_id != owner_id:
            person = f"{first_name} {last_name}".strip() or email
            description.append(labels.booked_by % {"person": person})
        if notes:
            description.append(notes)
        if description:
            lines.append(_text("DESCRIPTION", "\n\n".join(description)))
    else:
        lines.append("CLASS:PRIVATE")
    lines.append("END:VEVENT")
    return lines


def fold(line: str) -> str:
    """Split a content line into physical lines of at most 75 octets (RFC 5545 §3.1), never inside a
    UTF-8 character. Some clients unescape before unfolding, so an escape (a backslash and the character
    it escapes) is kept on one physical line."""
    parts: list[str] = []
    chunk: list[str] = []
    size, limit = 0, 75
    for char in line:
        octets = len(char.encode())
        if size + octets > limit:
            trailing = len(chunk) - len("".join(chunk).rstrip("\\"))
            carry = [chunk.pop()] if trailing % 2 and len(chunk) > 1 else []
            parts.append("".join(chunk))
            chunk, size, limit = carry, len(carry), 74  # a continuation line starts with one space
        chunk.append(char)
        size += octets
    parts.append("".join(chunk))
    return "\r\n ".join(parts)


def fold_lines(lines: Iterable[str]) -> str:
    """Content lines as one CRLF-terminated string. A line of at most 18 characters cannot exceed 75
    octets, which spares encoding most of them."""
    out = [line if len(line) <= 18 or len(line.encode()) <= 75 else fold(line) for line in lines]
    out.append("")
    return "\r\n".join(out)


def render_feed(feed: CalendarFeed, *, start: datetime | None = None, end: datetime | None = None) -> bytes:
    """The feed as an iCalendar document: one VEVENT per booking between `start` (default 30 days ago)
    and `end` (default 365 days ahead), wall times in each venue's zone, in the owner's language."""
    moment = now()
    start = start or moment - timedelta(days=DAYS_BACK)
    end = end or moment + timedelta(days=DAYS_AHEAD)
    with translation.override(feed.owner.language or settings.LANGUAGE_CODE):
        labels = _Labels(busy=_("Busy"), booked_by=_("Booked by %(person)s"))
        name = feed_name(feed)
        rows = list(feed_bookings(feed, start, end))
    zones: dict[str, ZoneInfo] = {}
    body: list[str] = []
    for row in rows:
        body.extend(_event_lines(row, feed.owner_id, labels, zones))
    used = sorted({row[17] for row in rows})
    if not used:
        venue = feed.resource.venue if feed.resource is not None else feed.venue
        used = [venue.timezone] if venue is not None else []
    first_year = min([start.year, *(row[3].year for row in rows[:1])])
    last_year = max([end.year, *(row[4].year for row in rows)])
    calendar = Calendar.new(
        prodid=PRODID,
        name=name,
        uid=f"calendar-feed-{feed.pk}",
        refresh_interval=timedelta(hours=1),
        subcomponents=[_vtimezone(zone, first_year, last_year) for zone in used],
    )
    # Non-standard, but how Google Calendar and Outlook learn a subscribed calendar's refresh rate.
    calendar.add("X-PUBLISHED-TTL", "PT1H")
    if len(used) == 1:
        calendar.add("X-WR-TIMEZONE", used[0])
    envelope = calendar.to_ical().decode()
    closing = "END:VCALENDAR\r\n"
    if not envelope.endswith(closing):
        raise AssertionError("icalendar changed how it closes a calendar")
    return (envelope[: -len(closing)] + fold_lines(body) + closing).encode()
