"""Creating a booking costs a fixed, small number of SQL statements, whatever the venue holds: one read of
everything checked (booking_facts), then the transaction's writes. Those counts are the budget of the
booking API's throughput (docs/performance.md); a test that fails here means a statement was added."""

import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from lieux.accounts.services import issue_api_token
from lieux.booking.errors import BookingConflict
from lieux.booking.models import Booking, Occupancy
from lieux.booking.selectors_facts import forget_resources
from lieux.booking.services import create_booking
from lieux.venues.models import BookableBy, Resource
from tests.factories import ResourceFactory, UserFactory, add_prices, add_role, at, future_day

pytestmark = pytest.mark.django_db

DAY = future_day()

# The statements that reach the database for one booking of a free slot, by backend: what a statement
# costs to compile, send and plan is most of a booking's price.
#   PostgreSQL: booking_facts; BEGIN; INSERT booking; lock the units (SELECT … FOR UPDATE); INSERT the
#   occupancies (ON CONFLICT DO NOTHING); INSERT the audit row; COMMIT.
#   SQLite: booking_facts; BEGIN IMMEDIATE; INSERT booking; SAVEPOINT, INSERT the occupancies, RELEASE
#   (the trigger refuses inside the savepoint); INSERT the audit row; COMMIT. No lock: the IMMEDIATE
#   transaction holds the database.
BOOKING_STATEMENTS = {"postgresql": 7, "sqlite": 8}


def statements(work) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        work()
    return [query["sql"] for query in captured.captured_queries]


def fill(venue, *, resources, people):
    """More resources with prices, more people with roles, more bookings: nothing a booking should read."""
    for n in range(resources):
        resource = ResourceFactory(venue=venue, slug=f"en-plus-{n}")
        add_prices(resource, hour_member="10", hour_public="15", day_public="80")
        for p in range(people):
            person = UserFactory(email=f"en-plus-{p}@example.org")
            add_role(person, venue)
            create_booking(
                actor=person,
                resource=resource,
                starts_at=at(DAY, 8 + p),
                ends_at=at(DAY, 9 + p),
                title="Déjà là",
            )


def book_at(actor, resource, hour: int):
    return lambda: create_booking(
        actor=actor, resource=resource, starts_at=at(DAY, hour), ends_at=at(DAY, hour + 1), title="R"
    )


@pytest.mark.parametrize("who", ["member", "manager"])
def test_a_booking_costs_the_same_few_statements_however_full_the_venue(who, venue, room, member, manager):
    actor = {"member": member, "manager": manager}[who]
    add_prices(room, hour_member="10", hour_public="15")
    first = statements(book_at(actor, room, 10))
    assert len(first) == BOOKING_STATEMENTS[connection.vendor], first
    fill(venue, resources=4, people=3)
    assert len(statements(book_at(actor, room, 14))) == len(first)


def test_a_hall_costs_no_more_than_a_room(venue, member):
    hall = ResourceFactory(venue=venue, slug="halle")
    for n in range(3):
        ResourceFactory(venue=venue, slug=f"halle-{n}", parent=hall)
    assert len(statements(book_at(member, hall, 10))) == BOOKING_STATEMENTS[connection.vendor]
    assert Occupancy.objects.filter(booking__resource=hall).count() == 3


def test_a_taken_slot_is_refused_with_its_conflict_and_leaves_nothing(room, member, other_member):
    book_at(member, room, 10)()
    with pytest.raises(BookingConflict) as refused:
        book_at(other_member, room, 10)()
    assert refused.value.extra["conflict"]["start"].startswith(DAY.isoformat())
    assert Booking.objects.count() == Occupancy.objects.count() == 1


# --- Through the HTTP API ---------------------------------------------------------------------------------


def post(client: Client, room, hour: int):
    body = {
        "resource": f"{room.venue.slug}/{room.slug}",
        "start": at(DAY, hour).isoformat(),
        "end": at(DAY, hour + 1).isoformat(),
        "title": "Atelier",
    }
    response = client.post("/api/v1/bookings", json.dumps(body), content_type="application/json")
    assert response.status_code == 201, response.content
    return response


def test_the_api_reads_the_token_then_books_and_names_the_resource_from_memory(venue, room, manager):
    forget_resources()
    client = Client(HTTP_AUTHORIZATION=f"Bearer {issue_api_token(email=manager.email)[1]}")
    first = statements(lambda: post(client, room, 10))
    second = statements(lambda: post(client, room, 12))
    # The token, then the booking; the resource is read from the database only the first time.
    assert len(second) == 1 + BOOKING_STATEMENTS[connection.vendor], second
    assert len(first) == len(second) + 1
    fill(venue, resources=3, people=2)  # resources saved here: the copies are dropped, read again once
    assert len(statements(lambda: post(client, room, 14))) == len(first)
    assert len(statements(lambda: post(client, room, 16))) == len(second)


def test_the_api_obeys_a_resource_changed_by_another_process_at_once(venue, room, member):
    """The copy kept in memory may be stale (here: changed without this process hearing of it); what
    guards the booking is read again at every request."""
    client = Client(HTTP_AUTHORIZATION=f"Bearer {issue_api_token(email=member.email)[1]}")
    assert post(client, room, 10).json()["status"] == "confirmed"
    Resource.objects.filter(pk=room.pk).update(approval_required=True)
    assert post(client, room, 12).json()["status"] == "pending"

    def refused(hour: int):
        body = {
            "resource": f"{venue.slug}/{room.slug}",
            "start": at(DAY, hour).isoformat(),
            "end": at(DAY, hour + 1).isoformat(),
            "title": "Atelier",
        }
        response = client.post("/api/v1/bookings", json.dumps(body), content_type="application/json")
        return response.status_code, response.json()["code"]

    Resource.objects.filter(pk=room.pk).update(bookable_by=BookableBy.STAFF)
    assert refused(14) == (403, "not_allowed_to_book")
    Resource.objects.filter(pk=room.pk).update(bookable_by=BookableBy.ANYONE, is_active=False)
    assert refused(16) == (404, "unknown_resource")
    assert Booking.objects.count() == 2
