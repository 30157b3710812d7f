from datetime import timedelta

import pytest

from lieux.booking.errors import BookingConflict, BookingInvalid, BookingNotFound, BookingStateError
from lieux.booking.models import Booking, Occupancy, Status
from lieux.booking.services import (
    approve_booking,
    cancel_booking,
    confirm_hold,
    create_booking,
    move_booking,
    refuse_booking,
)
from lieux.core.errors import Forbidden, NotFound
from lieux.core.models import AuditEvent
from lieux.venues.models import BookableBy
from tests.factories import ResourceFactory, add_prices, at, future_day, organisation

DAY = future_day()


def book(actor, resource, h1, h2, **kw):
    return create_booking(
        actor=actor, resource=resource, starts_at=at(DAY, *h1), ends_at=at(DAY, *h2), title="Réunion", **kw
    )


def test_adjacent_bookings_do_not_collide(member, room):
    book(member, room, (10,), (11,))
    book(member, room, (11,), (12,))
    assert Booking.objects.filter(status=Status.CONFIRMED).count() == 2


def test_overlap_is_refused_and_names_the_slot_without_writing(member, room):
    book(member, room, (10,), (11,))
    before = (Booking.objects.count(), Occupancy.objects.count(), AuditEvent.objects.count())
    with pytest.raises(BookingConflict) as caught:
        book(member, room, (10, 30), (11, 30))
    assert caught.value.extra["conflict"]["start"].startswith(f"{DAY.isoformat()}T10:00")
    assert "Salle Ada" in str(caught.value.message)
    assert (Booking.objects.count(), Occupancy.objects.count(), AuditEvent.objects.count()) == before


def test_hall_blocks_its_rooms_and_rooms_block_the_hall(member, venue):
    hall = ResourceFactory(venue=venue, name="Grande halle", slug="halle", capacity=80)
    north = ResourceFactory(venue=venue, name="Halle nord", slug="nord", parent=hall)
    south = ResourceFactory(venue=venue, name="Halle sud", slug="sud", parent=hall)
    book(member, north, (10,), (12,))
    book(member, south, (10,), (12,))  # siblings are independent
    with pytest.raises(BookingConflict):
        book(member, hall, (11,), (13,))
    book(member, hall, (14,), (16,))
    with pytest.raises(BookingConflict):
        book(member, south, (15,), (17,))


def test_buffers_keep_time_free_between_bookings(member, venue):
    room = ResourceFactory(venue=venue, buffer_after=timedelta(minutes=30))
    book(member, room, (10,), (11,))
    with pytest.raises(BookingConflict):
        book(member, room, (11,), (12,))
    book(member, room, (11, 30), (12,))


@pytest.mark.parametrize(
    ("h1", "h2", "code"),
    [
        ((11,), (10,), "end_before_start"),
        ((10,), (10, 15), "too_short"),
        ((10, 10), (11,), "off_grid"),
        ((6,), (7,), "outside_opening_hours"),
        ((19,), (21,), "outside_opening_hours"),
    ],
)
def test_rule_breaking_slots_are_refused(member, room, h1, h2, code):
    with pytest.raises(BookingInvalid) as caught:
        book(member, room, h1, h2)
    assert caught.value.code == code
    assert not Booking.objects.exists()


def test_too_long_and_naive_datetimes_are_refused(member, venue):
    room = ResourceFactory(venue=venue, max_duration=timedelta(hours=2))
    with pytest.raises(BookingInvalid) as caught:
        book(member, room, (9,), (12,))
    assert caught.value.code == "too_long"
    with pytest.raises(BookingInvalid) as caught:
        create_booking(
            actor=member,
            resource=room,
            starts_at=at(DAY, 9).replace(tzinfo=None),
            ends_at=at(DAY, 10).replace(tzinfo=None),
            title="x",
        )
    assert caught.value.code == "naive_datetime"


def test_closed_day_is_refused(member, room, venue):
    venue.closures.create(starts_on=DAY, ends_on=DAY, reason="Férié")
    with pytest.raises(BookingInvalid) as caught:
        book(member, room, (10,), (11,))
    assert caught.value.code == "venue_closed"


def test_staff_may_book_outside_opening_hours(manager, room):
    assert book(manager, room, (20,), (22,)).status == Status.CONFIRMED


def test_approval_flow_keeps_the_slot_while_pending(member, manager, venue):
    room = ResourceFactory(venue=venue, approval_required=True)
    pending = book(member, room, (10,), (11,))
    assert pending.status == Status.PENDING
    with pytest.raises(BookingConflict):
        book(member, room, (10,), (11,))
    assert approve_booking(actor=manager, booking=pending).status == Status.CONFIRMED
    with pytest.raises(BookingStateError):
        refuse_booking(actor=manager, booking=pending)


def test_refusal_frees_the_slot(member, manager, venue):
    room = ResourceFactory(venue=venue, approval_required=True)
    refuse_booking(actor=manager, booking=book(member, room, (10,), (11,)), reason="Travaux")
    assert book(member, room, (10,), (11,)).status == Status.PENDING


def test_manager_of_another_venue_cannot_touch_a_booking(member, room, other_manager):
    booking = book(member, room, (10,), (11,))
    for action in (cancel_booking, approve_booking):
        with pytest.raises(BookingNotFound):
            action(actor=other_manager, booking=booking)
    with pytest.raises(BookingNotFound):
        move_booking(actor=other_manager, booking=booking, title="piraté")
    booking.refresh_from_db()
    assert booking.status == Status.CONFIRMED and booking.title == "Réunion"


def test_cancel_then_rebook_the_same_slot(member, room):
    first = book(member, room, (10,), (11,))
    cancel_booking(actor=member, booking=first)
    assert book(member, room, (10,), (11,)).status == Status.CONFIRMED
    assert AuditEvent.objects.filter(action="booking.booking.cancelled", object_id=str(first.pk)).exists()


def test_member_cannot_cancel_after_deadline_but_staff_can(member, manager, venue):
    room = ResourceFactory(venue=venue, cancellation_deadline=timedelta(days=30))
    booking = book(member, room, (10,), (11,))
    with pytest.raises(BookingStateError) as caught:
        cancel_booking(actor=member, booking=booking)
    assert caught.value.code == "cancellation_deadline_passed"
    assert cancel_booking(actor=manager, booking=booking).status == Status.CANCELLED


def test_move_into_an_overlap_leaves_the_booking_unchanged(member, room):
    book(member, room, (10,), (11,))
    second = book(member, room, (14,), (15,))
    with pytest.raises(BookingConflict):
        move_booking(actor=member, booking=second, starts_at=at(DAY, 10, 30), ends_at=at(DAY, 11, 30))
    second.refresh_from_db()
    assert second.starts_at == at(DAY, 14)
    moved = move_booking(actor=member, booking=second, starts_at=at(DAY, 11), ends_at=at(DAY, 12))
    assert moved.starts_at == at(DAY, 11)
    assert book(member, room, (14,), (15,))  # the old slot is free again


def test_expired_hold_gives_way(member, stranger, room, settings):
    settings.LIEUX_HOLD_MINUTES = 0
    held = book(member, room, (10,), (11,), hold=True)
    assert held.status == Status.HELD
    other = book(stranger, room, (10,), (11,))
    held.refresh_from_db()
    assert held.status == Status.EXPIRED and other.status == Status.CONFIRMED
    with pytest.raises(BookingStateError):
        confirm_hold(actor=member, booking=held)


def test_live_hold_blocks_then_confirms(member, stranger, room):
    held = book(member, room, (10,), (11,), hold=True)
    with pytest.raises(BookingConflict):
        book(stranger, room, (10,), (11,))
    assert confirm_hold(actor=member, booking=held).status == Status.CONFIRMED


def test_who_may_book(member, stranger, manager, venue):
    members_only = ResourceFactory(venue=venue, bookable_by=BookableBy.MEMBERS)
    staff_only = ResourceFactory(venue=venue, bookable_by=BookableBy.STAFF)
    with pytest.raises(Forbidden):
        book(stranger, members_only, (10,), (11,))
    book(member, members_only, (10,), (11,))
    with pytest.raises(Forbidden):
        book(member, staff_only, (10,), (11,))
    book(manager, staff_only, (10,), (11,))


def test_booking_for_an_organisation_needs_membership_of_it(member, stranger, room):
    org = organisation("Coop Lilloise", member)
    assert book(member, room, (10,), (11,), organisation=org).organisation == org
    with pytest.raises(NotFound) as caught:
        book(stranger, room, (12,), (13,), organisation=org)
    assert "Coop Lilloise" not in str(caught.value.message)


def test_price_estimate_uses_the_audience_and_cheapest_units(member, stranger, room):
    add_prices(room, hour_member="10", hour_public="15", half_day_public="50")
    assert book(member, room, (9,), (12,)).quoted_net_amount == 30
    assert book(stranger, room, (13,), (17,)).quoted_net_amount == 50
