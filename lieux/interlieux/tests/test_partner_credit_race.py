"""A pass holder's home credits are never spent twice, even by bookings made at the same instant at their
home venue and at a partner venue: both kinds of booking lock the same home lots before reading them.
The variant without that lock shows the test would catch its loss (PostgreSQL)."""

import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connections
from django.db.models import Sum

from lieux.booking.models import Booking
from lieux.booking.services import create_booking
from lieux.interlieux.models import NetworkAccess
from lieux.memberships.models import CreditEntry, CreditEntryKind, CreditLot
from lieux.memberships.services import credits as credit_services
from tests.credits_data import assert_ledger_consistent, credit_type, grant, rate
from tests.factories import ResourceFactory, at, future_day
from tests.interlieux_data import pass_plan, subscribe

pytestmark = pytest.mark.django_db(transaction=True)

ROOMS_EACH = 6
CREDITS = Decimal(4)


@pytest.fixture
def rooms(venue, other_venue, traveller):
    home_hours = credit_type(venue, "heures-salle")
    host_hours = credit_type(other_venue, "heures-salle")
    offer = pass_plan(venue, [other_venue])
    NetworkAccess.objects.filter(plan=offer).update(partner_bookings_use_credits=True)
    grant(offer, home_hours, "10")
    subscribe(offer, traveller)
    credit_services.grant_credits(
        person=traveller,
        venue=venue,
        credit_type=home_hours,
        quantity=CREDITS,
        expires_on=None,
        source_key="pack:race",
    )
    rooms = []
    for i in range(ROOMS_EACH):
        home_room = ResourceFactory(venue=venue, slug=f"bulle-{i}")
        rate(home_hours, home_room, "1")
        host_room = ResourceFactory(venue=other_venue, slug=f"cabine-{i}")
        rate(host_hours, host_room, "1")
        rooms += [home_room, host_room]
    return rooms


def book_all_at_once(person, rooms) -> list[str]:
    start = at(future_day(), 10)
    barrier = threading.Barrier(len(rooms))
    errors: list[str] = []

    def client(room) -> None:
        try:
            barrier.wait()
            create_booking(
                actor=person,
                resource=room,
                starts_at=start,
                ends_at=start + timedelta(hours=1),
                title="Course",
            )
        except Exception as error:
            errors.append(f"{type(error).__name__}: {error}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=client, args=(room,)) for room in rooms]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def spent() -> Decimal:
    total = CreditEntry.objects.filter(kind=CreditEntryKind.CONSUME).aggregate(t=Sum("quantity"))["t"]
    return -(total or Decimal(0))


def test_home_and_partner_bookings_at_once_spend_exactly_the_home_credits(traveller, rooms, venue):
    assert book_all_at_once(traveller, rooms) == []
    bookings = list(Booking.objects.all())
    assert len(bookings) == 2 * ROOMS_EACH
    assert sum(b.credits_used for b in bookings) == CREDITS == spent()
    assert all(b.credits_venue_id == venue.pk for b in bookings if b.credits_used and b.venue_id != venue.pk)
    assert CreditLot.objects.get().remaining == 0
    assert_ledger_consistent()


@pytest.fixture
def lot_lock_removed(postgres, monkeypatch):
    """Read the lots without locking them, with a little think time before spending."""

    def read_without_lock(person_id, venue_id, credit_type_ids):
        lots = list(
            CreditLot.objects.filter(
                person_id=person_id,
                venue_id=venue_id,
                credit_type_id__in=list(credit_type_ids),
                remaining__gt=0,
            ).order_by("pk")
        )
        time.sleep(0.05)
        return lots

    monkeypatch.setattr(credit_services, "lock_lots", read_without_lock)


def test_without_the_lot_lock_the_same_race_spends_home_credits_twice(lot_lock_removed, traveller, rooms):
    book_all_at_once(traveller, rooms)
    assert sum(b.credits_used for b in Booking.objects.all()) > CREDITS
