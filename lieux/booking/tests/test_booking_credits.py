from datetime import timedelta
from decimal import Decimal

import pytest

from lieux.booking.errors import BookingConflict
from lieux.booking.models import Booking, Status
from lieux.booking.rules import Recurrence
from lieux.booking.services import (
    cancel_booking,
    create_booking,
    create_series,
    expire_holds,
    move_booking,
    refuse_booking,
)
from lieux.core.models import AuditEvent
from lieux.memberships.models import CreditEntry, CreditEntryKind
from lieux.memberships.services.credits import grant_credits
from tests.credits_data import assert_ledger_consistent, credit_type, rate
from tests.factories import ResourceFactory, add_prices, at, future_day

D = Decimal
DAY = future_day()


@pytest.fixture
def hours(venue):
    return credit_type(venue)


@pytest.fixture
def priced_room(room, hours):
    add_prices(room, hour_member="10", hour_public="15")
    rate(hours, room, "1")
    return room


def give(member, venue, hours, quantity, key="pack:1", **kw):
    return grant_credits(
        person=member,
        venue=venue,
        credit_type=hours,
        quantity=D(quantity),
        expires_on=None,
        source_key=key,
        **kw,
    )


def book(actor, resource, h1, h2, **kw):
    return create_booking(
        actor=actor, resource=resource, starts_at=at(DAY, h1), ends_at=at(DAY, h2), title="Réunion", **kw
    )


def entries(booking):
    return [(e.kind, e.quantity) for e in CreditEntry.objects.filter(reference=f"booking:{booking.pk}")]


def test_a_members_booking_spends_credits_in_its_transaction(member, venue, hours, priced_room):
    lot = give(member, venue, hours, "10")
    booking = book(member, priced_room, 10, 12)
    assert booking.quoted_net_amount == D(20)
    assert booking.credits_used == D(2) and booking.billable_net_amount == 0
    booking.refresh_from_db()
    assert booking.credits_used == D(2) and booking.billable_net_amount == 0
    assert entries(booking) == [(CreditEntryKind.CONSUME, D(-2))]
    lot.refresh_from_db()
    assert lot.remaining == D(8)
    assert_ledger_consistent()


def test_beyond_the_credits_the_rest_is_billable_at_the_members_rate(member, venue, hours, priced_room):
    give(member, venue, hours, "1")
    booking = book(member, priced_room, 10, 13)
    assert booking.quoted_net_amount == D(30)
    assert booking.credits_used == D(1) and booking.billable_net_amount == D("20.00")


def test_without_credits_the_whole_quote_is_billable(member, stranger, priced_room):
    assert book(member, priced_room, 10, 11).billable_net_amount == D(10)
    assert book(stranger, priced_room, 11, 12).billable_net_amount == D(15)
    assert not CreditEntry.objects.exists()


def test_a_refused_booking_spends_nothing(member, venue, hours, priced_room, other_member):
    give(member, venue, hours, "5")
    book(other_member, priced_room, 10, 11)
    with pytest.raises(BookingConflict):
        book(member, priced_room, 10, 12)
    assert not CreditEntry.objects.filter(kind=CreditEntryKind.CONSUME).exists()
    assert_ledger_consistent()


def test_cancelling_before_the_deadline_gives_the_credits_back(member, venue, hours, priced_room):
    lot = give(member, venue, hours, "3")
    booking = book(member, priced_room, 10, 12)
    cancelled = cancel_booking(actor=member, booking=booking)
    lot.refresh_from_db()
    assert lot.remaining == D(3)
    assert cancelled.credits_used == 0
    assert entries(booking) == [(CreditEntryKind.CONSUME, D(-2)), (CreditEntryKind.REFUND, D(2))]
    event = AuditEvent.objects.get(action="booking.booking.cancelled", object_id=str(booking.pk))
    assert event.data["credits_returned"] is True
    assert_ledger_consistent()


def test_after_the_deadline_the_credits_stay_spent(member, manager, venue, hours):
    late = ResourceFactory(venue=venue, cancellation_deadline=timedelta(days=30))
    rate(hours, late, "1")
    lot = give(member, venue, hours, "3")
    booking = book(member, late, 10, 12)
    cancelled = cancel_booking(actor=manager, booking=booking)  # the member may no longer cancel
    lot.refresh_from_db()
    assert lot.remaining == D(1) and cancelled.credits_used == D(2)
    assert entries(booking) == [(CreditEntryKind.CONSUME, D(-2))]
    assert_ledger_consistent()


def test_moving_prices_the_booking_again(member, venue, hours, priced_room):
    lot = give(member, venue, hours, "2")
    booking = book(member, priced_room, 10, 11)
    assert booking.credits_used == 1

    moved = move_booking(actor=member, booking=booking, starts_at=at(DAY, 14), ends_at=at(DAY, 17))

    assert moved.quoted_net_amount == D(30)
    assert moved.credits_used == D(2) and moved.billable_net_amount == D("10.00")
    assert entries(booking) == [
        (CreditEntryKind.CONSUME, D(-1)),
        (CreditEntryKind.REFUND, D(1)),
        (CreditEntryKind.CONSUME, D(-2)),
    ]
    lot.refresh_from_db()
    assert lot.remaining == 0
    shorter = move_booking(actor=member, booking=moved, starts_at=at(DAY, 14), ends_at=at(DAY, 15))
    lot.refresh_from_db()
    assert shorter.credits_used == 1 and shorter.billable_net_amount == 0 and lot.remaining == 1
    assert_ledger_consistent()


def test_a_refused_move_leaves_the_credits_as_they_were(member, other_member, venue, hours, priced_room):
    lot = give(member, venue, hours, "5")
    booking = book(member, priced_room, 10, 11)
    book(other_member, priced_room, 14, 15)
    with pytest.raises(BookingConflict):
        move_booking(actor=member, booking=booking, starts_at=at(DAY, 13), ends_at=at(DAY, 16))
    lot.refresh_from_db()
    booking.refresh_from_db()
    assert lot.remaining == D(4) and booking.credits_used == 1
    assert len(entries(booking)) == 1


def test_a_title_change_does_not_touch_the_credits(member, venue, hours, priced_room):
    give(member, venue, hours, "5")
    booking = book(member, priced_room, 10, 11)
    move_booking(actor=member, booking=booking, title="Atelier")
    assert len(entries(booking)) == 1


def test_a_refused_request_and_a_lapsed_hold_give_the_credits_back(member, manager, venue, hours, settings):
    needs_approval = ResourceFactory(venue=venue, approval_required=True)
    rate(hours, needs_approval, "1")
    lot = give(member, venue, hours, "5")
    request = book(member, needs_approval, 10, 12)
    assert request.status == Status.PENDING and request.credits_used == 2
    refuse_booking(actor=manager, booking=request)

    settings.LIEUX_HOLD_MINUTES = 0
    held = book(member, needs_approval, 14, 15, hold=True)
    assert held.credits_used == 1
    assert expire_holds() == 1

    lot.refresh_from_db()
    held.refresh_from_db()
    assert lot.remaining == D(5) and held.credits_used == 0
    assert_ledger_consistent()


def test_a_lapsed_hold_taken_over_by_someone_else_gives_its_credits_back(
    member, other_member, venue, hours, priced_room, settings
):
    lot = give(member, venue, hours, "5")
    settings.LIEUX_HOLD_MINUTES = 0
    held = book(member, priced_room, 10, 11, hold=True)
    book(other_member, priced_room, 10, 11)
    held.refresh_from_db()
    lot.refresh_from_db()
    assert held.status == Status.EXPIRED and held.credits_used == 0 and lot.remaining == D(5)
    assert_ledger_consistent()


def test_a_series_spends_credits_on_its_earliest_occurrences(member, venue, hours, priced_room):
    give(member, venue, hours, "3")
    result = create_series(
        actor=member,
        resource=priced_room,
        starts_at=at(DAY, 10),
        ends_at=at(DAY, 12),
        title="Hebdo",
        recurrence=Recurrence(frequency="weekly", count=3),
    )
    used = [b.credits_used for b in sorted(result.booked, key=lambda b: b.starts_at)]
    assert used == [D(2), D(1), D(0)]
    assert [b.billable_net_amount for b in Booking.objects.order_by("starts_at")] == [D(0), D(10), D(20)]
    assert_ledger_consistent()
