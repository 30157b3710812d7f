from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest

from lieux.billing.models import Invoice, InvoiceStatus
from lieux.booking.errors import BookingStateError
from lieux.booking.models import BookingInvoice
from lieux.booking.services import billing, cancel_booking, create_booking, move_booking
from lieux.core.models import AuditEvent
from lieux.memberships import hooks
from lieux.memberships.services.credits import grant_credits
from lieux.venues.models import VatStatus
from tests.credits_data import credit_type, rate
from tests.factories import PARIS, ResourceFactory, add_prices, at, future_day, organisation

D = Decimal
DAY = future_day()
MONTH_START = DAY.replace(day=1)
MONTH_END = (MONTH_START + timedelta(days=32)).replace(day=1) - timedelta(days=1)


@pytest.fixture
def after_day(monkeypatch):
    """The billing run looks at the bookings once DAY is over."""
    later = datetime.combine(DAY + timedelta(days=1), time(7), tzinfo=PARIS)
    monkeypatch.setattr(billing, "now", lambda: later)


@pytest.fixture
def priced_room(room):
    add_prices(room, hour_member="10", hour_public="15")
    return room


def book(actor, resource, h1, h2, day=DAY, **kw):
    return create_booking(
        actor=actor, resource=resource, starts_at=at(day, h1), ends_at=at(day, h2), title="Réunion", **kw
    )


def pending(venue_ids=None, start=MONTH_START, end=MONTH_END):
    return billing.pending(start, end, venue_ids)


def test_the_booking_source_is_registered_once():
    assert [s.name for s in hooks.billing_sources].count("bookings") == 1
    billing.register()
    assert [s.name for s in hooks.billing_sources].count("bookings") == 1


def test_pending_lists_ended_confirmed_bookings_with_something_to_bill(
    after_day, member, other_member, stranger, venue, other_venue, priced_room
):
    hours = credit_type(venue)
    rate(hours, priced_room, "1")
    grant_credits(
        person=other_member, venue=venue, credit_type=hours, quantity=D(5), expires_on=None, source_key="p:1"
    )
    billable = book(member, priced_room, 8, 9)
    book(other_member, priced_room, 9, 10)  # covered by credits
    cancelled = book(stranger, priced_room, 10, 11)
    cancel_booking(actor=stranger, booking=cancelled)
    book(member, ResourceFactory(venue=venue), 11, 12)  # no price
    elsewhere = ResourceFactory(venue=other_venue)
    add_prices(elsewhere, hour_public="20")
    away = book(stranger, elsewhere, 10, 11)
    tomorrow = book(member, priced_room, 8, 9, day=DAY + timedelta(days=1))  # not over yet

    assert pending() == [billable.pk, away.pk]
    assert pending([venue.pk]) == [billable.pk]
    next_month = MONTH_END + timedelta(days=1)
    assert pending(start=next_month, end=next_month + timedelta(days=27)) == []
    assert tomorrow.pk not in pending(end=MONTH_END + timedelta(days=31))


def test_bill_issues_one_invoice_per_booking_whatever_the_retries(after_day, member, venue, priced_room):
    hours = credit_type(venue)
    rate(hours, priced_room, "1")
    grant_credits(
        person=member, venue=venue, credit_type=hours, quantity=D(1), expires_on=None, source_key="p:2"
    )
    booking = book(member, priced_room, 9, 12)
    assert booking.billable_net_amount == D(20)

    invoice = billing.bill(booking.pk, MONTH_START, MONTH_END)
    again = billing.bill(booking.pk, MONTH_START, MONTH_END)

    assert again.pk == invoice.pk and Invoice.objects.count() == 1
    assert invoice.status == InvoiceStatus.ISSUED and invoice.number
    assert invoice.source_key == f"booking:{booking.pk}"
    assert invoice.buyer_user == member and invoice.buyer_organisation is None
    assert (invoice.net_amount, invoice.vat_amount, invoice.gross_amount) == (D(20), D(4), D(24))
    assert invoice.service_from == invoice.service_to == DAY
    [line] = invoice.lines.all()
    assert "Salle Ada" in line.description and "1.00 credits used" in line.description
    assert BookingInvoice.objects.get(booking=booking).invoice == invoice
    assert pending() == []
    assert (
        AuditEvent.objects.filter(action="booking.booking.invoiced", object_id=str(booking.pk)).count() == 1
    )


def test_an_organisation_pays_and_a_members_exemption_applies(after_day, member, venue, priced_room):
    venue.vat_status = VatStatus.EXEMPT_MEMBERS
    venue.save()
    coop = organisation("Coop Lilloise", member)
    for_coop = book(member, priced_room, 8, 9, organisation=coop)
    for_member = book(member, priced_room, 9, 10)

    coop_invoice = billing.bill(for_coop.pk, MONTH_START, MONTH_END)
    member_invoice = billing.bill(for_member.pk, MONTH_START, MONTH_END)

    assert coop_invoice.buyer_organisation == coop and coop_invoice.buyer_user is None
    assert coop_invoice.buyer["name"] == "Coop Lilloise"
    assert member_invoice.vat_regime == "exempt_members" and member_invoice.vat_amount == 0
    assert member_invoice.gross_amount == D(10)


def test_the_run_interface_bills_every_pending_booking_once(after_day, member, stranger, priced_room):
    book(member, priced_room, 8, 9)
    book(stranger, priced_room, 9, 10)
    [source] = [s for s in hooks.billing_sources if s.name == "bookings"]
    for _attempt in range(2):  # a run started again after a crash
        for key in source.pending(MONTH_START, MONTH_END, None):
            source.bill(key, MONTH_START, MONTH_END)
    assert Invoice.objects.count() == 2 and BookingInvoice.objects.count() == 2
    assert sorted(Invoice.objects.values_list("gross_amount", flat=True)) == [D(12), D(18)]


def test_an_invoiced_booking_can_no_longer_be_moved(after_day, manager, member, priced_room):
    booking = book(member, priced_room, 8, 9)
    billing.bill(booking.pk, MONTH_START, MONTH_END)
    with pytest.raises(BookingStateError) as caught:
        move_booking(actor=manager, booking=booking, starts_at=at(DAY, 10), ends_at=at(DAY, 11))
    assert caught.value.code == "booking_invoiced"


def test_a_booking_ending_at_midnight_belongs_to_the_day_it_ends(venue, manager, priced_room):
    evening = create_booking(
        actor=manager,
        resource=priced_room,
        starts_at=at(date(2026, 1, 31), 22),
        ends_at=at(date(2026, 2, 1), 0),
        title="Soirée",
    )
    assert billing.last_day(evening) == date(2026, 1, 31)
