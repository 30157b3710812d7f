"""Typed shapes of the HTTP API: what requests may carry and what answers look like.

Inputs are strict about shape (unknown fields, NUL characters, out-of-range numbers and dates are a 422)
so that nothing odd ever reaches the database; business rules stay in the services.

Times go out as ISO 8601 in the venue's own offset (`2026-12-01T18:00:00+01:00`), so a client reads the
wall time people at the venue see without knowing time-zone rules.
"""

import re
from datetime import UTC, date, datetime, time
from typing import Annotated, Any

from annotated_types import Ge, Le, Len
from ninja import Schema
from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, StringConstraints, model_validator

from lieux.booking.models import Booking, ConflictPolicy, Frequency, Status
from lieux.venues.models import Resource, Venue

# Keeps every number the API accepts within a 64-bit database integer.
MAX_ID = 2**63 - 1
# Far enough for any real booking, and near enough that every calendar computation on accepted input stays
# within what datetime can represent: a series of 366 occurrences 52 months apart, each lasting the whole
# accepted span, still ends before the year 6000.
FIRST_YEAR, LAST_YEAR = 1970, 2999

SLUG_PATTERN = r"^[-a-zA-Z0-9_]{1,50}$"
RESOURCE_REF_PATTERN = r"^[-a-zA-Z0-9_]{1,50}/[-a-zA-Z0-9_]{1,50}$"

Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN)]
ResourceRef = Annotated[
    str,
    StringConstraints(pattern=RESOURCE_REF_PATTERN),
    Field(
        description="A resource is named `<venue-slug>/<resource-slug>`, e.g. `la-coroutine/salle-ada` "
        "(the `ref` of GET /resources); the same identifier is used everywhere in this API.",
        examples=["la-coroutine/salle-ada"],
    ),
]
DbId = Annotated[int, Ge(1), Le(MAX_ID)]


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL; refusing it here keeps it a 422 rather than a database error.
    if "\x00" in value:
        raise ValueError("NUL characters are not allowed")
    return value


def _iso_string(value: Any) -> Any:
    # Numbers would be read as Unix timestamps; the contract is an ISO 8601 string.
    if not isinstance(value, str | datetime | date | time):
        raise ValueError("expected an ISO 8601 string")
    return value


def _datetime_in_range(value: datetime) -> datetime:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"the year must be between {FIRST_YEAR} and {LAST_YEAR}")
    # ISO 8601 allows offsets up to ±23:59 but PostgreSQL refuses those beyond ±15:59; the instant is all
    # that matters (answers are given in the venue's offset), so it travels on in UTC. Naive values stay
    # naive for the endpoint to refuse with `naive_datetime`.
    return value.astimezone(UTC) if value.tzinfo is not None else value


def _date_in_range(value: date) -> date:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"the year must be between {FIRST_YEAR} and {LAST_YEAR}")
    return value


Title = Annotated[str, Len(1, 200), AfterValidator(_no_nul)]
Notes = Annotated[str, Len(0, 5000), AfterValidator(_no_nul)]
Reason = Annotated[str, Len(0, 300), AfterValidator(_no_nul)]
CityName = Annotated[str, Len(1, 100), AfterValidator(_no_nul)]

_HH_MM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _hh_mm(value: Any) -> Any:
    if not isinstance(value, str) or not _HH_MM.match(value):
        raise ValueError("expected a local time as HH:MM")
    return value


Instant = Annotated[
    datetime,
    BeforeValidator(_iso_string),
    AfterValidator(_datetime_in_range),
    Field(
        description="ISO 8601 date and time WITH its UTC offset, e.g. `2026-12-01T18:00:00+01:00`.",
        examples=["2026-12-01T18:00:00+01:00"],
    ),
]
Day = Annotated[date, BeforeValidator(_iso_string), AfterValidator(_date_in_range)]
WallTime = Annotated[
    time, BeforeValidator(_hh_mm), Field(description="A local time at the venue, HH:MM.", examples=["14:00"])
]


class Input(Schema):
    # A misspelt field ("starts_at") is an error, not a silently ignored value.
    model_config = ConfigDict(extra="forbid")


# --- Errors ----------------------------------------------------------------------------------------------


class ErrorOut(Schema):
    detail: str = Field(description="A human-readable message.")
    code: str = Field(description="A stable machine-readable code, e.g. `booking_overlap`, `naive_datetime`.")


class ValidationErrorOut(ErrorOut):
    errors: list[dict[str, Any]] = Field(default_factory=list, description="Fields at fault.")


class ConflictSlotOut(Schema):
    resource: str = Field(description="Slug of the resource already booked.")
    start: datetime
    end: datetime


class ConflictOut(ErrorOut):
    conflict: ConflictSlotOut | None = Field(
        None, description="The slot that is taken (no title, no person)."
    )
    refused: list[dict[str, Any]] | None = Field(
        None, description="For a series booked all-or-nothing: every occurrence that cannot be booked."
    )


# --- Venues ----------------------------------------------------------------------------------------------


class VenueSummaryOut(Schema):
    slug: str
    name: str
    city: str
    postcode: str
    timezone: str
    network: str = Field(description="Slug of the network the venue belongs to.")


class OpeningHoursOut(Schema):
    weekday: int = Field(description="0 = Monday … 6 = Sunday.")
    opens_at: str = Field(description="Local time, HH:MM.")
    closes_at: str = Field(description="Local time, HH:MM.")


class ClosureOut(Schema):
    starts_on: date
    ends_on: date = Field(description="Inclusive.")
    reason: str


class VenueOut(VenueSummaryOut):
    description: str
    legal_name: str
    legal_form: str
    siret: str
    siren: str
    vat_status: str
    vat_number: str
    street: str
    latitude: str | None
    longitude: str | None
    email: str
    phone: str
    opening_hours: list[OpeningHoursOut]
    closures: list[ClosureOut] = Field(description="Closures that have not ended yet, soonest first.")


def venue_summary(venue: Venue) -> dict[str, Any]:
    return {
        "slug": venue.slug,
        "name": venue.name,
        "city": venue.city,
        "postcode": venue.postcode,
        "timezone": venue.timezone,
        "network": venue.network.slug,
    }


def venue_detail(venue: Venue, closures) -> dict[str, Any]:
    return {
        **venue_summary(venue),
        "description": venue.description,
        "legal_name": venue.legal_name,
        "legal_form": venue.legal_form,
        "siret": venue.siret,
        "siren": venue.siren,
        "vat_status": venue.vat_status,
        "vat_number": venue.vat_number,
        "street": venue.street,
        "latitude": None if venue.latitude is None else str(venue.latitude),
        "longitude": None if venue.longitude is None else str(venue.longitude),
        "email": venue.email,
        "phone": venue.phone,
        "opening_hours": [
            {"weekday": oh.weekday, "opens_at": f"{oh.opens_at:%H:%M}", "closes_at": f"{oh.closes_at:%H:%M}"}
            for oh in venue.opening_hours.all()
        ],
        "closures": [{"starts_on": c.starts_on, "ends_on": c.ends_on, "reason": c.reason} for c in closures],
    }


# --- Resources -------------------------------------------------------------------------------------------


class PriceOut(Schema):
    unit: str = Field(description="`hour`, `half_day` or `day`.")
    audience: str = Field(description="`member` (members of the venue) or `public`.")
    net_amount: str = Field(
        description="Price excluding VAT in euros, as a decimal string.", examples=["15.00"]
    )


class RulesOut(Schema):
    min_duration_minutes: int
    max_duration_minutes: int
    granularity_minutes: int = Field(description="Start and end fall on this step of local time.")
    max_advance_days: int
    cancellation_deadline_minutes: int = Field(description="Free cancellation until this long before start.")
    buffer_before_minutes: int
    buffer_after_minutes: int
    approval_required: bool
    bookable_by: str = Field(description="`anyone`, `members` (of the venue) or `staff`.")


class ResourceOut(Schema):
    ref: str = Field(description="`<venue-slug>/<resource-slug>`: how the API names this resource.")
    venue: str = Field(description="Venue slug.")
    slug: str
    name: str
    kind: str = Field(description="`room`, `desk` or `equipment`.")
    description: str
    capacity: int
    tags: list[str]
    parent: str | None = Field(description="`ref` of the resource this one is part of (a hall's sub-room).")
    prices: list[PriceOut]
    rules: RulesOut


def resource_ref(resource: Resource) -> str:
    return f"{resource.venue.slug}/{resource.slug}"


def _minutes(delta) -> int:
    return int(delta.total_seconds() // 60)


def resource_out(resource: Resource) -> dict[str, Any]:
    return {
        "ref": resource_ref(resource),
        "venue": resource.venue.slug,
        "slug": resource.slug,
        "name": resource.name,
        "kind": resource.kind,
        "description": resource.description,
        "capacity": resource.capacity,
        "tags": [str(t) for t in resource.tags or []],
        # The parent is always of the same venue (Resource.clean), so no second venue lookup.
        "parent": f"{resource.venue.slug}/{resource.parent.slug}" if resource.parent else None,
        "prices": [
            {"unit": p.unit, "audience": p.audience, "net_amount": str(p.net_amount)}
            for p in sorted(resource.prices.all(), key=lambda p: (p.audience, p.unit))
        ],
        "rules": {
            "min_duration_minutes": _minutes(resource.min_duration),
            "max_duration_minutes": _minutes(resource.max_duration),
            "granularity_minutes": resource.granularity_minutes,
            "max_advance_days": resource.max_advance_days,
            "cancellation_deadline_minutes": _minutes(resource.cancellation_deadline),
            "buffer_before_minutes": _minutes(resource.buffer_before),
            "buffer_after_minutes": _minutes(resource.buffer_after),
            "approval_required": resource.approval_required,
            "bookable_by": resource.bookable_by,
        },
    }


# --- Availability and free/busy --------------------------------------------------------------------------


class IntervalOut(Schema):
    start: datetime
    end: datetime


class ResourceBriefOut(Schema):
    ref: str = Field(description="`<venue-slug>/<resource-slug>`.")
    name: str


class ResourceAvailabilityOut(Schema):
    resource: ResourceBriefOut
    venue: str
    kind: str
    capacity: int
    timezone: str
    open: list[IntervalOut] = Field(
        description="When the venue is open that day (within start–end if given)."
    )
    free: list[IntervalOut] = Field(description="Open time not taken by any booking, buffers included.")


class AvailabilityOut(Schema):
    date: date
    resources: list[ResourceAvailabilityOut]


class BusyOut(Schema):
    resource: ResourceBriefOut
    timezone: str
    start: datetime = Field(description="Start of the period asked for.")
    end: datetime = Field(description="End of the period asked for.")
    busy: list[IntervalOut] = Field(
        description="Taken intervals, buffers and sub-rooms included; who and why are never shown."
    )


def intervals(pairs, tz) -> list[dict[str, datetime]]:
    return [{"start": s.astimezone(tz), "end": e.astimezone(tz)} for s, e in pairs]


def resource_brief(resource: Resource) -> dict[str, str]:
    return {"ref": resource_ref(resource), "name": resource.name}


# --- Bookings --------------------------------------------------------------------------------------------


class RecurrenceIn(Input):
    frequency: Frequency
    interval: Annotated[int, Ge(1), Le(52)] = 1
    count: Annotated[int, Ge(1), Le(366)] | None = Field(None, description="Number of occurrences.")
    until: Day | None = Field(None, description="Last day (inclusive), local to the venue.")
    weekdays: Annotated[list[Annotated[int, Ge(0), Le(6)]], Len(0, 7)] = Field(
        default_factory=list, description="Weekly only: 0 = Monday … 6 = Sunday."
    )
    exceptions: Annotated[list[Day], Len(0, 366)] = Field(
        default_factory=list, description="Days to leave out."
    )
    policy: ConflictPolicy = Field(
        ConflictPolicy.SKIP,
        description="`skip`: book the free occurrences and list the others; "
        "`all_or_nothing`: book every occurrence or none (409 listing the refused ones).",
    )

    @model_validator(mode="after")
    def _one_end(self) -> "RecurrenceIn":
        if (self.count is None) == (self.until is None):
            raise ValueError("give exactly one of `count` and `until`")
        return self


class BookingIn(Input):
    resource: ResourceRef
    start: Instant
    end: Instant
    title: Title
    notes: Notes = ""
    organisation: DbId | None = Field(None, description="Id of the organisation that pays, if any.")
    hold: bool = Field(
        False, description="Hold the slot for a few minutes while completing the booking (POST …/confirm)."
    )
    recurrence: RecurrenceIn | None = Field(
        None, description="Book a recurring series, expanded in local time."
    )


class BookingPatch(Input):
    resource: ResourceRef | None = None
    start: Instant | None = None
    end: Instant | None = None
    title: Title | None = None
    notes: Notes | None = None


class ReasonIn(Input):
    reason: Reason = ""


class PersonOut(Schema):
    email: str
    name: str


class OrganisationOut(Schema):
    id: int
    name: str


class BookingOut(Schema):
    id: int
    resource: ResourceBriefOut
    venue: str = Field(description="Venue slug.")
    start: datetime = Field(description="In the venue's local offset.")
    end: datetime = Field(description="In the venue's local offset.")
    status: Status
    status_reason: str = Field(description="Why it was cancelled or refused, when someone said.")
    title: str
    notes: str
    organisation: OrganisationOut | None
    booked_by: PersonOut
    quoted_net_amount: str | None = Field(
        description="Estimated price excluding VAT, as a decimal string; null when the resource has no price."
    )
    partner_discount_percent: str | None = Field(
        description="Pass Interlieux discount taken off the host's public rate (included in "
        '`quoted_net_amount`), e.g. `"20.00"`; null when no pass discounted this booking.'
    )
    credits_used: str = Field(description="Booking credits spent on it, as a decimal string.")
    billable_net_amount: str | None = Field(
        description="What will be invoiced excluding VAT: the estimate less the share credits cover."
    )
    series: int | None = Field(description="Id of the recurring series this booking belongs to.")
    hold_expires_at: datetime | None = Field(description="For a held booking: when the hold lapses.")


class SkippedOut(Schema):
    local_start: datetime = Field(description="Wall time at the venue (no offset: it may not exist).")
    code: str
    detail: str


class SeriesOut(Schema):
    series: int
    booked: list[BookingOut]
    skipped: list[SkippedOut]


class BookingPageOut(Schema):
    count: int = Field(description="Bookings matching the filters, all pages together.")
    next: str | None = Field(description="Path and query of the next page, or null.")
    previous: str | None = Field(description="Path and query of the previous page, or null.")
    results: list[BookingOut]


def booking_out(booking: Booking) -> dict[str, Any]:
    """Callers pass only bookings from `visible_bookings`, i.e. the viewer's own or those of a venue they
    staff: the person who booked is then theirs to see."""
    tz = booking.venue.tz
    person = booking.booked_by
    org = booking.organisation
    return {
        "id": booking.pk,
        "resource": {"ref": f"{booking.venue.slug}/{booking.resource.slug}", "name": booking.resource.name},
        "venue": booking.venue.slug,
        "start": booking.starts_at.astimezone(tz),
        "end": booking.ends_at.astimezone(tz),
        "status": booking.status,
        "status_reason": booking.status_reason,
        "title": booking.title,
        "notes": booking.notes,
        "organisation": {"id": org.pk, "name": org.name} if org else None,
        "booked_by": {"email": person.email, "name": person.get_full_name()},
        "quoted_net_amount": None if booking.quoted_net_amount is None else str(booking.quoted_net_amount),
        "partner_discount_percent": None
        if booking.partner_discount_percent is None
        else str(booking.partner_discount_percent),
        "credits_used": str(booking.credits_used),
        "billable_net_amount": None
        if booking.billable_net_amount is None
        else str(booking.billable_net_amount),
        "series": booking.series_id,
        "hold_expires_at": booking.hold_expires_at.astimezone(tz) if booking.hold_expires_at else None,
    }
