from datetime import date
from decimal import Decimal

import pytest
from django.db import DatabaseError, transaction

from lieux.billing.errors import NotIssued
from lieux.billing.models import Payment
from lieux.billing.services.credit_notes import issue_credit_note
from lieux.billing.services.drafts import DraftLine
from lieux.billing.services.payments import Settlement, balance, record_payment, reverse_payment
from lieux.core.errors import ValidationError
from lieux.core.models import AuditEvent
from tests import invoice_data

pytestmark = pytest.mark.django_db

D = Decimal
DAY = date(2026, 12, 5)


@pytest.fixture
def invoice(venue, member):
    return invoice_data.invoice(venue, buyer=member)  # 120.00 incl. VAT


def pay(invoice, amount, method="transfer", **kwargs):
    return record_payment(invoice, amount=D(amount), method=method, received_on=DAY, **kwargs)


def test_partial_payments_move_the_invoice_from_unpaid_to_paid(invoice):
    assert (balance(invoice).due, balance(invoice).state) == (D("120.00"), Settlement.UNPAID)
    pay(invoice, "50", "cheque")
    assert (balance(invoice).due, balance(invoice).state) == (D("70.00"), Settlement.PARTIAL)
    pay(invoice, "20.005", "cash")  # rounded half-up to the cent
    assert balance(invoice).due == D("49.99")
    pay(invoice, "49.99", "card_terminal")
    assert (balance(invoice).due, balance(invoice).state) == (D("0.00"), Settlement.PAID)
    pay(invoice, "5")
    assert (balance(invoice).due, balance(invoice).state) == (D("-5.00"), Settlement.OVERPAID)
    assert AuditEvent.objects.filter(action="payment.recorded").count() == 4


def test_a_credit_note_lowers_what_is_due(invoice):
    issue_credit_note(invoice, reason="Geste", lines=[DraftLine("Remise", D(1), D("50.00"))])
    pay(invoice, "60")
    assert balance(invoice) == balance(invoice).__class__(D("120.00"), D("60.00"), D("60.00"))
    assert balance(invoice).state == Settlement.PAID


@pytest.mark.parametrize(
    ("amount", "method", "code"),
    [
        ("0", "cash", "bad_amount"),
        ("-3", "cash", "bad_amount"),
        ("abc", "cash", "bad_amount"),
        ("10", "bitcoin", "bad_method"),
    ],
)
def test_bad_payments_are_refused_and_write_nothing(invoice, amount, method, code):
    with pytest.raises(ValidationError) as caught:
        record_payment(invoice, amount=amount, method=method, received_on=DAY)
    assert caught.value.code == code
    assert not Payment.objects.exists()


def test_drafts_take_no_payment(venue, member):
    draft = invoice_data.invoice(venue, buyer=member, issued=False)
    with pytest.raises(NotIssued):
        pay(draft, "10")


def test_the_same_provider_payment_is_recorded_once(invoice):
    first = pay(invoice, "120", "sepa_debit", external_id="DD-1-1-1")
    again = pay(invoice, "120", "sepa_debit", external_id="DD-1-1-1")
    assert again.pk == first.pk and Payment.objects.count() == 1
    # The id is unique per method: another provider may use the same string.
    pay(invoice, "1", "online", external_id="DD-1-1-1")
    assert Payment.objects.count() == 2


def test_reversals_never_exceed_what_the_payment_brought(invoice):
    cheque = pay(invoice, "100", "cheque")
    with pytest.raises(ValidationError) as caught:
        reverse_payment(cheque, reason="  ", on=DAY)
    assert caught.value.code == "reason_required"
    reverse_payment(cheque, reason="Chèque impayé", on=DAY, amount=D("60"))
    with pytest.raises(ValidationError) as too_much:
        reverse_payment(cheque, reason="Chèque impayé", on=DAY, amount=D("40.01"))
    assert too_much.value.code == "reversal_too_large"
    rest = reverse_payment(cheque, reason="Chèque impayé", on=DAY)
    assert rest.amount == D("-40.00") and rest.reverses_id == cheque.pk
    with pytest.raises(ValidationError):
        reverse_payment(cheque, reason="encore", on=DAY)
    with pytest.raises(ValidationError) as not_reversible:
        reverse_payment(rest, reason="reversal of a reversal", on=DAY)
    assert not_reversible.value.code == "not_reversible"
    assert balance(invoice).due == D("120.00")


def test_a_reversal_with_a_provider_id_is_recorded_once(invoice):
    debit = pay(invoice, "120", "sepa_debit", external_id="DD-9")
    first = reverse_payment(debit, reason="AM04", on=DAY, external_id="DD-9/AM04")
    assert reverse_payment(debit, reason="AM04", on=DAY, external_id="DD-9/AM04").pk == first.pk
    assert Payment.objects.filter(amount__lt=0).count() == 1


def test_payments_are_append_only_in_the_database(invoice):
    payment = pay(invoice, "10")
    for statement in (
        lambda: Payment.objects.filter(pk=payment.pk).update(amount=D("1")),
        lambda: Payment.objects.filter(pk=payment.pk).delete(),
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            statement()
    assert Payment.objects.get(pk=payment.pk).amount == D("10.00")
