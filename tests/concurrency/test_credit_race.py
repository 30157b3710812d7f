"""Credits are never spent twice: one person books sixteen rooms at the same instant with credits for five.

Each room is different, so the resource locks of the booking guard do not serialise the clients: only the
lock on the person's credit lots does. The variant without that lock shows the test would catch its loss.
"""

import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connections
from django.db.models import Sum

from lieux.booking.models import Booking
from lieux.booking.services import create_booking
from lieux.memberships.models import CreditEntry, CreditEntryKind, CreditLot
from lieux.memberships.services import credits as credit_services
from tests.credits_data import assert_ledger_consistent, credit_type, rate
from tests.factories import ResourceFactory, at, future_day

pytestmark = pytest.mark.django_db(transaction=True)

CLIENTS = 16
CREDITS = Decimal(5)


@pytest.fixture
def rooms(venue, member):
    hours = credit_type(venue)
    rooms = [ResourceFactory(venue=venue, slug=f"bulle-{i}") for i in range(CLIENTS)]
    for room in rooms:
        rate(hours, room, "1")
    credit_services.grant_credits(
        person=member,
        venue=venue,
        credit_type=hours,
        quantity=CREDITS,
        expires_on=None,
        source_key="pack:race",
    )
    return rooms


def book_all_at_once(member, rooms) -> list[str]:
    start = at(future_day(), 10)
    barrier = threading.Barrier(len(rooms))
    errors: list[str] = []

    def client(room) -> None:
        try:
            barrier.wait()
            create_booking(
                actor=member,
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
    return -(total or 0)


def test_sixteen_simultaneous_bookings_spend_exactly_the_five_credits(member, rooms):
    assert book_all_at_once(member, rooms) == []

    bookings = list(Booking.objects.all())
    assert len(bookings) == CLIENTS
    assert sorted(b.credits_used for b in bookings) == [0] * (CLIENTS - 5) + [1] * 5
    assert sum(b.billable_net_amount is None for b in bookings) == CLIENTS  # the rooms have no price
    assert spent() == CREDITS
    assert CreditLot.objects.get().remaining == 0
    assert_ledger_consistent()


@pytest.fixture
def lot_lock_removed(postgres, monkeypatch):
    """Read the lots without locking them, with a little think time before spending, as a handler that
    checked the balance and then wrote would."""

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


def test_without_the_lot_lock_the_same_race_spends_credits_twice(lot_lock_removed, member, rooms):
    """Shows that test_sixteen_simultaneous_bookings_spend_exactly_the_five_credits would catch a missing
    lock."""
    book_all_at_once(member, rooms)
    bookings_paid = sum(b.credits_used for b in Booking.objects.all())
    assert bookings_paid > CREDITS
    lot = CreditLot.objects.get()
    assert lot.remaining != lot.granted - spent()
