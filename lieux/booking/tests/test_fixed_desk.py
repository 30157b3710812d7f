from datetime import date, datetime, time, timedelta

import pytest

from lieux.booking.errors import BookingConflict, BookingStateError
from lieux.booking.models import Booking, Occupancy, Status
from lieux.booking.services import cancel_booking, create_booking, desks
from lieux.core.errors import ValidationError
from lieux.core.models import AuditEvent
from lieux.core.schedule import JOBS
from lieux.core.time import day_bounds, now
from lieux.memberships import hooks
from lieux.memberships.models import DeskMode, SubscriptionStatus
from lieux.memberships.rules.credits import add_months
from lieux.venues.models import ResourceKind
from tests.credits_data import plan, subscription
from tests.factories import PARIS, ResourceFactory, at

TODAY = now().astimezone(PARIS).date()


@pytest.fixture
def desk(venue):
    return ResourceFactory(venue=venue, kind=ResourceKind.DESK, name="Bureau 3", slug="bureau-3")


@pytest.fixture
def fixed(venue):
    return plan(venue, "poste-fixe", desk_mode=DeskMode.FIXED)


def start(sub):
    for hook in hooks.on_subscription_started:
        hook(sub)


def end(sub):
    for hook in hooks.on_subscription_ended:
        hook(sub)


def desk_booking(sub):
    return Booking.objects.get(subscription=sub, status=Status.CONFIRMED)


def test_a_fixed_desk_subscription_books_its_desk_for_its_whole_length(fixed, member, desk):
    first, last = TODAY + timedelta(days=3), TODAY + timedelta(days=93)
    sub = subscription(fixed, member, first, first + timedelta(days=30), desk=desk, ends_on=last)

    start(sub)
    start(sub)  # a plan change "now" runs the hook again: still one booking

    booking = desk_booking(sub)
    assert (booking.starts_at, booking.ends_at) == (day_bounds(first, PARIS)[0], day_bounds(last, PARIS)[1])
    assert booking.resource == desk and booking.booked_by == member
    assert booking.billable_net_amount is None
    assert Occupancy.objects.filter(booking=booking, is_active=True).count() == 1
    assert AuditEvent.objects.filter(action="booking.desk.booked").count() == 1
    with pytest.raises(BookingConflict):
        create_booking(
            actor=member, resource=desk, starts_at=at(first, 10), ends_at=at(first, 11), title="Encore"
        )


def test_a_desk_cannot_be_given_twice(fixed, member, other_member, desk):
    first = TODAY + timedelta(days=1)
    start(subscription(fixed, member, first, first + timedelta(days=30), desk=desk))
    rival = subscription(
        fixed, other_member, first + timedelta(days=10), first + timedelta(days=40), desk=desk
    )
    with pytest.raises(BookingConflict) as caught:
        start(rival)
    assert caught.value.status == 409
    assert not Booking.objects.filter(subscription=rival).exists()


def test_without_an_end_date_the_desk_is_held_over_a_renewed_horizon(fixed, member, desk, monkeypatch):
    sub = subscription(fixed, member, TODAY, TODAY + timedelta(days=30), desk=desk)
    start(sub)
    horizon = add_months(TODAY, 12) - timedelta(days=1)
    assert desks._last_day(desk_booking(sub)) == horizon

    assert JOBS["booking.sync_fixed_desks"].run() == (1, 0)
    assert desks._last_day(desk_booking(sub)) == horizon  # far from the end: unchanged

    near_end = datetime.combine(horizon - timedelta(days=20), time(3), tzinfo=PARIS)
    monkeypatch.setattr(desks, "now", lambda: near_end)
    assert desks.sync_fixed_desks() == (1, 0)
    assert desks._last_day(desk_booking(sub)) == add_months(horizon, 12)
    assert AuditEvent.objects.filter(action="booking.desk.extended").count() == 1


def test_a_renewal_blocked_by_another_booking_is_reported(
    fixed, member, other_member, manager, desk, monkeypatch
):
    sub = subscription(fixed, member, TODAY, TODAY + timedelta(days=30), desk=desk)
    start(sub)
    horizon = add_months(TODAY, 12) - timedelta(days=1)
    beyond = horizon + timedelta(days=10)
    create_booking(
        actor=manager, resource=desk, starts_at=at(beyond, 10), ends_at=at(beyond, 11), title="Visite"
    )
    near_end = datetime.combine(horizon - timedelta(days=20), time(3), tzinfo=PARIS)
    monkeypatch.setattr(desks, "now", lambda: near_end)

    assert desks.sync_fixed_desks() == (0, 1)
    assert desks._last_day(desk_booking(sub)) == horizon
    assert AuditEvent.objects.filter(action="booking.desk.renewal_conflict", object_id=str(sub.pk)).exists()


def test_ending_the_subscription_releases_the_days_after_today(fixed, member, other_member, desk):
    sub = subscription(fixed, member, TODAY - timedelta(days=5), TODAY + timedelta(days=25), desk=desk)
    start(sub)
    later = subscription(
        fixed,
        member,
        TODAY + timedelta(days=40),
        TODAY + timedelta(days=70),
        desk=ResourceFactory(venue=desk.venue),
    )
    start(later)

    for s in (sub, later):
        s.status, s.ends_on = SubscriptionStatus.ENDED, TODAY
        s.save()
        end(s)

    current = desk_booking(sub)
    assert desks._last_day(current) == TODAY
    assert Booking.objects.get(subscription=later).status == Status.CANCELLED
    tomorrow = TODAY + timedelta(days=1)
    create_booking(
        actor=other_member, resource=desk, starts_at=at(tomorrow, 10), ends_at=at(tomorrow, 11), title="Libre"
    )


def test_only_fixed_desk_plans_with_a_desk_book_anything(venue, member, desk):
    flexible = plan(venue, "nomade", desk_mode=DeskMode.FLEXIBLE)
    start(subscription(flexible, member, TODAY, TODAY + timedelta(days=30), desk=desk))
    start(subscription(plan(venue, "fixe-sans-bureau", desk_mode=DeskMode.FIXED), member, TODAY, TODAY))
    assert not Booking.objects.exists()


def test_a_desk_of_another_venue_is_refused(fixed, member, other_venue):
    elsewhere = ResourceFactory(venue=other_venue, kind=ResourceKind.DESK)
    with pytest.raises(ValidationError):
        start(subscription(fixed, member, TODAY, TODAY + timedelta(days=30), desk=elsewhere))
    assert not Booking.objects.exists()


def test_changing_the_desk_frees_the_old_one(fixed, member, desk):
    sub = subscription(fixed, member, TODAY + timedelta(days=2), TODAY + timedelta(days=32), desk=desk)
    start(sub)
    other = ResourceFactory(venue=desk.venue, kind=ResourceKind.DESK)
    sub.desk = other
    sub.save()
    start(sub)
    assert desk_booking(sub).resource == other
    assert Booking.objects.get(subscription=sub, resource=desk).status == Status.CANCELLED


def test_the_member_cannot_cancel_the_desk_but_staff_can(fixed, member, manager, desk):
    sub = subscription(fixed, member, TODAY + timedelta(days=2), TODAY + timedelta(days=32), desk=desk)
    start(sub)
    booking = desk_booking(sub)
    with pytest.raises(BookingStateError) as caught:
        cancel_booking(actor=member, booking=booking)
    assert caught.value.code == "desk_of_subscription"
    assert cancel_booking(actor=manager, booking=booking).status == Status.CANCELLED


def test_hooks_are_registered_once():
    assert hooks.on_subscription_started.count(desks.on_subscription_started) == 1
    desks.register()
    assert hooks.on_subscription_ended.count(desks.on_subscription_ended) == 1


def test_a_subscription_started_in_the_past_is_booked_from_today(fixed, member, desk):
    sub = subscription(
        fixed, member, date(2020, 1, 1), date(2020, 1, 31), desk=desk, ends_on=TODAY + timedelta(days=3)
    )
    start(sub)
    assert desk_booking(sub).starts_at == day_bounds(TODAY, PARIS)[0]
