"""Bookings at a partner venue paid with the home venue's credits, in the month's clearing: which ones count,
on which pair, for how much, and how a statement keeps them to be recomputed and explained.

La Coroutine (`venue`) sells the pass; Baraka (`other_venue`) and Mons Fabrica (`third_venue`) host."""

from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from lieux.billing.models import Invoice
from lieux.booking.models import Booking, Status
from lieux.booking.services import cancel_booking, create_booking
from lieux.interlieux.clearing.models import ClearingStatement
from lieux.interlieux.clearing.services.close import close_month
from lieux.interlieux.clearing.services.explain import explain, pair_parts, recompute
from lieux.interlieux.clearing.services.run import preview_clearing, run_clearing
from lieux.interlieux.clearing.tests.data import MONTH, PARIS, credit_booking, per_visit_key, visits
from lieux.interlieux.models import NetworkAccess
from lieux.memberships.services.credits import grant_credits
from tests.credits_data import credit_type, grant, rate
from tests.factories import (
    NetworkFactory,
    ResourceFactory,
    UserFactory,
    VenueFactory,
    add_prices,
    at,
    future_day,
)
from tests.interlieux_data import pass_plan, subscribe

pytestmark = pytest.mark.django_db

D = Decimal
UTC = ZoneInfo("UTC")


def paris(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=PARIS)


def credits_of(statement: ClearingStatement) -> list:
    return sorted(statement.inputs["credits"])


def net_of(statement: ClearingStatement, venue) -> Decimal:
    return statement.lines.get(venue=venue).net


# --- Through the booking services -----------------------------------------------------------------------


@pytest.fixture
def booked_with_home_credits(network, venue, other_venue):
    """A member of La Coroutine with its Pass Interlieux books two hours of a Baraka room, 15 € an hour
    to the public, 20 % off with the pass (24 €), paid in full with two of La Coroutine's room hours."""
    hours = credit_type(venue, "heures-salle", "Heures de salle")
    offer = pass_plan(venue, [other_venue])
    NetworkAccess.objects.filter(plan=offer).update(
        booking_discount_percent=D(20), partner_bookings_use_credits=True
    )
    grant(offer, hours, "10")
    traveller = UserFactory(email="voyage@example.org")
    subscribe(offer, traveller)
    grant_credits(
        person=traveller, venue=venue, credit_type=hours, quantity=D(10), expires_on=None, source_key="pack:1"
    )
    room = ResourceFactory(venue=other_venue, name="Salle Jardin", slug="salle-jardin")
    add_prices(room, hour_member="10", hour_public="15")
    rate(credit_type(other_venue, "heures-salle", "Heures de salle"), room, "1")
    day = future_day(weeks=2)
    booking = create_booking(
        actor=traveller, resource=room, starts_at=at(day, 10), ends_at=at(day, 12), title="Atelier"
    )
    assert (booking.credits_venue_id, booking.quoted_net_amount, booking.billable_net_amount) == (
        venue.pk,
        D("24.00"),
        D("0.00"),
    )
    return booking


def test_a_booking_paid_with_home_credits_at_a_partner_is_owed_in_full(
    network, venue, other_venue, booked_with_home_credits
):
    month = booked_with_home_credits.starts_at.astimezone(PARIS).date().replace(day=1)
    visits(home=venue, host=other_venue, count=12, month=month)
    # Visits: 2 paid beyond the allowance of 10, at 5 € = 10 €, capped at 4 €. The credits are not capped.
    per_visit_key(network, price="5.00", allowance=10, cap="4.00")
    statement = run_clearing(network, month)

    assert credits_of(statement) == [[venue.pk, other_venue.pk, 1, "24.00"]]
    assert statement.inputs["credit_bookings"] == 1
    assert (net_of(statement, venue), net_of(statement, other_venue)) == (D("-28.00"), D("28.00"))
    assert [(t.debtor_id, t.creditor_id, t.amount) for t in statement.transfers.all()] == [
        (venue.pk, other_venue.pk, D("28.00"))
    ]
    [parts] = pair_parts(recompute(statement))
    assert (parts.visits_amount, parts.credit_bookings, parts.credits_amount, parts.total) == (
        D("4.00"),
        1,
        D("24.00"),
        D("28.00"),
    )

    # Cancelled before the deadline, the credits come back: the draft, computed again, owes the visits only.
    cancel_booking(actor=booked_with_home_credits.booked_by, booking=booked_with_home_credits)
    again = run_clearing(network, month)
    assert credits_of(again) == [] and net_of(again, venue) == D("-4.00")


# --- Which bookings count -------------------------------------------------------------------------------


def test_only_active_bookings_paid_with_another_venues_credits_in_the_hosts_month_count(
    network, venue, other_venue, third_venue
):
    coroutine, baraka, fabrica = venue, other_venue, third_venue
    fabrica.timezone = "America/Cayenne"  # UTC−3 all year: its month starts three hours after Paris's
    fabrica.save(update_fields=["timezone"])
    per_visit_key(network)
    # Counted: Coroutine's credits at Baraka, one paid in part (30 € quoted, 17.50 € still billed).
    credit_booking(home=coroutine, host=baraka, starts_at=paris(date(2026, 1, 10), 10))
    credit_booking(
        home=coroutine,
        host=baraka,
        starts_at=paris(date(2026, 1, 31), 23, 30),
        quoted="30.00",
        billable="17.50",
    )
    # Counted: confirmed, the other way round.
    credit_booking(home=baraka, host=coroutine, starts_at=paris(date(2026, 1, 5), 9), quoted="8.00")
    # Not counted: a request still awaiting approval is no service yet.
    credit_booking(
        home=baraka,
        host=coroutine,
        starts_at=paris(date(2026, 1, 6), 9),
        quoted="99.00",
        status=Status.PENDING,
    )
    # Counted: 22:00 on 31 January in Cayenne, though already February in Paris and in UTC.
    credit_booking(
        home=coroutine, host=fabrica, starts_at=datetime(2026, 2, 1, 1, tzinfo=UTC), quoted="10.00"
    )
    # Not counted: 22:00 on 31 December in Cayenne, though January in Paris and in UTC.
    credit_booking(
        home=coroutine, host=fabrica, starts_at=datetime(2026, 1, 1, 1, tzinfo=UTC), quoted="99.00"
    )
    # Not counted: February in Paris (23:30 UTC on 31 January).
    credit_booking(home=coroutine, host=baraka, starts_at=paris(date(2026, 2, 1), 0, 30), quoted="99.00")
    # Not counted: cancelled after the deadline, its credits stayed spent.
    credit_booking(
        home=coroutine,
        host=baraka,
        starts_at=paris(date(2026, 1, 12), 10),
        quoted="99.00",
        status=Status.CANCELLED,
    )
    # Not counted: refused (its credits came back), its own venue's credits, nothing forgone, another network.
    credit_booking(
        home=coroutine,
        host=baraka,
        starts_at=paris(date(2026, 1, 13), 10),
        quoted="99.00",
        status=Status.REFUSED,
    )
    credit_booking(home=baraka, host=baraka, starts_at=paris(date(2026, 1, 14), 10), quoted="99.00")
    credit_booking(
        home=coroutine, host=baraka, starts_at=paris(date(2026, 1, 15), 10), quoted="99.00", billable="99.00"
    )
    elsewhere = VenueFactory(network=NetworkFactory(slug="ailleurs", name="Ailleurs"))
    credit_booking(home=elsewhere, host=baraka, starts_at=paris(date(2026, 1, 16), 10), quoted="99.00")

    statement = run_clearing(network, MONTH)

    assert credits_of(statement) == sorted(
        [
            [coroutine.pk, baraka.pk, 2, "36.50"],
            [baraka.pk, coroutine.pk, 1, "8.00"],
            [coroutine.pk, fabrica.pk, 1, "10.00"],
        ]
    )
    assert statement.inputs["credit_bookings"] == 4
    assert [net_of(statement, v) for v in (coroutine, baraka, fabrica)] == [
        D("-38.50"),
        D("28.50"),
        D("10.00"),
    ]
    assert statement.visits == 0 and statement.cleared_amount == D("38.50")
    assert recompute(statement).matches


def test_the_dry_run_says_how_many_bookings_were_paid_with_credits(network, venue, other_venue):
    per_visit_key(network)
    credit_booking(home=venue, host=other_venue, starts_at=paris(date(2026, 1, 10), 10))
    said = []
    result = preview_clearing(network, MONTH, progress=said.append)
    assert "1 bookings paid with another venue's credits: 24.00 € owed in full" in said
    assert result.amounts == {(venue.pk, other_venue.pk): D("24.00")}
    assert not ClearingStatement.objects.exists()


# --- Closed months, recomputation, old statements --------------------------------------------------------


def test_a_booking_cancelled_after_its_month_was_closed_leaves_the_month_as_it_was(
    network, venue, other_venue
):
    visits(home=venue, host=other_venue, count=3)
    per_visit_key(network, price="5.00")
    booking = credit_booking(home=venue, host=other_venue, starts_at=paris(date(2026, 1, 20), 10))
    statement = close_month(run_clearing(network, MONTH))
    invoice = Invoice.objects.get(venue=other_venue)
    assert invoice.net_amount == D("39.00")  # 3 visits × 5 € + 24 € of credits

    Booking.objects.filter(pk=booking.pk).update(status=Status.CANCELLED)
    statement = ClearingStatement.objects.get(pk=statement.pk)
    assert credits_of(statement) == [[venue.pk, other_venue.pk, 1, "24.00"]]
    again = recompute(statement)
    assert again.matches and again.balances == {venue.pk: D("-39.00"), other_venue.pk: D("39.00")}
    text = explain(statement)
    assert "La Coroutine → Baraka: 3 visits against 0, 0 free, 3 paid = 15.00" in text
    assert "La Coroutine → Baraka: credits used at a partner, 1 booking = 24.00" in text
    assert "La Coroutine pays Baraka 39.00" in text
    # Nor does it count in any later month.
    assert credits_of(run_clearing(network, date(2026, 2, 1))) == []


def test_a_statement_kept_without_credits_still_recomputes_and_explains(network, venue, other_venue):
    visits(home=venue, host=other_venue, count=3)
    per_visit_key(network, price="5.00")
    statement = run_clearing(network, MONTH)
    older = {name: statement.inputs[name] for name in ("cells", "venues", "pass_revenue")}
    ClearingStatement.objects.filter(pk=statement.pk).update(inputs=older)
    statement = close_month(ClearingStatement.objects.get(pk=statement.pk))

    again = recompute(statement)
    assert again.matches and again.credits == []
    assert [(p.credit_bookings, p.credits_amount) for p in pair_parts(again)] == [(0, D("0.00"))]
    text = explain(statement)
    assert "La Coroutine pays Baraka 15.00" in text and not any("credits used" in line for line in text)
