"""`lieux billing sepa …` and `lieux billing remind`: the debit cycle from the command line."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from lieux.billing.models import DirectDebit, DirectDebitBatch, DirectDebitStatus, Payment, Reminder
from lieux.billing.services.drafts import profile_for
from lieux.billing.services.mandates import register_mandate
from lieux.billing.services.payments import balance
from lieux.core.time import now
from tests import invoice_data

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("billing", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def invoice(venue, member):
    profile = profile_for(venue)
    profile.iban, profile.bic, profile.sepa_creditor_id = (
        "FR7630006000011234567890189",
        "AGRIFRPP",
        "FR72ZZZ123456",
    )
    profile.save()
    today = now().astimezone(venue.tz).date()
    register_mandate(
        venue, debtor_user=member, debtor_name="Camille", iban="FR1420041010050500013M02606", signed_on=today
    )
    return invoice_data.invoice(venue, buyer=member)


def test_the_debit_cycle_from_announce_to_return(
    venue, invoice, tmp_path, django_capture_on_commit_callbacks
):
    on = (invoice.due_on + timedelta(days=1)).isoformat()
    with django_capture_on_commit_callbacks(execute=True):
        assert "1 debits announced" in run("sepa", "announce", "--venue", venue.slug, "--on", on)
    assert len(mail.outbox) == 1  # the pre-notification
    output = run("sepa", "batch", "--venue", venue.slug, "--on", on, "--output", str(tmp_path))
    batch = DirectDebitBatch.objects.get()
    written = tmp_path / f"{batch.message_id}.xml"
    assert written.read_text(encoding="utf-8") == batch.xml and batch.sha256 in output
    assert "1 payments recorded" in run("sepa", "collected", "--batch", batch.message_id, "--on", on)
    debit = DirectDebit.objects.get()
    output = run("sepa", "return", "--debit", debit.end_to_end_id, "--reason", "am04", "--on", on)
    assert "AM04" in output and invoice.number in output
    assert DirectDebit.objects.get().status == DirectDebitStatus.RETURNED
    assert balance(invoice).due == invoice.gross_amount and Payment.objects.count() == 2


@pytest.mark.parametrize(
    "args",
    [
        ("sepa", "announce", "--venue", "nowhere", "--on", "2030-01-01"),
        ("sepa", "announce", "--venue", "la-coroutine", "--on", "31/12/2026"),
        ("sepa", "announce", "--venue", "la-coroutine", "--on", "2000-01-01"),
        ("sepa", "batch", "--venue", "la-coroutine", "--on", "2030-01-01", "--output", "/no/such/dir"),
        ("sepa", "return", "--debit", "DD-0-0-0", "--reason", "AM04", "--on", "2030-01-01"),
        ("sepa", "return", "--debit", "DD-0-0-0", "--reason", "XX99", "--on", "2030-01-01"),
        ("sepa", "collected", "--batch", "nope", "--on", "2030-01-01"),
        ("remind", "--today", "tomorrow"),
    ],
)
def test_bad_input_stops_with_a_message_and_writes_nothing(invoice, args):
    with pytest.raises(CommandError):
        run(*args)
    assert not DirectDebit.objects.exists() and not DirectDebitBatch.objects.exists()
    assert not mail.outbox


def test_remind_sends_the_reminders_due(invoice):
    day = (invoice.due_on + timedelta(days=10)).isoformat()
    assert "1 reminders sent" in run("remind", "--today", day)
    assert "0 reminders sent" in run("remind", "--today", day)
    assert Reminder.objects.count() == 1
