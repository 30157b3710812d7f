"""Tenancy and privacy: who may read or touch which booking.

A member sees their own bookings; the staff of a venue see that venue's; everyone else gets the same 404
as for a booking that does not exist, and nothing changes (status, title, occupied slots, audit trail).
"""

from datetime import timedelta

import pytest

from lieux.booking.models import Booking
from lieux.booking.services import create_booking
from tests.api.conftest import assert_error, snapshot
from tests.factories import ResourceFactory, at, future_day

DAY = future_day()

# (action, status the booking must be in for the action to make sense to its rightful user)
ACTIONS = [
    ("get", "confirmed"),
    ("patch", "confirmed"),
    ("cancel", "confirmed"),
    ("approve", "pending"),
    ("refuse", "pending"),
    ("confirm", "held"),
]


@pytest.fixture
def booking_in(member, room, venue):
    """A booking of `member` at `venue`, in the status an action expects."""

    def make(status: str) -> Booking:
        resource = room
        if status == "pending":
            resource = ResourceFactory(venue=venue, name="Atelier", slug="atelier", approval_required=True)
        return create_booking(
            actor=member,
            resource=resource,
            starts_at=at(DAY, 10),
            ends_at=at(DAY, 11),
            title="Entretien confidentiel",
            notes="Notes privées",
            hold=status == "held",
        )

    return make


def call(client, action: str, booking_id: int):
    path = f"/bookings/{booking_id}"
    if action == "get":
        return client.get(path)
    if action == "patch":
        return client.patch(
            path, {"title": "Piraté", "start": at(DAY, 14).isoformat(), "end": at(DAY, 15).isoformat()}
        )
    body = {"reason": "Piraté"} if action in {"cancel", "refuse"} else None
    return client.post(f"{path}/{action}", body)


@pytest.mark.parametrize("caller", ["as_other_manager", "as_other_member"])
@pytest.mark.parametrize(("action", "status"), ACTIONS)
def test_someone_else_gets_a_404_and_changes_nothing(request, booking_in, caller, action, status):
    booking = booking_in(status)
    client = request.getfixturevalue(caller)
    before = snapshot()

    response = call(client, action, booking.pk)

    body = assert_error(response, 404, "not_found")
    assert set(body) == {"detail", "code"}
    assert "Entretien" not in response.content.decode()
    booking.refresh_from_db()
    assert (booking.status, booking.title, booking.starts_at, booking.status_reason) == (
        status,
        "Entretien confidentiel",
        at(DAY, 10),
        "",
    )
    assert snapshot() == before


@pytest.mark.parametrize(
    ("action", "status", "caller", "outcome"),
    [
        ("get", "confirmed", "as_member", "confirmed"),
        ("get", "confirmed", "as_manager", "confirmed"),
        ("patch", "confirmed", "as_member", "confirmed"),
        ("cancel", "confirmed", "as_member", "cancelled"),
        ("approve", "pending", "as_manager", "confirmed"),
        ("refuse", "pending", "as_manager", "refused"),
        ("confirm", "held", "as_member", "confirmed"),
    ],
)
def test_the_rightful_caller_succeeds_with_the_same_request(
    request, booking_in, action, status, caller, outcome
):
    """The counterpart of the 404s above: the very same call works for the owner or the venue's staff."""
    booking = booking_in(status)
    response = call(request.getfixturevalue(caller), action, booking.pk)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == outcome
    if action == "patch":
        assert (response.json()["title"], response.json()["start"]) == ("Piraté", at(DAY, 14).isoformat())


@pytest.fixture
def bookings_everywhere(member, other_member, other_manager, room, other_room):
    def make(user, resource, hour):
        return create_booking(
            actor=user, resource=resource, starts_at=at(DAY, hour), ends_at=at(DAY, hour + 1), title="Privé"
        )

    return {
        "member": make(member, room, 9),
        "other_member": make(other_member, room, 11),
        "other_venue": make(other_manager, other_room, 13),
    }


def listed(client, **params) -> list[int]:
    response = client.get("/bookings", params)
    assert response.status_code == 200, response.content
    page = response.json()
    assert page["count"] == len(page["results"])
    return [b["id"] for b in page["results"]]


def test_a_member_lists_only_their_own_bookings(as_member, bookings_everywhere):
    assert listed(as_member) == [bookings_everywhere["member"].pk]
    assert listed(as_member, venue="la-coroutine") == [bookings_everywhere["member"].pk]
    assert listed(as_member, resource="la-coroutine/salle-ada") == [bookings_everywhere["member"].pk]
    assert listed(as_member, venue="baraka") == []


def test_staff_list_only_their_venues_bookings(as_manager, as_other_manager, bookings_everywhere):
    assert listed(as_manager) == [bookings_everywhere["member"].pk, bookings_everywhere["other_member"].pk]
    assert listed(as_other_manager) == [bookings_everywhere["other_venue"].pk]
    assert listed(as_other_manager, venue="la-coroutine") == []
    assert listed(as_other_manager, resource="la-coroutine/salle-ada") == []


def test_free_busy_of_others_reveals_no_title_and_no_person(as_other_member, member, bookings_everywhere):
    response = as_other_member.get(
        "/resources/la-coroutine/salle-ada/busy",
        {"from": at(DAY, 0).isoformat(), "to": at(DAY + timedelta(days=1), 0).isoformat()},
    )
    assert response.status_code == 200
    assert len(response.json()["busy"]) == 2
    text = response.content.decode()
    for secret in ("Privé", member.email, member.first_name, "voisine@example.org", "Alix"):
        assert secret not in text


def test_a_conflict_names_the_slot_but_not_who_took_it(as_other_manager, bookings_everywhere, member):
    """Staff of another venue booking a resource of this one learn only that the slot is taken."""
    response = as_other_manager.post(
        "/bookings",
        {
            "resource": "la-coroutine/salle-ada",
            "start": at(DAY, 9).isoformat(),
            "end": at(DAY, 10).isoformat(),
            "title": "Essai",
        },
    )
    body = assert_error(response, 409, "booking_overlap")
    assert set(body["conflict"]) == {"resource", "start", "end"}
    assert "Privé" not in response.content.decode() and member.email not in response.content.decode()
