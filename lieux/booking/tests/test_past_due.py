"""A venue's past-due policy at booking time: under "suspend", a member with an overdue invoice books
nothing new until it is paid."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from lieux.billing.models.invoices import PastDueAccess
from lieux.billing.services.drafts import profile_for
from lieux.billing.services.payments import record_payment
from lieux.booking.models import Booking
from lieux.booking.rules import Recurrence
from lieux.booking.services import create_booking, create_series
from lieux.core.errors import Conflict
from tests import invoice_data
from tests.factories import at, future_day, organisation

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def invoice(venue, member):
    return invoice_data.invoice(venue, buyer=member)  # 120.00, due 30 days after today


def days_after_due(invoice, days: int) -> date:
    return invoice.due_on + timedelta(days=days)


def _pretend_it_is(monkeypatch, day: date) -> None:
    monkeypatch.setattr("lieux.billing.overdue._local_today", lambda venue: day)


def test_booking_is_refused_when_past_due_under_a_suspending_policy(
    venue, room, member, manager, invoice, monkeypatch
):
    _pretend_it_is(monkeypatch, days_after_due(invoice, 30))
    slot = {
        "resource": room,
        "starts_at": at(future_day(), 10),
        "ends_at": at(future_day(), 11),
        "title": "R",
    }
    create_booking(actor=member, **slot)  # policy "keep": booking goes on
    profile = profile_for(venue)
    profile.past_due_access = PastDueAccess.SUSPEND_BOOKING
    profile.save()
    later = {**slot, "starts_at": at(future_day(), 14), "ends_at": at(future_day(), 15)}
    with pytest.raises(Conflict) as caught:
        create_booking(actor=member, **later)
    assert caught.value.code == "past_due"
    create_booking(actor=manager, **later)  # the venue's staff book regardless
    record_payment(invoice, amount=D("120"), method="transfer", received_on=invoice.due_on)
    create_booking(
        actor=member, **{**slot, "starts_at": at(future_day(), 16), "ends_at": at(future_day(), 17)}
    )


def test_an_organisations_overdue_invoice_suspends_its_bookings_not_its_members_own(
    venue, room, member, monkeypatch
):
    coop = organisation("Coop des Lieux", member)
    invoice = invoice_data.invoice(venue, organisation=coop)
    profile = profile_for(venue)
    profile.past_due_access = PastDueAccess.SUSPEND_ALL
    profile.save()
    _pretend_it_is(monkeypatch, days_after_due(invoice, 30))
    slot = {
        "resource": room,
        "starts_at": at(future_day(), 10),
        "ends_at": at(future_day(), 11),
        "title": "R",
    }
    with pytest.raises(Conflict):
        create_booking(actor=member, organisation=coop, **slot)
    assert not Booking.objects.exists()
    create_booking(actor=member, **slot)


def test_a_recurring_series_is_refused_too_and_books_nothing(venue, room, member, invoice, monkeypatch):
    profile = profile_for(venue)
    profile.past_due_access = PastDueAccess.SUSPEND_BOOKING
    profile.save()
    _pretend_it_is(monkeypatch, days_after_due(invoice, 30))
    day = future_day()
    with pytest.raises(Conflict) as caught:
        create_series(
            actor=member,
            resource=room,
            starts_at=at(day, 9),
            ends_at=at(day, 10),
            title="Permanence",
            recurrence=Recurrence("weekly", count=4),
        )
    assert caught.value.code == "past_due"
    assert not Booking.objects.exists()
