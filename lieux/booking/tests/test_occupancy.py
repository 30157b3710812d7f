"""The slot is taken by inserting its occupancies, the database refusing a taken one; the conflict is looked
for only then. A refusal leaves nothing behind, and holds past their expiry give way only when in the way."""

import pytest
from django.db import transaction

from lieux.booking.errors import BookingConflict
from lieux.booking.models import Booking, Occupancy, Status
from lieux.booking.services import create_booking, expire_holds, move_booking, occupancy
from tests.factories import ResourceFactory, at, future_day

pytestmark = pytest.mark.django_db

DAY = future_day()


def book(actor, resource, h1: int, h2: int, **kwargs) -> Booking:
    return create_booking(
        actor=actor, resource=resource, starts_at=at(DAY, h1), ends_at=at(DAY, h2), title="R", **kwargs
    )


def test_a_hall_refused_for_one_of_its_parts_leaves_no_occupancy_of_the_others(venue, member, other_member):
    """On PostgreSQL the free part's row goes in before the taken part's is refused: it is taken out again,
    so that `occupy` refusing writes nothing even for a caller that goes on with its transaction."""
    hall = ResourceFactory(venue=venue, slug="halle")
    free_part = ResourceFactory(venue=venue, slug="halle-nord", parent=hall)
    taken_part = ResourceFactory(venue=venue, slug="halle-sud", parent=hall)
    assert free_part.pk < taken_part.pk  # the free part's row is the first one inserted
    book(other_member, taken_part, 10, 11)
    with transaction.atomic():
        booking = Booking.objects.create(
            venue=venue,
            resource=hall,
            booked_by=member,
            title="Halle",
            starts_at=at(DAY, 10),
            ends_at=at(DAY, 12),
            status=Status.CONFIRMED,
        )
        with pytest.raises(BookingConflict) as refused:
            occupancy.occupy(booking, at(DAY, 10), at(DAY, 12), fresh=True)
        assert not Occupancy.objects.filter(booking=booking).exists()
        transaction.set_rollback(True)
    assert refused.value.extra["conflict"]["resource"] == taken_part.slug


def test_a_refused_move_keeps_the_slot_it_held(member, other_member, stranger, room):
    mine = book(member, room, 14, 15)
    book(other_member, room, 10, 11)
    with pytest.raises(BookingConflict):
        move_booking(actor=member, booking=mine, starts_at=at(DAY, 10), ends_at=at(DAY, 11))
    held = Occupancy.objects.get(booking=mine, is_active=True)
    assert (held.starts_at, held.ends_at) == (at(DAY, 14), at(DAY, 15))
    with pytest.raises(BookingConflict):
        book(stranger, room, 14, 15)


def test_a_move_onto_part_of_its_own_slot_is_no_conflict(member, room):
    mine = book(member, room, 10, 12)
    moved = move_booking(actor=member, booking=mine, starts_at=at(DAY, 11), ends_at=at(DAY, 13))
    assert [(o.starts_at, o.ends_at) for o in Occupancy.objects.filter(booking=moved)] == [
        (at(DAY, 11), at(DAY, 13))
    ]


def test_expired_holds_give_way_when_they_refuse_a_booking(settings, member, other_member, room):
    """A free slot costs no read of holds: the worker's expire_holds releases those nobody wants. A hold
    past its expiry that refuses a booking is released on the spot, with those of the same units."""
    settings.LIEUX_HOLD_MINUTES = 0  # every hold is past its expiry at once
    in_the_way = book(member, room, 10, 11, hold=True)
    elsewhere = book(member, room, 16, 17, hold=True)
    book(other_member, room, 12, 13)
    assert set(Booking.objects.filter(hold_expires_at__isnull=False).values_list("status", flat=True)) == {
        Status.HELD
    }
    taken = book(other_member, room, 10, 11)
    assert taken.status == Status.CONFIRMED
    for hold in (in_the_way, elsewhere):
        hold.refresh_from_db()
        assert hold.status == Status.EXPIRED
        assert not Occupancy.objects.filter(booking=hold, is_active=True).exists()
    assert expire_holds() == 0


def test_a_slot_refused_by_a_booking_gone_before_it_is_named_is_still_a_conflict(
    monkeypatch, member, other_member, room
):
    """Between the refusal and the search for its cause the taker may let go of the slot (PostgreSQL:
    a cancellation commits in between). The insert is tried again a few times, then refused plainly."""
    book(member, room, 10, 11)
    searches = []

    def vanished(*args, **kwargs):
        searches.append(args)
        return None

    monkeypatch.setattr(occupancy, "find_conflict", vanished)
    with pytest.raises(BookingConflict) as refused:
        book(other_member, room, 10, 11)
    assert len(searches) == occupancy.TAKE_ATTEMPTS
    assert refused.value.code == "booking_overlap" and "conflict" not in refused.value.extra
    assert Booking.objects.count() == Occupancy.objects.count() == 1
