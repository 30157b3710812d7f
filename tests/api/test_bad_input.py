"""Bad input gets a 4xx JSON answer with `detail` and `code`, never a 500, and writes nothing."""

from datetime import timedelta

import pytest
from django.conf import settings

from lieux.booking.services import create_booking
from tests.api.conftest import assert_error, snapshot
from tests.factories import ResourceFactory, at, future_day

DAY = future_day()


def payload(**changes):
    body = {
        "resource": "la-coroutine/salle-ada",
        "start": at(DAY, 10).isoformat(),
        "end": at(DAY, 11).isoformat(),
        "title": "Réunion",
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


@pytest.fixture
def short_room(venue):
    return ResourceFactory(venue=venue, name="Bulle", slug="bulle", max_duration=timedelta(hours=2))


BAD_BOOKINGS = [
    pytest.param(
        payload(start=at(DAY, 11).isoformat(), end=at(DAY, 10).isoformat()),
        422,
        "end_before_start",
        id="end-before-start",
    ),
    pytest.param(
        payload(start=f"{DAY.isoformat()}T10:00:00", end=f"{DAY.isoformat()}T11:00:00"),
        422,
        "naive_datetime",
        id="naive-datetimes",
    ),
    pytest.param(
        payload(start=f"{DAY.isoformat()}T10:00:00", recurrence={"frequency": "weekly", "count": 2}),
        422,
        "naive_datetime",
        id="naive-datetime-in-a-series",
    ),
    pytest.param(
        payload(start=at(DAY, 6).isoformat(), end=at(DAY, 7).isoformat()),
        422,
        "outside_opening_hours",
        id="outside-opening-hours",
    ),
    pytest.param(
        payload(resource="la-coroutine/bulle", start=at(DAY, 9).isoformat(), end=at(DAY, 12).isoformat()),
        422,
        "too_long",
        id="too-long",
    ),
    pytest.param(payload(resource="la-coroutine/nulle"), 404, "unknown_resource", id="unknown-resource"),
    pytest.param(payload(resource="nulle-part/salle-ada"), 404, "unknown_resource", id="unknown-venue"),
    pytest.param(payload(resource="la-coroutine/ancienne"), 404, "unknown_resource", id="inactive-resource"),
    pytest.param(payload(resource=1), 422, "invalid_request", id="resource-as-a-number"),
    pytest.param(payload(resource="salle-ada"), 422, "invalid_request", id="resource-without-venue"),
    pytest.param(payload(start=1_900_000_000), 422, "invalid_request", id="timestamp-instead-of-iso"),
    pytest.param(payload(start="demain 10h"), 422, "invalid_request", id="unparsable-datetime"),
    pytest.param(payload(start="0001-01-01T00:00:00+14:00"), 422, "invalid_request", id="year-1"),
    pytest.param(payload(end="9999-12-31T23:30:00-12:00"), 422, "invalid_request", id="year-9999"),
    pytest.param(payload(end="3000-01-01T10:00:00+01:00"), 422, "invalid_request", id="year-3000"),
    pytest.param(
        payload(
            start=at(DAY, 11).isoformat(),
            end=at(DAY, 10).isoformat(),
            recurrence={"frequency": "weekly", "count": 3},
        ),
        422,
        "end_before_start",
        id="series-end-before-start",
    ),
    pytest.param(payload(title=42), 422, "invalid_request", id="title-as-a-number"),
    pytest.param(payload(title="x" * 201), 422, "invalid_request", id="title-too-long"),
    pytest.param(payload(title="Réu\x00nion"), 422, "invalid_request", id="nul-character"),
    pytest.param(payload(title=""), 422, "invalid_request", id="empty-title"),
    pytest.param({**payload(), "title": None}, 422, "invalid_request", id="null-title"),
    pytest.param(payload(hold="peut-être"), 422, "invalid_request", id="hold-not-a-boolean"),
    pytest.param(payload(organisation="coop"), 422, "invalid_request", id="organisation-not-an-id"),
    pytest.param(payload(organisation=2**70), 422, "invalid_request", id="organisation-id-too-big"),
    pytest.param({**payload(), "starts_at": "x"}, 422, "invalid_request", id="unknown-field"),
    pytest.param([payload()], 422, "invalid_request", id="array-instead-of-object"),
    pytest.param("Réunion", 422, "invalid_request", id="string-instead-of-object"),
]


@pytest.mark.parametrize(("body", "status", "code"), BAD_BOOKINGS)
def test_a_bad_booking_request_is_refused_and_writes_nothing(as_member, room, short_room, body, status, code):
    ResourceFactory(venue=room.venue, slug="ancienne", is_active=False)
    before = snapshot()
    assert_error(as_member.post("/bookings", body), status, code)
    assert snapshot() == before


def test_a_series_of_occurrences_lasting_centuries_is_refused_without_error(as_manager, room):
    """Staff skip the calendar rules but not the shape rules: every occurrence is too long, so nothing is
    booked (and the expansion of such a series stays within representable dates)."""
    body = payload(
        start="1970-01-01T10:00:00+01:00",
        end="2999-12-31T10:00:00+01:00",
        recurrence={"frequency": "monthly", "interval": 52, "count": 366},
    )
    before = snapshot()
    refused = assert_error(as_manager.post("/bookings", body), 409, "series_refused")["refused"]
    assert {r["code"] for r in refused} == {"too_long"}
    assert snapshot() == before


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param('{"resource": "la-coroutine/salle-ada", "start": ', id="truncated"),
        pytest.param("{'resource': 'la-coroutine/salle-ada'}", id="single-quotes"),
        pytest.param(b"\xff\xfe\x00{", id="not-utf8"),
        pytest.param("[" * 100_000, id="deeply-nested"),
    ],
)
def test_malformed_json_is_a_400(as_member, room, raw):
    before = snapshot()
    assert_error(as_member.post("/bookings", raw=raw), 400, "malformed_json")
    assert snapshot() == before


def test_an_empty_body_is_a_422(as_member, room):
    before = snapshot()
    assert_error(as_member.post("/bookings", raw=""), 422, "invalid_request")
    assert snapshot() == before


def test_an_oversized_body_is_a_413(as_member, room):
    padding = "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    before = snapshot()
    assert_error(as_member.post("/bookings", payload(notes=padding)), 413, "body_too_large")
    assert snapshot() == before


def test_a_body_just_under_the_limit_is_read(as_member, room):
    """The 413 comes from the size alone: the same request, smaller, is parsed (and refused for its
    notes, which are too long to store)."""
    body = payload(notes="x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE - 1024))
    before = snapshot()
    assert_error(as_member.post("/bookings", body), 422, "invalid_request")
    assert snapshot() == before


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/bookings/999999", 404, "not_found"),
        ("/bookings/abc", 422, "invalid_request"),
        ("/bookings/0", 422, "invalid_request"),
        ("/bookings/99999999999999999999999", 422, "invalid_request"),
    ],
)
@pytest.mark.parametrize("action", ["get", "patch", "cancel", "approve", "refuse", "confirm"])
def test_unknown_or_malformed_booking_ids(as_manager, room, path, status, code, action):
    before = snapshot()
    if action == "get":
        response = as_manager.get(path)
    elif action == "patch":
        response = as_manager.patch(path, {"title": "Nouveau"})
    else:
        response = as_manager.post(f"{path}/{action}")
    assert_error(response, status, code)
    assert snapshot() == before


@pytest.fixture
def booking(member, room):
    return create_booking(
        actor=member, resource=room, starts_at=at(DAY, 10), ends_at=at(DAY, 11), title="Réunion"
    )


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"end": at(DAY, 9).isoformat()}, 422, "end_before_start"),
        ({"start": f"{DAY.isoformat()}T12:00:00"}, 422, "naive_datetime"),
        ({"start": at(DAY, 19).isoformat(), "end": at(DAY, 21).isoformat()}, 422, "outside_opening_hours"),
        ({"resource": "la-coroutine/nulle"}, 404, "unknown_resource"),
        ({"title": "x" * 201}, 422, "invalid_request"),
        ({"status": "confirmed"}, 422, "invalid_request"),
    ],
)
def test_a_bad_change_leaves_the_booking_as_it_was(as_member, booking, body, status, code):
    before = snapshot()
    assert_error(as_member.patch(f"/bookings/{booking.pk}", body), status, code)
    booking.refresh_from_db()
    assert (booking.starts_at, booking.ends_at, booking.title) == (at(DAY, 10), at(DAY, 11), "Réunion")
    assert snapshot() == before


def test_malformed_json_on_a_change_is_a_400(as_member, booking):
    before = snapshot()
    assert_error(as_member.patch(f"/bookings/{booking.pk}", raw="{nope"), 400, "malformed_json")
    assert snapshot() == before


def test_a_bad_reason_leaves_the_booking_as_it_was(as_member, booking):
    before = snapshot()
    assert_error(as_member.post(f"/bookings/{booking.pk}/cancel", {"reason": 3}), 422, "invalid_request")
    assert_error(as_member.post(f"/bookings/{booking.pk}/cancel", raw="reason=x"), 400, "malformed_json")
    booking.refresh_from_db()
    assert booking.status == "confirmed"
    assert snapshot() == before


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"date": "2026-13-01"}, "invalid_request"),
        ({"date": "01/12/2026"}, "invalid_request"),
        ({"date": ""}, "invalid_request"),
        ({"date": DAY.isoformat(), "end": "24:00"}, "invalid_request"),
        ({"date": DAY.isoformat(), "start": "18:00", "end": "09:00"}, "end_before_start"),
    ],
)
def test_a_bad_date_or_time_in_availability_is_a_422(as_member, room, params, code):
    before = snapshot()
    assert_error(as_member.get("/availability", params), 422, code)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"from": f"{DAY.isoformat()}T00:00:00"}, 422, "naive_datetime"),
        ({"to": "hier"}, 422, "invalid_request"),
        ({"limit": 0}, 422, "invalid_request"),
        ({"limit": 1000}, 422, "invalid_request"),
        ({"offset": -1}, 422, "invalid_request"),
        ({"status": "annulée"}, 422, "invalid_request"),
        ({"mine": "peut-être"}, 422, "invalid_request"),
        ({"venue": "nulle-part"}, 404, "unknown_venue"),
        ({"venue": "la coroutine"}, 422, "invalid_request"),
        ({"resource": "la-coroutine/nulle"}, 404, "unknown_resource"),
    ],
)
def test_bad_list_filters_are_refused(as_member, room, params, status, code):
    assert_error(as_member.get("/bookings", params), status, code)
