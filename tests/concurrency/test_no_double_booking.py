"""No double booking under concurrent load, on SQLite and PostgreSQL, and proof that the tests bite.

Each test runs real threads with their own database connections against a real database file or server.
"""

import time
from datetime import timedelta

import pytest
from django.db import connection, connections

from lieux.booking.models import Booking, Status
from lieux.booking.services import occupancy
from tests.concurrency.race import count_overlaps, race
from tests.factories import ResourceFactory, UserFactory, add_role, at, future_day

pytestmark = pytest.mark.django_db(transaction=True)

CLIENTS = 64


@pytest.fixture
def clients(venue):
    actors = [UserFactory(email=f"client{i}@example.org") for i in range(CLIENTS)]
    for actor in actors:
        add_role(actor, venue)
    return actors


def one_room_race(clients, room, attempts_each=4):
    # 90-minute slots on a 30-minute grid between 08:00 and 20:00: heavy overlap between candidates.
    return race(
        actors=clients,
        resources=[room],
        first_start=at(future_day(), 8),
        slots=21,
        length=timedelta(minutes=90),
        step=timedelta(minutes=30),
        attempts_each=attempts_each,
    )


def test_one_room_many_clients_never_overlaps(clients, room):
    outcome = one_room_race(clients, room)
    assert outcome.errors == []
    assert outcome.counts["booked"] + outcome.counts["conflict"] == CLIENTS * 4
    assert outcome.counts["booked"] >= 1 and outcome.counts["conflict"] >= 1
    assert count_overlaps() == 0
    assert Booking.objects.filter(status=Status.CONFIRMED).count() == outcome.counts["booked"]


def test_hall_and_its_rooms_booked_at_once_never_overlap(clients, venue):
    hall = ResourceFactory(venue=venue, slug="halle", name="Halle")
    rooms = [ResourceFactory(venue=venue, slug=f"halle-{i}", parent=hall) for i in range(2)]
    outcome = race(
        actors=clients,
        resources=[hall, *rooms],
        first_start=at(future_day(), 8),
        slots=21,
        length=timedelta(minutes=90),
        step=timedelta(minutes=30),
        attempts_each=3,
    )
    assert outcome.errors == []
    assert count_overlaps() == 0
    for booking in Booking.objects.filter(resource=hall, status=Status.CONFIRMED):
        clash = Booking.objects.filter(
            resource__in=rooms,
            status=Status.CONFIRMED,
            starts_at__lt=booking.ends_at,
            ends_at__gt=booking.starts_at,
        )
        assert not clash.exists()


@pytest.fixture
def guard_removed(postgres, monkeypatch):
    """The naive check-then-insert: no row lock, no exclusion constraint, and a millisecond of think time
    between the check and the insert as real request handling has."""
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE booking_occupancy DROP CONSTRAINT occupancy_no_overlap")
    monkeypatch.setattr(occupancy, "lock_units", lambda unit_ids: None)
    real_find = occupancy.find_conflict

    def slow_find(*args, **kwargs):
        found = real_find(*args, **kwargs)
        time.sleep(0.002)
        return found

    monkeypatch.setattr(occupancy, "find_conflict", slow_find)
    yield
    connections.close_all()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE booking_occupancy SET is_active = false")
        cursor.execute(
            "ALTER TABLE booking_occupancy ADD CONSTRAINT occupancy_no_overlap EXCLUDE USING gist"
            " (resource_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) WHERE (is_active)"
        )


def test_without_the_guard_the_same_race_double_books(guard_removed, clients, room):
    """Shows that test_one_room_many_clients_never_overlaps would catch a missing guard."""
    one_room_race(clients, room)
    assert count_overlaps() > 0


def test_the_database_refuses_an_overlap_written_behind_the_services_back(member, room):
    """The exclusion constraint (PostgreSQL) or the trigger (SQLite) holds even when no service runs."""
    from django.db import IntegrityError

    from lieux.booking.models import Occupancy
    from lieux.booking.services import create_booking

    day = future_day()
    booking = create_booking(
        actor=member, resource=room, starts_at=at(day, 10), ends_at=at(day, 11), title="A"
    )
    with pytest.raises(IntegrityError, match="occupancy_no_overlap"):
        Occupancy.objects.create(
            booking=booking, resource=room, starts_at=at(day, 10, 30), ends_at=at(day, 12)
        )


def test_sqlite_without_immediate_transactions_clients_see_locked_errors(sqlite, clients, room):
    """Shows why the IMMEDIATE transaction mode matters: with SQLite's default DEFERRED mode the same race
    surfaces "database is locked" to clients, which the passing race test proves never happens."""
    options = connections.settings["default"]["OPTIONS"]
    connections.close_all()
    options["transaction_mode"] = "DEFERRED"
    options["timeout"] = 0.05
    try:
        outcome = one_room_race(clients[:16], room, attempts_each=20)
    finally:
        options["transaction_mode"] = "IMMEDIATE"
        options["timeout"] = 30
        connections.close_all()
    assert any("locked" in e for e in outcome.errors)
