import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connections
from hypothesis import given
from hypothesis import strategies as st

from lieux.billing import overdue
from lieux.billing.models import DirectDebit, Reminder
from lieux.billing.models.invoices import PastDueAccess
from lieux.billing.payment_rules import REMINDER_DAYS, reminder_level_due
from lieux.billing.services.drafts import profile_for
from lieux.billing.services.payments import record_payment
from lieux.billing.services.reminders import send_due_reminders
from lieux.core.schedule import JOBS
from tests import invoice_data
from tests.factories import organisation

D = Decimal


# The rule


def test_levels_follow_the_days_past_due():
    due = date(2026, 1, 1)
    assert reminder_level_due(due, due + timedelta(days=6), set()) is None
    assert reminder_level_due(due, due + timedelta(days=7), set()) == 1
    assert reminder_level_due(due, due + timedelta(days=8), {1}) is None
    assert reminder_level_due(due, due + timedelta(days=21), {1}) == 2
    assert reminder_level_due(due, due + timedelta(days=100), set()) == 3  # a late run sends the last only
    assert reminder_level_due(due, due + timedelta(days=100), {3}) is None


@given(st.integers(min_value=-30, max_value=400), st.sets(st.integers(min_value=1, max_value=3)))
def test_a_level_is_never_sent_twice_nor_below_one_sent(days, sent):
    due = date(2026, 1, 1)
    level = reminder_level_due(due, due + timedelta(days=days), sent)
    if level is not None:
        assert level not in sent and all(level > s for s in sent)
        assert days >= REMINDER_DAYS[level - 1]


# Sending


@pytest.fixture
def invoice(venue, member):
    return invoice_data.invoice(venue, buyer=member)  # 120.00, due 30 days after today


def days_after_due(invoice, days: int) -> date:
    return invoice.due_on + timedelta(days=days)


@pytest.mark.django_db
def test_the_daily_job_is_registered():
    assert JOBS["billing.send_reminders"].every_seconds == 24 * 3600


@pytest.mark.django_db
def test_reminders_go_out_once_per_level_to_the_buyer(invoice, member):
    assert send_due_reminders(days_after_due(invoice, 6)) == 0
    assert send_due_reminders(days_after_due(invoice, 7)) == 1
    assert send_due_reminders(days_after_due(invoice, 7)) == 0
    assert send_due_reminders(days_after_due(invoice, 20)) == 0
    record_payment(invoice, amount=D("20"), method="cheque", received_on=invoice.due_on)
    assert send_due_reminders(days_after_due(invoice, 21)) == 1
    assert send_due_reminders(days_after_due(invoice, 45)) == 1
    assert send_due_reminders(days_after_due(invoice, 200)) == 0
    assert list(Reminder.objects.order_by("level").values_list("level", flat=True)) == [1, 2, 3]
    assert len(mail.outbox) == 3
    first, second, last = mail.outbox
    assert first.to == [member.email] and invoice.number in first.subject
    assert "120,00" in first.body and "100,00" in second.body  # what is left after the cheque
    # Reminders speak French whatever the request's language: buyers are French venues' members.
    assert first.subject.startswith("Relance") and last.subject.startswith("Dernière relance")


@pytest.mark.django_db
def test_a_business_is_told_the_late_payment_penalties(venue, member):
    coop = organisation("Coop des Lieux", member)
    coop.billing_email = "compta@coop.example.org"
    coop.save()
    invoice = invoice_data.invoice(venue, organisation=coop)
    profile = profile_for(venue)
    profile.past_due_access = PastDueAccess.SUSPEND_BOOKING
    profile.save()
    send_due_reminders(days_after_due(invoice, 50))
    (message,) = mail.outbox
    assert message.to == ["compta@coop.example.org"]
    assert "40 €" in message.body and profile.late_penalty_rate in message.body
    assert "suspend" in message.body  # the last reminder names the policy


@pytest.mark.django_db
def test_paid_invoices_and_invoices_being_debited_are_not_reminded(venue, invoice, member):
    record_payment(invoice, amount=D("120"), method="transfer", received_on=invoice.due_on)
    debited = invoice_data.invoice(venue, buyer=member)
    from lieux.billing.services.mandates import register_mandate

    mandate = register_mandate(
        venue,
        debtor_user=member,
        debtor_name="C",
        iban="FR1420041010050500013M02606",
        signed_on=debited.issued_on,
    )
    DirectDebit.objects.create(
        venue=venue,
        invoice=debited,
        mandate=mandate,
        amount=D("120"),
        collection_on=debited.due_on,
        end_to_end_id="DD-test",
        sequence_type="FRST",
        status="submitted",
    )
    assert send_due_reminders(days_after_due(invoice, 30)) == 0
    assert not mail.outbox


@pytest.mark.django_db
def test_a_reminder_that_failed_is_sent_the_next_day(invoice, monkeypatch):
    def broken(self, *args, **kwargs):
        raise OSError("mail server down")

    with monkeypatch.context() as patch:
        patch.setattr("django.core.mail.EmailMessage.send", broken)
        assert send_due_reminders(days_after_due(invoice, 7)) == 0
    assert not Reminder.objects.exists()
    assert send_due_reminders(days_after_due(invoice, 8)) == 1
    assert len(mail.outbox) == 1


@pytest.mark.usefixtures("flushable_legal_records")
def test_two_workers_at_the_same_instant_send_each_reminder_once(venue, member):
    invoices = [invoice_data.invoice(venue, buyer=member) for _ in range(5)]
    day = days_after_due(invoices[0], 8)
    workers = 4
    barrier = threading.Barrier(workers)
    sent: list[int] = []
    errors: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            barrier.wait()
            count = send_due_reminders(day)
            with lock:
                sent.append(count)
        except Exception as error:
            with lock:
                errors.append(f"{type(error).__name__}: {error}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert sum(sent) == 5
    assert Reminder.objects.count() == 5
    assert len(mail.outbox) == 5


# Past due


@pytest.mark.django_db
def test_past_due_counts_the_grace_days_and_ends_when_paid(venue, invoice, member):
    profile = profile_for(venue)
    grace = profile.past_due_grace_days
    assert not overdue.is_past_due(venue, member, today=days_after_due(invoice, grace))
    assert overdue.is_past_due(venue, member, today=days_after_due(invoice, grace + 1))
    # Policy "keep": past due, but nothing taken away.
    assert overdue.access_restriction(venue, member, today=days_after_due(invoice, 60)) == PastDueAccess.KEEP
    profile.past_due_access = PastDueAccess.SUSPEND_ALL
    profile.save()
    assert (
        overdue.access_restriction(venue, member, today=days_after_due(invoice, 60))
        == PastDueAccess.SUSPEND_ALL
    )
    record_payment(invoice, amount=D("120"), method="cash", received_on=invoice.due_on)
    assert overdue.access_restriction(venue, member, today=days_after_due(invoice, 60)) == PastDueAccess.KEEP


@pytest.mark.django_db
def test_an_organisations_debt_is_its_own(venue, member):
    coop = organisation("Coop des Lieux", member)
    invoice = invoice_data.invoice(venue, organisation=coop)
    later = days_after_due(invoice, 60)
    assert overdue.is_past_due(venue, organisation=coop, today=later)
    assert not overdue.is_past_due(venue, member, today=later)
