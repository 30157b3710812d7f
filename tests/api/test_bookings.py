"""Booking endpoints, what they answer when things go right, and the conflicts they report."""

from datetime import UTC, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from lieux.booking.models import Booking, Occupancy, Status
from lieux.booking.services import create_booking
from lieux.core.models import AuditEvent
from tests.api.conftest import assert_error, snapshot
from tests.factories import ResourceFactory, add_prices, at, future_day, organisation

DAY = future_day()
NEXT_WEEK = DAY + timedelta(days=7)


def payload(h1=(10,), h2=(11,), *, day=DAY, resource="la-coroutine/salle-ada", **extra):
    return {
        "resource": resource,
        "start": at(day, *h1).isoformat(),
        "end": at(day, *h2).isoformat(),
        "title": "Réunion",
        **extra,
    }


def book(user, resource, h1, h2, day=DAY, **kw):
    kw.setdefault("title", "Réunion")
    return create_booking(actor=user, resource=resource, starts_at=at(day, *h1), ends_at=at(day, *h2), **kw)


@pytest.fixture
def workshop(venue):
    """A resource whose bookings wait for the staff's approval."""
    return ResourceFactory(venue=venue, name="Atelier", slug="atelier", approval_required=True)


# --- Create ----------------------------------------------------------------------------------------------


def test_create_answers_201_with_the_booking_in_the_venues_local_time(as_member, member, room):
    add_prices(room, hour_member="12.5", hour_public="20")
    response = as_member.post("/bookings", payload(notes="Avec café"))

    assert response.status_code == 201, response.content
    body = response.json()
    booking = Booking.objects.get()
    assert body == {
        "id": booking.pk,
        "resource": {"ref": "la-coroutine/salle-ada", "name": "Salle Ada"},
        "venue": "la-coroutine",
        "start": at(DAY, 10).isoformat(),
        "end": at(DAY, 11).isoformat(),
        "status": "confirmed",
        "status_reason": "",
        "title": "Réunion",
        "notes": "Avec café",
        "organisation": None,
        "booked_by": {"email": "membre@example.org", "name": "Camille Test"},
        "quoted_net_amount": "12.50",
        "partner_discount_percent": None,
        "credits_used": "0.00",
        "billable_net_amount": "12.50",
        "series": None,
        "hold_expires_at": None,
    }
    assert booking.booked_by == member and booking.status == Status.CONFIRMED


def test_any_offset_is_accepted_and_answered_in_venue_time(as_member, room):
    body = payload()
    body["start"] = at(DAY, 10).astimezone(UTC).isoformat().replace("+00:00", "Z")
    body["end"] = at(DAY, 11).astimezone(UTC).isoformat()
    response = as_member.post("/bookings", body)
    assert response.status_code == 201, response.content
    assert response.json()["start"] == at(DAY, 10).isoformat()


def test_an_offset_beyond_what_postgresql_stores_is_still_an_instant(as_member, member, room):
    """ISO 8601 allows offsets up to ±23:59; PostgreSQL stores only up to ±15:59."""
    far_east = timezone(timedelta(hours=23, minutes=30))
    body = payload()
    body["start"] = at(DAY, 10).astimezone(far_east).isoformat()
    body["end"] = at(DAY, 11).astimezone(far_east).isoformat()
    created = as_member.post("/bookings", body)
    assert created.status_code == 201, created.content
    assert created.json()["start"] == at(DAY, 10).isoformat()
    listed = as_member.get("/bookings", {"from": at(DAY, 9).astimezone(far_east).isoformat()})
    assert listed.json()["count"] == 1


def test_a_booking_may_be_paid_by_one_of_the_members_organisations(as_member, member, room):
    coop = organisation("Coop Test", member)
    response = as_member.post("/bookings", payload(organisation=coop.pk))
    assert response.status_code == 201, response.content
    assert response.json()["organisation"] == {"id": coop.pk, "name": "Coop Test"}


def test_paying_with_someone_elses_organisation_is_refused(as_member, stranger, room):
    coop = organisation("Coop Voisine", stranger)
    before = snapshot()
    assert_error(as_member.post("/bookings", payload(organisation=coop.pk)), 404, "unknown_organisation")
    assert snapshot() == before


def test_an_unknown_organisation_is_a_404(as_member, room):
    before = snapshot()
    assert_error(as_member.post("/bookings", payload(organisation=999_999)), 404, "unknown_organisation")
    assert snapshot() == before


def test_a_conflict_is_a_409_naming_the_slot_and_writes_nothing(as_member, as_other_member, member, room):
    book(member, room, (10,), (11,), title="Entretien confidentiel")
    before = snapshot()

    response = as_other_member.post("/bookings", payload((10, 30), (11, 30)))

    body = assert_error(response, 409, "booking_overlap")
    assert body["conflict"] == {
        "resource": "salle-ada",
        "start": at(DAY, 10).isoformat(),
        "end": at(DAY, 11).isoformat(),
    }
    assert "Salle Ada" in body["detail"] and "10:00" in body["detail"] and "11:00" in body["detail"]
    assert "Entretien" not in response.content.decode() and member.email not in response.content.decode()
    assert snapshot() == before


def test_approval_flow_pending_then_approved_by_the_venue_manager(as_member, as_manager, workshop):
    created = as_member.post("/bookings", payload(resource="la-coroutine/atelier"))
    assert created.status_code == 201
    assert created.json()["status"] == "pending"

    approved = as_manager.post(f"/bookings/{created.json()['id']}/approve")

    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == "confirmed"
    assert Booking.objects.get().status == Status.CONFIRMED


def test_a_refusal_frees_the_slot_and_keeps_the_reason(as_member, as_manager, as_other_member, workshop):
    created = as_member.post("/bookings", payload(resource="la-coroutine/atelier")).json()

    refused = as_manager.post(f"/bookings/{created['id']}/refuse", {"reason": "Atelier en travaux"})

    assert refused.status_code == 200
    assert refused.json()["status"] == "refused"
    assert refused.json()["status_reason"] == "Atelier en travaux"
    again = as_other_member.post("/bookings", payload(resource="la-coroutine/atelier"))
    assert again.status_code == 201, again.content


def test_a_member_cannot_approve_their_own_request(as_member, workshop):
    created = as_member.post("/bookings", payload(resource="la-coroutine/atelier")).json()
    assert_error(as_member.post(f"/bookings/{created['id']}/approve"), 404, "not_found")
    assert Booking.objects.get().status == Status.PENDING


def test_approving_a_confirmed_booking_is_a_409(as_manager, member, room):
    booking = book(member, room, (10,), (11,))
    assert_error(as_manager.post(f"/bookings/{booking.pk}/approve"), 409, "booking_state")


def test_a_hold_keeps_the_slot_until_confirmed(as_member, as_other_member, room):
    held = as_member.post("/bookings", payload(hold=True))
    assert held.status_code == 201
    assert held.json()["status"] == "held"
    assert held.json()["hold_expires_at"] is not None
    assert_error(as_other_member.post("/bookings", payload()), 409, "booking_overlap")

    confirmed = as_member.post(f"/bookings/{held.json()['id']}/confirm")

    assert confirmed.status_code == 200, confirmed.content
    assert confirmed.json()["status"] == "confirmed"
    assert confirmed.json()["hold_expires_at"] is None
    assert_error(as_member.post(f"/bookings/{held.json()['id']}/confirm"), 409, "booking_state")


def test_an_expired_hold_cannot_be_confirmed(as_member, room):
    held = as_member.post("/bookings", payload(hold=True)).json()
    Booking.objects.filter(pk=held["id"]).update(hold_expires_at=at(DAY, 0) - timedelta(days=30))
    assert_error(as_member.post(f"/bookings/{held['id']}/confirm"), 409, "hold_expired")


# --- Series ----------------------------------------------------------------------------------------------


def test_a_series_books_the_free_occurrences_and_lists_the_others(as_member, other_member, room):
    book(other_member, room, (18,), (19,), day=NEXT_WEEK)
    response = as_member.post(
        "/bookings",
        payload((18,), (19,), recurrence={"frequency": "weekly", "count": 3, "policy": "skip"}),
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert [b["start"] for b in body["booked"]] == [
        at(DAY, 18).isoformat(),
        at(DAY + timedelta(days=14), 18).isoformat(),
    ]
    assert {b["series"] for b in body["booked"]} == {body["series"]}
    (skipped,) = body["skipped"]
    assert skipped["code"] == "booking_overlap"
    assert skipped["local_start"] == f"{NEXT_WEEK.isoformat()}T18:00:00"


def test_a_series_all_or_nothing_books_nothing_when_one_occurrence_is_taken(as_member, other_member, room):
    book(other_member, room, (18,), (19,), day=NEXT_WEEK)
    before = snapshot()
    response = as_member.post(
        "/bookings",
        payload(
            (18,),
            (19,),
            recurrence={
                "frequency": "weekly",
                "until": (DAY + timedelta(days=21)).isoformat(),
                "policy": "all_or_nothing",
            },
        ),
    )
    body = assert_error(response, 409, "series_refused")
    assert [r["start"] for r in body["refused"]] == [f"{NEXT_WEEK.isoformat()}T18:00:00"]
    assert snapshot() == before


def test_a_series_cannot_be_held(as_member, room):
    before = snapshot()
    response = as_member.post("/bookings", payload(hold=True, recurrence={"frequency": "daily", "count": 2}))
    assert_error(response, 422, "hold_not_for_series")
    assert snapshot() == before


@pytest.mark.parametrize(
    "recurrence",
    [
        {"frequency": "weekly"},
        {"frequency": "weekly", "count": 2, "until": DAY.isoformat()},
        {"frequency": "hourly", "count": 2},
        {"frequency": "weekly", "count": 0},
        {"frequency": "weekly", "count": 2, "weekdays": [7]},
        {"frequency": "weekly", "count": 2, "policy": "maybe"},
    ],
)
def test_a_malformed_recurrence_is_422(as_member, room, recurrence):
    before = snapshot()
    assert_error(as_member.post("/bookings", payload(recurrence=recurrence)), 422, "invalid_request")
    assert snapshot() == before


# --- Read and list ---------------------------------------------------------------------------------------


def test_the_owner_reads_their_booking(as_member, member, room):
    booking = book(member, room, (10,), (11,))
    response = as_member.get(f"/bookings/{booking.pk}")
    assert response.status_code == 200
    assert response.json()["id"] == booking.pk
    assert response.json()["booked_by"]["email"] == member.email


def test_the_list_is_paginated_with_count_and_next(as_member, member, room):
    ids = [book(member, room, (h,), (h + 1,)).pk for h in range(8, 13)]

    first = as_member.get("/bookings", {"limit": 2})

    assert first.status_code == 200
    page = first.json()
    assert page["count"] == 5
    assert [b["id"] for b in page["results"]] == ids[:2]
    assert page["previous"] is None
    assert urlsplit(page["next"]).path == "/api/v1/bookings"
    assert parse_qs(urlsplit(page["next"]).query) == {"limit": ["2"], "offset": ["2"]}

    seen = [b["id"] for b in page["results"]]
    while page["next"]:
        page = as_member.client.get(page["next"], HTTP_AUTHORIZATION=f"Bearer {as_member.raw_token}").json()
        seen += [b["id"] for b in page["results"]]
    assert seen == ids
    assert page["previous"] == "/api/v1/bookings?limit=2&offset=2"


def test_an_offset_past_the_end_gives_an_empty_page(as_member, member, room):
    book(member, room, (10,), (11,))
    page = as_member.get("/bookings", {"offset": 50}).json()
    assert page["count"] == 1 and page["results"] == [] and page["next"] is None


def test_the_list_can_be_filtered(as_manager, manager, member, venue, room, workshop):
    mine = book(manager, room, (8,), (9,))
    early = book(member, room, (10,), (11,))
    late = book(member, room, (10,), (11,), day=NEXT_WEEK)
    pending = book(member, workshop, (10,), (11,))

    def ids(**params):
        response = as_manager.get("/bookings", params)
        assert response.status_code == 200, response.content
        return [b["id"] for b in response.json()["results"]]

    assert ids() == [mine.pk, early.pk, pending.pk, late.pk]
    assert ids(resource="la-coroutine/salle-ada") == [mine.pk, early.pk, late.pk]
    assert ids(venue="la-coroutine") == [mine.pk, early.pk, pending.pk, late.pk]
    assert ids(mine="true") == [mine.pk]
    assert ids(status="pending") == [pending.pk]
    assert ids(status=["pending", "confirmed"], **{"from": at(NEXT_WEEK, 0).isoformat()}) == [late.pk]
    assert ids(to=at(DAY, 10).isoformat()) == [mine.pk]


# --- Change, cancel --------------------------------------------------------------------------------------


def test_a_booking_is_moved_and_renamed(as_member, member, room):
    booking = book(member, room, (10,), (11,))
    response = as_member.patch(
        f"/bookings/{booking.pk}",
        {"start": at(DAY, 14).isoformat(), "end": at(DAY, 16).isoformat(), "title": "Atelier vélo"},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["start"], body["end"], body["title"]) == (
        at(DAY, 14).isoformat(),
        at(DAY, 16).isoformat(),
        "Atelier vélo",
    )
    occupied = Occupancy.objects.get(booking=booking, is_active=True)
    assert (occupied.starts_at, occupied.ends_at) == (at(DAY, 14), at(DAY, 16))


def test_a_booking_moves_to_another_resource_of_the_venue_but_not_elsewhere(
    as_member, member, venue, room, other_room
):
    booking = book(member, room, (10,), (11,))
    other = ResourceFactory(venue=venue, name="Salle Grace", slug="salle-grace")
    moved = as_member.patch(f"/bookings/{booking.pk}", {"resource": "la-coroutine/salle-grace"})
    assert moved.status_code == 200, moved.content
    assert moved.json()["resource"] == {"ref": "la-coroutine/salle-grace", "name": "Salle Grace"}
    assert Booking.objects.get(pk=booking.pk).resource == other

    before = snapshot()
    assert_error(
        as_member.patch(f"/bookings/{booking.pk}", {"resource": "baraka/salle-baraka"}), 422, "other_venue"
    )
    assert snapshot() == before


def test_a_move_onto_a_taken_slot_is_a_409_and_changes_nothing(as_member, member, other_member, room):
    booking = book(member, room, (10,), (11,))
    book(other_member, room, (14,), (15,))
    before = snapshot()

    response = as_member.patch(
        f"/bookings/{booking.pk}",
        {"start": at(DAY, 14).isoformat(), "end": at(DAY, 15).isoformat(), "title": "Autre"},
    )

    assert_error(response, 409, "booking_overlap")
    booking.refresh_from_db()
    assert (booking.starts_at, booking.title) == (at(DAY, 10), "Réunion")
    assert snapshot() == before


def test_an_empty_change_is_refused(as_member, member, room):
    booking = book(member, room, (10,), (11,))
    before = snapshot()
    assert_error(as_member.patch(f"/bookings/{booking.pk}", {}), 422, "nothing_to_change")
    assert_error(as_member.patch(f"/bookings/{booking.pk}", {"title": None}), 422, "nothing_to_change")
    assert snapshot() == before


def test_cancel_frees_the_slot_and_keeps_the_reason(as_member, as_other_member, member, room):
    booking = book(member, room, (10,), (11,))
    audit_rows = AuditEvent.objects.count()

    response = as_member.post(f"/bookings/{booking.pk}/cancel", {"reason": "Annulé"})

    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["status_reason"]) == ("cancelled", "Annulé")
    assert AuditEvent.objects.filter(action="booking.booking.cancelled").count() == 1
    assert AuditEvent.objects.count() == audit_rows + 1
    assert as_other_member.post("/bookings", payload()).status_code == 201
    assert_error(as_member.post(f"/bookings/{booking.pk}/cancel"), 409, "booking_state")


def test_cancel_needs_no_body(as_member, member, room):
    booking = book(member, room, (10,), (11,))
    response = as_member.post(f"/bookings/{booking.pk}/cancel")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"


def test_staff_cancel_any_booking_of_their_venue(as_manager, member, room):
    booking = book(member, room, (10,), (11,))
    response = as_manager.post(f"/bookings/{booking.pk}/cancel", {"reason": "Fermeture"})
    assert response.status_code == 200
    assert response.json()["booked_by"]["email"] == member.email


# --- Query counts ----------------------------------------------------------------------------------------


def count_queries(client, path, params=None):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, params)
    assert response.status_code == 200, response.content
    return len(captured.captured_queries)


@pytest.mark.parametrize(
    ("path", "params"),
    [("/bookings", {"limit": 200}), ("/resources", None), ("/availability", {"date": DAY.isoformat()})],
)
def test_listing_costs_the_same_number_of_queries_for_few_or_many_rows(
    as_manager, manager, venue, path, params
):
    def grow(n):
        for i in range(n):
            resource = ResourceFactory(venue=venue)
            add_prices(resource, hour_member="10", hour_public="15")
            book(manager, resource, (8 + i % 10,), (9 + i % 10,))

    grow(2)
    few = count_queries(as_manager, path, params)
    grow(20)
    many = count_queries(as_manager, path, params)
    assert many == few
