"""Bookings: create (single, held or recurring), list, read, change, cancel, approve, refuse, confirm.

Every read goes through booking.selectors.visible_bookings, so a booking the caller may not see answers
404 exactly like one that does not exist, and nothing is written. Every write is one service call.
"""

from typing import Annotated

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Body, Query, Router, Status

from lieux.accounts.models import Organisation
from lieux.api.base import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, api, caller, paginate, require_aware
from lieux.api.schemas import (
    BookingIn,
    BookingOut,
    BookingPageOut,
    BookingPatch,
    ConflictOut,
    DbId,
    ErrorOut,
    Instant,
    ReasonIn,
    ResourceRef,
    SeriesOut,
    Slug,
    ValidationErrorOut,
    booking_out,
)
from lieux.api.venues import resource_by_ref, venue_filter
from lieux.booking import selectors, selectors_facts
from lieux.booking.errors import BookingInvalid, BookingNotFound
from lieux.booking.models import Booking
from lieux.booking.models import Status as BookingStatus
from lieux.booking.rules import Recurrence
from lieux.booking.services import (
    approve_booking,
    cancel_booking,
    confirm_hold,
    create_booking,
    create_series,
    move_booking,
    refuse_booking,
)
from lieux.core.errors import NotFound, ValidationError
from lieux.venues.models import Resource

router = Router(tags=["Bookings"])

ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ConflictOut, 422: ValidationErrorOut}


def visible(request: HttpRequest, booking_id: int) -> Booking:
    booking = selectors.get_visible_booking(caller(request), booking_id)
    if booking is None:
        raise BookingNotFound()
    return booking


def bookable_resource(ref: str) -> Resource:
    """`<venue-slug>/<resource-slug>` → an active resource, or 404 unknown_resource, from the copy this
    process keeps a minute (booking_facts reads again whatever guards the booking)."""
    venue_slug, slug = ref.split("/")
    resource = selectors_facts.resource_by_ref(venue_slug, slug)
    if resource is None:
        raise NotFound(_("No such resource."), code="unknown_resource")
    return resource


def organisation_by_id(pk: int | None) -> Organisation | None:
    if pk is None:
        return None
    organisation = Organisation.objects.filter(pk=pk).first()
    if organisation is None:
        raise NotFound(_("No such organisation."), code="unknown_organisation")
    return organisation


@router.post(
    "/bookings",
    response={201: BookingOut | SeriesOut, **ERRORS},
    summary="Book a resource",
    description="Book `resource` (`<venue-slug>/<resource-slug>`) from `start` to `end` (ISO 8601 with "
    "offset). The answer is the booking: `confirmed`, `pending` when the resource needs approval, or `held` "
    "with `hold: true` (confirm it with POST /bookings/{id}/confirm before `hold_expires_at`). "
    "With `recurrence`, a series is booked in the venue's wall time and the answer lists the `booked` "
    "bookings and the `skipped` occurrences with their reason.\n\n"
    "Errors: 409 `booking_overlap` with `conflict` naming the taken slot (or `series_refused` with "
    "`refused`); 422 `naive_datetime`, `end_before_start`, `too_short`, `too_long`, `off_grid`, "
    "`outside_opening_hours`, `venue_closed`, `in_the_past`, `too_far_ahead`; 404 `unknown_resource`, "
    "`unknown_organisation`; 403 `not_allowed_to_book`, `not_in_organisation`. A refused request writes "
    "nothing.",
)
def create(request: HttpRequest, payload: BookingIn):
    require_aware(payload.start, payload.end)
    if payload.end <= payload.start:
        # Checked before anything else so that a series gets the same 422 as a single booking, rather than
        # every occurrence being skipped.
        raise BookingInvalid(_("The end must be after the start."), code="end_before_start")
    resource = bookable_resource(payload.resource)
    organisation = organisation_by_id(payload.organisation)
    user = caller(request)
    if payload.recurrence is None:
        booking = create_booking(
            actor=user,
            resource=resource,
            starts_at=payload.start,
            ends_at=payload.end,
            title=payload.title,
            notes=payload.notes,
            organisation=organisation,
            hold=payload.hold,
        )
        return Status(201, booking_out(booking))
    if payload.hold:
        raise BookingInvalid(_("A recurring booking cannot be held."), code="hold_not_for_series")
    rec = payload.recurrence
    result = create_series(
        actor=user,
        resource=resource,
        starts_at=payload.start,
        ends_at=payload.end,
        title=payload.title,
        notes=payload.notes,
        organisation=organisation,
        policy=rec.policy,
        recurrence=Recurrence(
            frequency=rec.frequency,
            interval=rec.interval,
            count=rec.count,
            until=rec.until,
            weekdays=tuple(rec.weekdays),
            exceptions=tuple(rec.exceptions),
        ),
    )
    # create_series returns its series whenever it does not raise.
    assert result.series is not None
    booked = selectors.visible_bookings(user).filter(pk__in=[b.pk for b in result.booked])
    skipped = [{"local_start": s.local_start, "code": s.code, "detail": s.detail} for s in result.skipped]
    return Status(
        201,
        {
            "series": result.series.pk,
            "booked": [booking_out(b) for b in booked.order_by("starts_at")],
            "skipped": skipped,
        },
    )


@router.get(
    "/bookings",
    response={200: BookingPageOut, **ERRORS},
    summary="List bookings",
    description="Bookings the caller may read in detail: their own, and every booking of the venues they "
    "manage or staff. Filter by `resource` (`<venue-slug>/<resource-slug>`), `venue` (slug), a period "
    "(`from`/`to`, ISO 8601 with offset: bookings overlapping it), `mine=true` (only the caller's own) and "
    "`status` (repeatable). Sorted by start; paginated with `limit` (at most 200) and `offset`; `next` and "
    "`previous` are ready-made paths.",
)
def list_bookings(
    request: HttpRequest,
    resource: ResourceRef | None = None,
    venue: Slug | None = None,
    from_: Annotated[Instant | None, Query(alias="from")] = None,
    to: Instant | None = None,
    mine: bool = False,
    status: Annotated[list[BookingStatus] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
):
    require_aware(from_, to)
    qs = selectors.bookings_for(
        caller(request),
        venue=venue_filter(venue),
        resource=resource_by_ref(resource) if resource else None,
        start=from_,
        end=to,
        mine=mine,
        statuses=[str(s) for s in status] if status else None,
    )
    return paginate(request, qs, limit=limit, offset=offset, serialize=booking_out)


@router.get(
    "/bookings/{booking_id}",
    response={200: BookingOut, **ERRORS},
    summary="One booking",
    description="A booking of the caller's, or of a venue they staff; 404 `not_found` otherwise.",
)
def get_booking(request: HttpRequest, booking_id: DbId):
    return booking_out(visible(request, booking_id))


@router.patch(
    "/bookings/{booking_id}",
    response={200: BookingOut, **ERRORS},
    summary="Change a booking",
    description="Move it (`start`, `end`, another `resource` of the same venue) or change its `title` or "
    "`notes`. The new slot is checked like a new booking and taken before the old one is freed: a refused "
    "change (409, 422) leaves the booking as it was. A confirmed booking moved onto a resource that needs "
    "approval goes back to `pending`.",
)
def change_booking(request: HttpRequest, booking_id: DbId, payload: BookingPatch):
    require_aware(payload.start, payload.end)
    booking = visible(request, booking_id)
    if all(value is None for value in payload.model_dump().values()):
        raise ValidationError(_("Nothing to change."), code="nothing_to_change")
    booking = move_booking(
        actor=caller(request),
        booking=booking,
        starts_at=payload.start,
        ends_at=payload.end,
        resource=resource_by_ref(payload.resource) if payload.resource else None,
        title=payload.title,
        notes=payload.notes,
    )
    return booking_out(visible(request, booking.pk))


@router.post(
    "/bookings/{booking_id}/cancel",
    response={200: BookingOut, **ERRORS},
    summary="Cancel a booking",
    description="Frees the slot. The person who booked may cancel until the resource's cancellation "
    "deadline (409 `cancellation_deadline_passed` after); the venue's staff at any time. Optional body: "
    '`{"reason": "…"}`.',
)
def cancel(request: HttpRequest, booking_id: DbId, payload: Annotated[ReasonIn | None, Body()] = None):
    booking = cancel_booking(
        actor=caller(request), booking=visible(request, booking_id), reason=payload.reason if payload else ""
    )
    return booking_out(visible(request, booking.pk))


@router.post(
    "/bookings/{booking_id}/approve",
    response={200: BookingOut, **ERRORS},
    summary="Approve a pending booking",
    description="Staff of the booking's venue only (404 for anyone else). 409 `booking_state` unless the "
    "booking is `pending`.",
)
def approve(request: HttpRequest, booking_id: DbId):
    booking = approve_booking(actor=caller(request), booking=visible(request, booking_id))
    return booking_out(visible(request, booking.pk))


@router.post(
    "/bookings/{booking_id}/refuse",
    response={200: BookingOut, **ERRORS},
    summary="Refuse a pending booking",
    description="Staff of the booking's venue only (404 for anyone else); frees the slot. Optional body: "
    '`{"reason": "…"}`, shown to the person as `status_reason`.',
)
def refuse(request: HttpRequest, booking_id: DbId, payload: Annotated[ReasonIn | None, Body()] = None):
    booking = refuse_booking(
        actor=caller(request), booking=visible(request, booking_id), reason=payload.reason if payload else ""
    )
    return booking_out(visible(request, booking.pk))


@router.post(
    "/bookings/{booking_id}/confirm",
    response={200: BookingOut, **ERRORS},
    summary="Confirm a held booking",
    description="Turns a hold into a booking (`confirmed`, or `pending` when the resource needs approval). "
    "409 `hold_expired` once `hold_expires_at` has passed, `booking_state` when it is not held.",
)
def confirm(request: HttpRequest, booking_id: DbId):
    booking = confirm_hold(actor=caller(request), booking=visible(request, booking_id))
    return booking_out(visible(request, booking.pk))


api.add_router("", router)
