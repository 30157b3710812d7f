"""The public directory (venues, resources, availability) and free/busy of a resource."""

from datetime import date, datetime, timedelta

import pytest

from lieux.booking.services import create_booking
from lieux.core.time import now
from lieux.venues.models import ResourceKind
from tests.api.conftest import assert_error
from tests.factories import ResourceFactory, add_prices, at, future_day

DAY = future_day()


def book(user, resource, h1, h2, title="Réunion", day=DAY):
    return create_booking(
        actor=user, resource=resource, starts_at=at(day, *h1), ends_at=at(day, *h2), title=title
    )


def span(day, h1, h2):
    return {"start": at(day, *h1).isoformat(), "end": at(day, *h2).isoformat()}


def last_sunday_of_march(year: int) -> date:
    end = date(year, 3, 31)
    return end - timedelta(days=(end.weekday() - 6) % 7)


# --- Venues ----------------------------------------------------------------------------------------------


def test_venues_are_listed_publicly_by_name(anonymous, venue, other_venue):
    response = anonymous.get("/venues")
    assert response.status_code == 200
    assert [(v["slug"], v["city"], v["network"]) for v in response.json()] == [
        ("baraka", "Roubaix", "monscobar"),
        ("la-coroutine", "Lille", "monscobar"),
    ]


def test_venue_detail_gives_legal_details_hours_and_upcoming_closures(anonymous, venue):
    today = now().date()
    venue.closures.create(
        starts_on=today - timedelta(days=10), ends_on=today - timedelta(days=5), reason="Été"
    )
    venue.closures.create(starts_on=DAY, ends_on=DAY + timedelta(days=1), reason="Inventaire")

    body = anonymous.get("/venues/la-coroutine").json()

    assert body["legal_name"] == "Association La Coroutine"
    assert body["siret"] == venue.siret and body["siren"] == venue.siret[:9]
    assert (body["street"], body["postcode"], body["city"]) == ("1 rue du Test", "59000", "Lille")
    assert body["timezone"] == "Europe/Paris"
    assert len(body["opening_hours"]) == 7
    assert body["opening_hours"][0] == {"weekday": 0, "opens_at": "08:00", "closes_at": "20:00"}
    assert body["closures"] == [
        {
            "starts_on": DAY.isoformat(),
            "ends_on": (DAY + timedelta(days=1)).isoformat(),
            "reason": "Inventaire",
        }
    ]


def test_unknown_venue_is_a_404(anonymous, venue):
    assert_error(anonymous.get("/venues/nulle-part"), 404, "unknown_venue")


# --- Resources -------------------------------------------------------------------------------------------


@pytest.fixture
def catalogue(venue, other_venue):
    hall = ResourceFactory(
        venue=venue, name="Grande halle", slug="halle", capacity=80, tags=["projecteur", "sono"]
    )
    ResourceFactory(venue=venue, name="Halle nord", slug="nord", parent=hall, capacity=30)
    ResourceFactory(venue=other_venue, name="Poste 1", slug="poste-1", kind=ResourceKind.DESK, capacity=1)
    ResourceFactory(venue=venue, name="Ancienne salle", slug="ancienne", is_active=False)
    add_prices(hall, hour_member="10", hour_public="15.5", day_public="90")
    return hall


def refs(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [r["ref"] for r in response.json()]


def test_resources_come_with_prices_rules_parent_and_tags(anonymous, catalogue):
    response = anonymous.get("/resources")
    by_ref = {r["ref"]: r for r in response.json()}
    assert set(by_ref) == {"la-coroutine/halle", "la-coroutine/nord", "baraka/poste-1"}

    hall = by_ref["la-coroutine/halle"]
    assert hall["tags"] == ["projecteur", "sono"]
    assert hall["parent"] is None
    assert hall["prices"] == [
        {"unit": "hour", "audience": "member", "net_amount": "10.00"},
        {"unit": "day", "audience": "public", "net_amount": "90.00"},
        {"unit": "hour", "audience": "public", "net_amount": "15.50"},
    ]
    assert hall["rules"]["min_duration_minutes"] == 30
    assert hall["rules"]["granularity_minutes"] == 30
    assert hall["rules"]["bookable_by"] == "anyone"
    assert by_ref["la-coroutine/nord"]["parent"] == "la-coroutine/halle"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"venue": "baraka"}, ["baraka/poste-1"]),
        ({"kind": "desk"}, ["baraka/poste-1"]),
        ({"min_capacity": 50}, ["la-coroutine/halle"]),
        ({"city": "roubaix"}, ["baraka/poste-1"]),
        ({"venue": "la-coroutine", "kind": "room"}, ["la-coroutine/halle", "la-coroutine/nord"]),
    ],
)
def test_resources_can_be_filtered(anonymous, catalogue, params, expected):
    assert sorted(refs(anonymous.get("/resources", params))) == expected


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"venue": "nulle-part"}, 404, "unknown_venue"),
        ({"kind": "vaisseau"}, 422, "invalid_request"),
        ({"min_capacity": "beaucoup"}, 422, "invalid_request"),
        ({"min_capacity": 10**30}, 422, "invalid_request"),
        ({"city": "Lil\x00le"}, 422, "invalid_request"),
    ],
)
def test_bad_resource_filters_are_refused(anonymous, catalogue, params, status, code):
    assert_error(anonymous.get("/resources", params), status, code)


# --- Availability ----------------------------------------------------------------------------------------


def test_availability_is_network_wide_and_public(anonymous, member, room, other_room):
    book(member, room, (10,), (12,))
    response = anonymous.get("/availability", {"date": DAY.isoformat()})
    assert response.status_code == 200
    body = response.json()
    assert body["date"] == DAY.isoformat()
    by_ref = {r["resource"]["ref"]: r for r in body["resources"]}
    assert set(by_ref) == {"la-coroutine/salle-ada", "baraka/salle-baraka"}

    ada = by_ref["la-coroutine/salle-ada"]
    assert ada["timezone"] == "Europe/Paris"
    assert ada["open"] == [span(DAY, (8,), (20,))]
    assert ada["free"] == [span(DAY, (8,), (10,)), span(DAY, (12,), (20,))]
    assert by_ref["baraka/salle-baraka"]["free"] == [span(DAY, (8,), (20,))]
    assert "Réunion" not in response.content.decode()


def test_availability_narrows_to_a_venue_and_a_time_range(anonymous, member, room, other_room):
    book(member, room, (14, 30), (15,))
    response = anonymous.get(
        "/availability", {"date": DAY.isoformat(), "venue": "la-coroutine", "start": "14:00", "end": "16:00"}
    )
    (ada,) = response.json()["resources"]
    assert ada["resource"] == {"ref": "la-coroutine/salle-ada", "name": "Salle Ada"}
    assert ada["open"] == [span(DAY, (14,), (16,))]
    assert ada["free"] == [span(DAY, (14,), (14, 30)), span(DAY, (15,), (16,))]


def test_availability_accepts_a_wall_time_skipped_by_the_change_to_summer_time(anonymous, room):
    dst_day = last_sunday_of_march(now().year + 1)
    response = anonymous.get("/availability", {"date": dst_day.isoformat(), "start": "02:30", "end": "10:00"})
    assert response.status_code == 200, response.content
    (ada,) = response.json()["resources"]
    assert ada["open"] == [span(dst_day, (8,), (10,))]
    assert ada["open"][0]["start"].endswith("+02:00")


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"date": "2026-02-30"}, "invalid_request"),
        ({"date": "demain"}, "invalid_request"),
        ({"date": "9999-12-31"}, "invalid_request"),
        ({"date": "0001-01-01"}, "invalid_request"),
        ({}, "invalid_request"),
        ({"date": DAY.isoformat(), "start": "25:00"}, "invalid_request"),
        ({"date": DAY.isoformat(), "start": "9h"}, "invalid_request"),
        ({"date": DAY.isoformat(), "start": "16:00", "end": "14:00"}, "end_before_start"),
        ({"date": DAY.isoformat(), "start": "14:00", "end": "14:00"}, "end_before_start"),
    ],
)
def test_bad_availability_queries_are_422(anonymous, room, params, code):
    assert_error(anonymous.get("/availability", params), 422, code)


# --- Free/busy -------------------------------------------------------------------------------------------


def test_busy_shows_taken_time_but_no_title_and_no_person(as_other_member, member, room):
    booking = book(member, room, (10,), (11,), title="Entretien confidentiel")
    booking.notes = "Notes privées"
    booking.save(update_fields=["notes"])
    response = as_other_member.get(
        "/resources/la-coroutine/salle-ada/busy",
        {"from": at(DAY, 0).isoformat(), "to": at(DAY + timedelta(days=1), 0).isoformat()},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["busy"] == [span(DAY, (10,), (11,))]
    assert body["resource"] == {"ref": "la-coroutine/salle-ada", "name": "Salle Ada"}
    text = response.content.decode()
    for secret in ("Entretien", "Notes privées", member.email, member.first_name):
        assert secret not in text
    assert set(body) == {"resource", "timezone", "start", "end", "busy"}
    assert all(set(interval) == {"start", "end"} for interval in body["busy"])


def test_busy_counts_buffers_and_sub_rooms(as_member, member, venue):
    hall = ResourceFactory(venue=venue, slug="halle", capacity=80)
    north = ResourceFactory(venue=venue, slug="nord", parent=hall, buffer_after=timedelta(minutes=30))
    book(member, north, (10,), (11,))
    response = as_member.get(
        "/resources/la-coroutine/halle/busy",
        {"from": at(DAY, 0).isoformat(), "to": at(DAY + timedelta(days=1), 0).isoformat()},
    )
    assert response.json()["busy"] == [span(DAY, (10,), (11, 30))]


def test_busy_defaults_to_the_coming_week(as_member, member, room):
    response = as_member.get("/resources/la-coroutine/salle-ada/busy")
    body = response.json()
    assert response.status_code == 200
    assert body["busy"] == []
    start, end = datetime.fromisoformat(body["start"]), datetime.fromisoformat(body["end"])
    assert end - start == timedelta(days=7)


@pytest.mark.parametrize(
    ("path", "params", "status", "code"),
    [
        ("/resources/la-coroutine/nulle/busy", {}, 404, "unknown_resource"),
        ("/resources/nulle-part/salle-ada/busy", {}, 404, "unknown_resource"),
        ("/resources/la-coroutine/salle-ada/busy", {"from": "2026-12-01T10:00:00"}, 422, "naive_datetime"),
        ("/resources/la-coroutine/salle-ada/busy", {"from": "hier"}, 422, "invalid_request"),
        (
            "/resources/la-coroutine/salle-ada/busy",
            {"from": "2026-12-01T10:00:00+01:00", "to": "2026-12-01T09:00:00+01:00"},
            422,
            "end_before_start",
        ),
        (
            "/resources/la-coroutine/salle-ada/busy",
            {"from": "2026-01-01T00:00:00+01:00", "to": "2027-01-01T00:00:00+01:00"},
            422,
            "range_too_long",
        ),
    ],
)
def test_bad_busy_queries_are_refused(as_member, room, path, params, status, code):
    assert_error(as_member.get(path, params), status, code)


def test_busy_needs_an_account(anonymous, room):
    assert_error(anonymous.get("/resources/la-coroutine/salle-ada/busy"), 401, "unauthenticated")
