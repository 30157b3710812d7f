from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lieux.core.errors import ValidationError
from lieux.core.models import AuditEvent
from lieux.core.schedule import JOBS
from lieux.core.time import now
from lieux.memberships.models import CreditEntry, CreditEntryKind, CreditLot
from lieux.memberships.selectors import credits as selectors
from lieux.memberships.services import credits as services
from tests.credits_data import assert_ledger_consistent, credit_type, grant, plan, rate, subscription
from tests.factories import PARIS, ResourceFactory

D = Decimal


def today() -> date:
    return now().astimezone(PARIS).date()


def noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=PARIS)


@pytest.fixture
def hours(venue):
    return credit_type(venue)


@pytest.fixture
def rated_room(room, hours):
    rate(hours, room, "1")
    return room


def give(member, venue, kind, quantity, key, *, expires_on=None, granted_on=None):
    return services.grant_credits(
        person=member,
        venue=venue,
        credit_type=kind,
        quantity=D(quantity),
        expires_on=expires_on,
        granted_on=granted_on,
        source_key=key,
    )


def consume(member, venue, room, hours, ref, day=None):
    return services.consume_for_booking(
        person=member, venue=venue, resource=room, hours=D(hours), reference=ref, at=noon(day or today())
    )


def test_period_grant_makes_one_lot_per_grant_with_its_expiry_and_is_idempotent(venue, member, hours):
    desks = credit_type(venue, "bureau", "Desk days")
    offer = plan(venue)
    grant(offer, hours, "10")
    grant(offer, desks, "4", rollover="carry", carry_months=2)
    sub = subscription(offer, member, date(2026, 1, 1), date(2026, 1, 31))

    lots = services.grant_period_credits(
        subscription=sub, period_start=date(2026, 1, 1), period_end=date(2026, 1, 31)
    )
    again = services.grant_period_credits(
        subscription=sub, period_start=date(2026, 1, 1), period_end=date(2026, 1, 31)
    )

    assert [lot.pk for lot in lots] == [lot.pk for lot in again]
    assert CreditLot.objects.count() == 2 and CreditEntry.objects.count() == 2
    by_type = {lot.credit_type_id: lot for lot in lots}
    assert by_type[hours.pk].expires_on == date(2026, 1, 31)
    assert by_type[desks.pk].expires_on == date(2026, 3, 31)
    assert by_type[hours.pk].source_key == f"subscription:{sub.pk}:2026-01-01:{hours.pk}"
    assert by_type[hours.pk].person == member and by_type[hours.pk].remaining == D(10)
    assert AuditEvent.objects.filter(action="memberships.credits.granted").count() == 2
    assert_ledger_consistent()


def test_a_grant_is_refused_for_another_venue_or_a_bad_quantity(venue, other_venue, member, hours):
    with pytest.raises(ValidationError) as caught:
        give(member, other_venue, hours, "3", "pack:1")
    assert caught.value.code == "credit_type_venue"
    with pytest.raises(ValidationError):
        give(member, venue, hours, "0", "pack:2")
    with pytest.raises(ValidationError):
        give(member, venue, hours, "1.005", "pack:3")
    assert not CreditLot.objects.exists()


def test_a_pack_granted_twice_under_one_key_is_granted_once(venue, member, hours):
    first = give(member, venue, hours, "10", "pack:7")
    second = give(member, venue, hours, "10", "pack:7")
    assert first.pk == second.pk
    assert CreditEntry.objects.filter(kind=CreditEntryKind.GRANT).count() == 1


def test_a_booking_spends_the_oldest_expiry_first(venue, member, hours, rated_room):
    day = today()
    forever = give(member, venue, hours, "5", "pack:forever")
    later = give(member, venue, hours, "2", "pack:later", expires_on=day + timedelta(days=60))
    sooner = give(member, venue, hours, "1.5", "pack:sooner", expires_on=day + timedelta(days=10))

    used = consume(member, venue, rated_room, "4", "booking:1")

    assert used.credits_used == D(4) and used.cost == D(4) and used.covered_fraction == 1
    assert [(e.lot_id, e.quantity) for e in used.entries] == [
        (sooner.pk, D("-1.5")),
        (later.pk, D(-2)),
        (forever.pk, D("-0.5")),
    ]
    assert used.billable(D("40.00")) == 0
    for lot, left in ((sooner, 0), (later, 0), (forever, D("4.5"))):
        lot.refresh_from_db()
        assert lot.remaining == left
    assert AuditEvent.objects.filter(action="memberships.credits.consumed", object_id=str(member.pk)).exists()
    assert_ledger_consistent()


def test_beyond_the_credits_the_uncovered_share_is_billable(venue, member, hours, rated_room):
    give(member, venue, hours, "1", "pack:small")
    used = consume(member, venue, rated_room, "4", "booking:2")
    assert used.credits_used == 1 and used.cost == 4
    assert used.covered_fraction == D("0.25")
    assert used.billable(D("60.00")) == D("45.00")
    # Nothing left: the next booking is billed in full and writes nothing.
    again = consume(member, venue, rated_room, "1", "booking:3")
    assert again.credits_used == 0 and again.entries == [] and again.billable(D("15.00")) == D("15.00")
    assert_ledger_consistent()


def test_a_lot_does_not_pay_for_a_booking_after_its_expiry_or_before_its_grant(
    venue, member, hours, rated_room
):
    day = today()
    give(member, venue, hours, "3", "pack:month", expires_on=day + timedelta(days=5))
    give(member, venue, hours, "3", "pack:next", granted_on=day + timedelta(days=20))
    assert consume(member, venue, rated_room, "1", "booking:4", day + timedelta(days=10)).credits_used == 0
    assert consume(member, venue, rated_room, "1", "booking:5", day + timedelta(days=21)).credits_used == 1


def test_resources_without_a_rate_spend_nothing(venue, member, hours):
    give(member, venue, hours, "3", "pack:x")
    plain_room = ResourceFactory(venue=venue)
    assert consume(member, venue, plain_room, "2", "booking:6") is services.NOTHING


def test_the_type_that_covers_the_whole_booking_is_chosen(venue, member, hours, rated_room):
    coins = credit_type(venue, "jetons", "Coins")
    rate(coins, rated_room, "2")
    give(member, venue, hours, "1", "pack:hours")
    give(member, venue, coins, "10", "pack:coins")
    used = consume(member, venue, rated_room, "3", "booking:7")
    assert used.credit_type == coins and used.credits_used == 6


def test_refund_returns_exactly_what_was_taken_and_only_once(venue, member, hours, rated_room):
    day = today()
    a = give(member, venue, hours, "1", "pack:a", expires_on=day + timedelta(days=3))
    b = give(member, venue, hours, "5", "pack:b")
    consume(member, venue, rated_room, "2.5", "booking:8")
    consume(member, venue, rated_room, "1", "booking:9")

    entries = services.refund_booking(reference="booking:8")

    assert sorted((e.lot_id, e.quantity) for e in entries) == [(a.pk, D(1)), (b.pk, D("1.5"))]
    assert services.refund_booking(reference="booking:8") == []
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.remaining, b.remaining) == (D(1), D(4))  # booking 9 keeps what it took
    assert AuditEvent.objects.filter(action="memberships.credits.refunded").count() == 1
    assert_ledger_consistent()


def test_a_refund_to_a_lot_that_has_expired_since_is_lost(venue, member, hours, rated_room, monkeypatch):
    day = today()
    short = give(member, venue, hours, "2", "pack:short", expires_on=day)
    consume(member, venue, rated_room, "2", "booking:10")
    later = now() + timedelta(days=2)
    monkeypatch.setattr(services, "now", lambda: later)

    assert services.refund_booking(reference="booking:10") == []

    short.refresh_from_db()
    assert short.remaining == 0
    event = AuditEvent.objects.get(action="memberships.credits.refunded")
    assert event.data["lost_to_expiry"] == {str(short.pk): "2.00"}


def test_expiry_writes_off_what_is_left_once(venue, member, hours):
    day = today()
    old = give(
        member,
        venue,
        hours,
        "3",
        "pack:old",
        granted_on=day - timedelta(days=40),
        expires_on=day - timedelta(days=1),
    )
    live = give(member, venue, hours, "3", "pack:live", expires_on=day)

    assert services.expire_lots() == 1
    assert services.expire_lots() == 0
    assert services.expire_lots(day + timedelta(days=1)) == 1

    old.refresh_from_db()
    live.refresh_from_db()
    assert old.remaining == 0 and live.remaining == 0
    assert CreditEntry.objects.filter(kind=CreditEntryKind.EXPIRE, lot=old).get().quantity == D(-3)
    assert AuditEvent.objects.filter(action="memberships.credits.expired").count() == 2
    assert_ledger_consistent()


def test_the_periodic_jobs_grant_current_periods_and_expire_lots(venue, member, hours):
    offer = plan(venue)
    grant(offer, hours, "10")
    day = today()
    current = subscription(offer, member, day - timedelta(days=3), day + timedelta(days=27))
    subscription(offer, member, day - timedelta(days=3), day + timedelta(days=27), status="paused")

    assert JOBS["memberships.grant_credits"].run() == 1
    assert JOBS["memberships.grant_credits"].run() == 0
    lot = CreditLot.objects.get()
    assert lot.source_key.startswith(f"subscription:{current.pk}:") and lot.expires_on == day + timedelta(
        days=27
    )
    assert JOBS["memberships.expire_credits"].run() == 0


def test_balances_ledger_and_the_venue_view(venue, other_venue, member, other_member, hours, rated_room):
    day = today()
    give(member, venue, hours, "4", "pack:1", expires_on=day + timedelta(days=10))
    give(member, venue, hours, "6", "pack:2", expires_on=day + timedelta(days=90))
    give(member, other_venue, credit_type(other_venue), "2", "pack:3")
    give(other_member, venue, hours, "1", "pack:4")
    consume(member, venue, rated_room, "1", "booking:11")

    [here] = selectors.balances(member, venue)
    assert here.remaining == D(9) and here.next_expiry == day + timedelta(days=10)
    assert here.expiring_soon == D(3)
    assert len(selectors.balances(member)) == 2

    entries = list(selectors.ledger(member, venue))
    assert entries[0].kind == CreditEntryKind.CONSUME
    assert [e.kind for e in entries[1:]] == [CreditEntryKind.GRANT, CreditEntryKind.GRANT]
    assert all(e.lot.venue_id == venue.pk for e in entries)

    rows = {(r.person.pk, r.remaining) for r in selectors.venue_balances(venue)}
    assert rows == {(member.pk, D(9)), (other_member.pk, D(1))}
    assert {r.person.pk for r in selectors.venue_balances(other_venue)} == {member.pk}


operations = st.lists(
    st.one_of(
        st.tuples(st.just("grant"), st.integers(1, 12), st.integers(-3, 40)),
        st.tuples(st.just("consume"), st.integers(1, 16), st.integers(0, 30)),
        st.tuples(st.just("refund"), st.integers(0, 5), st.integers(0, 0)),
        st.tuples(st.just("expire"), st.integers(0, 40), st.integers(0, 0)),
    ),
    max_size=12,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=operations)
def test_any_sequence_of_grants_spending_refunds_and_expiry_keeps_the_ledger_exact(
    venue, member, hours, rated_room, steps
):
    day = today()
    for index, (kind, amount, offset) in enumerate(steps):
        key = f"{kind}:{CreditEntry.objects.count()}:{index}:{CreditLot.objects.count()}"
        if kind == "grant":
            expiry = None if offset < 0 else day + timedelta(days=offset)
            give(member, venue, hours, str(D(amount) / 4), key, expires_on=expiry)
        elif kind == "consume":
            used = consume(
                member,
                venue,
                rated_room,
                str(D(amount) / 4),
                f"booking:{amount}",
                day + timedelta(days=offset),
            )
            assert used.credits_used <= used.cost
        elif kind == "refund":
            services.refund_booking(reference=f"booking:{amount}")
        else:
            services.expire_lots(day + timedelta(days=amount))
        assert_ledger_consistent()
    # A refund never gives a lot more than the booking took from it.
    per_booking_and_lot = (
        CreditEntry.objects.exclude(reference="").values("reference", "lot_id").annotate(net=Sum("quantity"))
    )
    assert all(row["net"] <= 0 for row in per_booking_and_lot)
