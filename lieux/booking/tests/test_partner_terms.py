"""Booking's side of partner terms: whatever a provider offers is priced, stored and audited the same way
by every write that prices a booking (create, series, move), and nothing changes without a provider."""

from datetime import timedelta
from decimal import Decimal

import pytest

from lieux.booking import partners
from lieux.booking.models import Booking
from lieux.booking.rules import Recurrence
from lieux.booking.services import checks, create_booking, create_series, move_booking
from lieux.core.models import AuditEvent
from tests import credits_data
from tests.factories import ResourceFactory, add_prices, at, future_day

D = Decimal
DAY = future_day()


@pytest.fixture
def host_room(other_venue):
    room = ResourceFactory(venue=other_venue, name="Salle Jardin", slug="salle-jardin")
    add_prices(room, hour_member="10", hour_public="15")
    return room


@pytest.fixture
def offered(monkeypatch, venue, other_venue, stranger):
    """A provider granting 20 % at Baraka (other_venue) to whoever books, from La Coroutine (venue), where
    the booker holds a subscription: terms come from one (partners.terms_for asks no provider otherwise)."""
    credits_data.subscription(credits_data.plan(venue), stranger, DAY - timedelta(days=30), DAY)
    calls = []

    def provider(person, host, day):
        calls.append((person, host, day))
        if host != other_venue:
            return []
        return [partners.PartnerTerms(venue.pk, venue.name, 7, D(20), credits_allowed=False)]

    monkeypatch.setattr(partners, "providers", [provider])
    return calls


def book(actor, resource, h1, h2):
    return create_booking(
        actor=actor, resource=resource, starts_at=at(DAY, h1), ends_at=at(DAY, h2), title="R"
    )


def test_without_a_provider_nobody_gets_partner_terms(monkeypatch, stranger, host_room):
    monkeypatch.setattr(partners, "providers", [])
    booking = book(stranger, host_room, 10, 12)
    assert booking.quoted_net_amount == D(30) and booking.partner_discount_percent is None
    assert partners.terms_for(stranger, host_room.venue, DAY) is None


def test_anonymous_visitors_are_not_asked_about(offered, other_venue):
    from django.contrib.auth.models import AnonymousUser

    assert partners.terms_for(AnonymousUser(), other_venue, DAY) is None
    assert offered == []


def test_only_people_subscribed_at_another_venue_are_asked_about(
    monkeypatch, member, venue, other_venue, host_room
):
    """Terms come from a subscription sold by another venue: without one in force that day, no provider is
    asked (most bookings), and one sold by the host itself is no partner's."""
    calls = []

    def provider(person, host, day):
        calls.append(person)
        return []

    monkeypatch.setattr(partners, "providers", [provider])
    booking = book(member, host_room, 10, 12)
    assert booking.quoted_net_amount == D(30) and calls == []
    credits_data.subscription(credits_data.plan(other_venue), member, DAY - timedelta(days=30), DAY)
    book(member, host_room, 14, 16)
    assert calls == []
    credits_data.subscription(credits_data.plan(venue), member, DAY, DAY)
    book(member, host_room, 16, 18)
    assert calls == [member]


def test_the_quote_the_booking_and_the_audit_agree(offered, stranger, venue, host_room):
    quote = checks.quote(stranger, host_room, at(DAY, 10), at(DAY, 12))
    assert (quote.net_amount, quote.discount_percent) == (D("24.00"), D(20))
    assert offered[-1][2] == DAY  # asked for the local day of the booking
    booking = book(stranger, host_room, 10, 12)
    stored = Booking.objects.get(pk=booking.pk)
    assert stored.quoted_net_amount == stored.billable_net_amount == D("24.00")
    assert (stored.partner_venue, stored.partner_discount_percent, stored.credits_venue) == (
        venue,
        D(20),
        None,
    )
    event = AuditEvent.objects.get(action="booking.booking.partner_terms", object_id=str(booking.pk))
    assert D(event.data["discount_percent"]) == 20 and event.data["home_venue"] == venue.pk


def test_every_occurrence_of_a_series_records_its_terms(offered, stranger, venue, host_room):
    result = create_series(
        actor=stranger,
        resource=host_room,
        starts_at=at(DAY, 10),
        ends_at=at(DAY, 11),
        title="Hebdo",
        recurrence=Recurrence(frequency="weekly", count=3),
        policy="all_or_nothing",
    )
    stored = Booking.objects.filter(pk__in=[b.pk for b in result.booked])
    assert stored.count() == 3
    assert {(b.quoted_net_amount, b.partner_discount_percent, b.partner_venue_id) for b in stored} == {
        (D("12.00"), D(20), venue.pk)
    }


def test_a_move_prices_the_booking_again_with_the_terms_of_the_day(offered, monkeypatch, stranger, host_room):
    booking = book(stranger, host_room, 10, 12)
    moved = move_booking(actor=stranger, booking=booking, starts_at=at(DAY, 14), ends_at=at(DAY, 17))
    assert (moved.quoted_net_amount, moved.partner_discount_percent) == (D("36.00"), D(20))
    monkeypatch.setattr(partners, "providers", [])  # the pass has ended meanwhile
    moved = move_booking(actor=stranger, booking=moved, starts_at=at(DAY, 15), ends_at=at(DAY, 17))
    stored = Booking.objects.get(pk=booking.pk)
    assert stored.quoted_net_amount == stored.billable_net_amount == D(30)
    assert (stored.partner_venue_id, stored.partner_discount_percent) == (None, None)
