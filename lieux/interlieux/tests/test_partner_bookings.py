"""Bookings at partner venues with a Pass Interlieux: the discount off the host's public rate, the home
plan's credits where the pass allows them, the host invoicing the rest, and the estimate equal to the bill.

La Coroutine (`venue`) sells the pass; Baraka (`other_venue`) hosts it; Mons Fabrica hosts nothing."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client

from lieux.accounts.services import issue_api_token
from lieux.booking.models import Booking, BookingInvoice
from lieux.booking.services import billing, cancel_booking, checks, confirm_hold, create_booking
from lieux.core.models import AuditEvent
from lieux.interlieux.models import NetworkAccess
from lieux.memberships.models import CreditEntry, CreditEntryKind, SubscriptionStatus
from lieux.memberships.services.credits import grant_credits
from tests.credits_data import assert_ledger_consistent, credit_type, grant, rate
from tests.factories import ResourceFactory, VenueFactory, add_prices, add_role, at, future_day
from tests.interlieux_data import pass_plan, subscribe

D = Decimal
DAY = future_day()


@pytest.fixture
def home_hours(venue):
    return credit_type(venue, "heures-salle", "Heures de salle")


@pytest.fixture
def offer(venue, other_venue, home_hours):
    """La Coroutine's pass, valid at Baraka: 20 % off there, and its 10 room hours a month usable there."""
    plan = pass_plan(venue, [other_venue])
    NetworkAccess.objects.filter(plan=plan).update(
        booking_discount_percent=D(20), partner_bookings_use_credits=True
    )
    grant(plan, home_hours, "10")
    return plan


@pytest.fixture
def pass_holder(offer, traveller):
    subscribe(offer, traveller)
    return traveller


@pytest.fixture
def host_room(other_venue):
    room = ResourceFactory(venue=other_venue, name="Salle Jardin", slug="salle-jardin")
    add_prices(room, hour_member="10", hour_public="15")
    return room


@pytest.fixture
def host_conversion(other_venue, host_room):
    """Baraka converts its own room hours, named as across the network, at 1 credit an hour."""
    return rate(credit_type(other_venue, "heures-salle", "Heures de salle"), host_room, "1")


def give(person, venue, kind, quantity, key="pack:1"):
    return grant_credits(
        person=person, venue=venue, credit_type=kind, quantity=D(quantity), expires_on=None, source_key=key
    )


def book(person, resource, h1, h2, **kw):
    return create_booking(
        actor=person, resource=resource, starts_at=at(DAY, h1), ends_at=at(DAY, h2), title="Réunion", **kw
    )


def set_access(offer, **fields):
    NetworkAccess.objects.filter(plan=offer).update(**fields)


# --- The discount -----------------------------------------------------------------------------------------


def test_the_discount_applies_at_a_host_venue_only(pass_holder, venue, network, host_room, room):
    add_prices(room, hour_public="15")
    elsewhere = ResourceFactory(venue=VenueFactory(network=network, name="Mons Fabrica"))
    add_prices(elsewhere, hour_public="15")

    at_host = book(pass_holder, host_room, 10, 12)
    at_home = book(pass_holder, room, 10, 12)
    not_a_host = book(pass_holder, elsewhere, 10, 12)

    assert (at_host.quoted_net_amount, at_host.billable_net_amount) == (D("24.00"), D("24.00"))
    stored = Booking.objects.get(pk=at_host.pk)
    assert (stored.partner_venue, stored.partner_discount_percent) == (venue, D(20))
    for booking in (at_home, not_a_host):
        stored = Booking.objects.get(pk=booking.pk)
        assert stored.quoted_net_amount == D(30)
        assert (stored.partner_venue_id, stored.partner_discount_percent) == (None, None)


@pytest.mark.parametrize(
    "status", [SubscriptionStatus.PAST_DUE, SubscriptionStatus.ENDED, SubscriptionStatus.PAUSED]
)
def test_no_discount_when_the_subscription_is_not_in_good_standing(offer, traveller, host_room, status):
    subscribe(offer, traveller, status=status)
    booking = book(traveller, host_room, 10, 12)
    assert booking.quoted_net_amount == D(30) and booking.partner_discount_percent is None


def test_no_discount_for_a_booking_after_the_subscription_ends(offer, traveller, host_room):
    subscribe(offer, traveller, status=SubscriptionStatus.CANCELLING, ends_on=DAY - timedelta(days=1))
    assert book(traveller, host_room, 10, 12).quoted_net_amount == D(30)


def test_a_member_of_the_host_keeps_a_cheaper_member_rate(pass_holder, offer, other_venue, host_room):
    add_role(pass_holder, other_venue)
    assert book(pass_holder, host_room, 10, 12).quoted_net_amount == D(20)  # not 24: no stacking
    set_access(offer, booking_discount_percent=D(50))
    booking = book(pass_holder, host_room, 14, 16)
    assert (booking.quoted_net_amount, booking.partner_discount_percent) == (D("15.00"), D(50))


# --- Credits ----------------------------------------------------------------------------------------------


def test_the_home_plans_credits_pay_at_the_host_when_the_pass_allows_it(
    pass_holder, venue, other_venue, home_hours, host_room, host_conversion
):
    lot = give(pass_holder, venue, home_hours, "10")
    booking = book(pass_holder, host_room, 10, 12)

    assert (booking.credits_used, booking.billable_net_amount) == (D(2), D(0))
    stored = Booking.objects.get(pk=booking.pk)
    assert stored.credits_venue == venue and stored.partner_venue == venue
    lot.refresh_from_db()
    assert lot.remaining == D(8)
    consumed = AuditEvent.objects.get(action="memberships.credits.consumed")
    assert consumed.venue_id == venue.pk and consumed.data["used_at_venue"] == other_venue.pk
    assert consumed.data["reference"] == f"booking:{booking.pk}"
    terms = AuditEvent.objects.get(action="booking.booking.partner_terms", object_id=str(booking.pk))
    assert terms.venue_id == other_venue.pk
    assert (terms.data["credits_venue"], terms.data["credits_used"]) == (venue.pk, "2.00")
    assert_ledger_consistent()


def test_no_credits_at_the_host_when_the_pass_does_not_allow_them(
    pass_holder, offer, venue, home_hours, host_room, host_conversion
):
    set_access(offer, partner_bookings_use_credits=False)
    give(pass_holder, venue, home_hours, "10")
    booking = book(pass_holder, host_room, 10, 12)
    assert (booking.credits_used, booking.billable_net_amount) == (D(0), D("24.00"))
    assert booking.credits_venue_id is None and not CreditEntry.objects.filter(kind="consume").exists()


def test_no_conversion_entry_at_the_host_no_credits(pass_holder, venue, home_hours, host_room):
    give(pass_holder, venue, home_hours, "10")
    assert book(pass_holder, host_room, 10, 12).credits_used == 0


def test_only_the_credit_types_the_plan_grants_pay_at_the_host(pass_holder, venue, other_venue, host_room):
    machine = credit_type(venue, "heures-machine", "Heures machine")
    rate(credit_type(other_venue, "heures-machine", "Heures machine"), host_room, "1")
    give(pass_holder, venue, machine, "10")
    assert book(pass_holder, host_room, 10, 12).credits_used == 0


def test_a_conversion_entry_for_the_home_type_itself_sets_its_own_rate(
    pass_holder, venue, home_hours, host_room, host_conversion
):
    rate(home_hours, host_room, "2")  # wins over Baraka's own entry of the same code
    give(pass_holder, venue, home_hours, "10")
    assert book(pass_holder, host_room, 10, 12).credits_used == D(4)


def test_the_hosts_own_credits_pay_first(
    pass_holder, venue, other_venue, home_hours, host_room, host_conversion
):
    home_lot = give(pass_holder, venue, home_hours, "10")
    give(pass_holder, other_venue, host_conversion.credit_type, "5", key="pack:baraka")
    booking = book(pass_holder, host_room, 10, 12)
    assert booking.credits_used == D(2) and booking.credits_venue_id is None
    home_lot.refresh_from_db()
    assert home_lot.remaining == D(10)


def test_cancelling_before_the_deadline_gives_the_home_credits_back(
    pass_holder, venue, home_hours, host_room, host_conversion
):
    lot = give(pass_holder, venue, home_hours, "3")
    booking = book(pass_holder, host_room, 10, 12)
    cancelled = cancel_booking(actor=pass_holder, booking=booking)
    lot.refresh_from_db()
    assert lot.remaining == D(3) and cancelled.credits_used == 0
    kinds = list(
        CreditEntry.objects.filter(reference=f"booking:{booking.pk}").values_list("kind", "quantity")
    )
    assert kinds == [(CreditEntryKind.CONSUME, D(-2)), (CreditEntryKind.REFUND, D(2))]
    assert_ledger_consistent()


def test_after_the_deadline_the_home_credits_stay_spent(
    pass_holder, venue, other_venue, other_manager, home_hours
):
    late = ResourceFactory(venue=other_venue, cancellation_deadline=timedelta(days=30))
    add_prices(late, hour_public="15")
    rate(credit_type(other_venue, "heures-salle"), late, "1")
    lot = give(pass_holder, venue, home_hours, "3")
    booking = book(pass_holder, late, 10, 12)
    cancel_booking(actor=other_manager, booking=booking)
    lot.refresh_from_db()
    assert lot.remaining == D(1)


# --- What the member sees and what the host bills ---------------------------------------------------------


def test_the_estimate_shown_before_confirming_is_what_the_host_bills(
    pass_holder, venue, other_venue, home_hours, host_room, host_conversion
):
    give(pass_holder, venue, home_hours, "1")
    raw_token = issue_api_token(email=pass_holder.email, label="tests")[1]
    response = Client().post(
        "/api/v1/bookings",
        {
            "resource": "baraka/salle-jardin",
            "start": at(DAY, 10).isoformat(),
            "end": at(DAY, 13).isoformat(),
            "title": "Atelier",
            "hold": True,
        },
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw_token}"},
    )
    assert response.status_code == 201, response.content
    held = response.json()
    # 3 h at 15 € public, 20 % off: 36 €; 1 credit of the 3 it costs: 2/3 left to pay.
    assert (held["quoted_net_amount"], held["partner_discount_percent"]) == ("36.00", "20.00")
    assert (held["credits_used"], held["billable_net_amount"]) == ("1.00", "24.00")
    assert checks.estimate_price(pass_holder, host_room, at(DAY, 10), at(DAY, 13)) == D("36.00")

    booking = confirm_hold(actor=pass_holder, booking=Booking.objects.get(pk=held["id"]))
    invoice = billing.bill(booking.pk)

    assert invoice.venue == other_venue and invoice.buyer_user == pass_holder
    assert invoice.net_amount == D(held["billable_net_amount"])
    [line] = invoice.lines.all()
    assert "Pass Interlieux discount 20%" in line.description
    assert "1.00 credits of La Coroutine used" in line.description
    assert BookingInvoice.objects.get(booking=booking).invoice == invoice


def test_the_resource_page_tells_the_pass_holder_before_booking(pass_holder, client, host_room, room):
    client.force_login(pass_holder)
    page = client.get(f"/lieux/baraka/{host_room.slug}/").content.decode()
    assert "20% off the public price here" in page and "may pay for the resources" in page
    assert "partner-terms" not in client.get(f"/lieux/la-coroutine/{room.slug}/").content.decode()


def test_the_booking_page_shows_the_discount_and_whose_credits_paid(
    pass_holder, client, venue, home_hours, host_room, host_conversion
):
    give(pass_holder, venue, home_hours, "1")
    booking = book(pass_holder, host_room, 10, 12)
    client.force_login(pass_holder)
    page = client.get(f"/reservations/{booking.pk}/").content.decode()
    assert "Pass Interlieux discount" in page and "20% off the public price" in page
    assert "credits of La Coroutine" in page
