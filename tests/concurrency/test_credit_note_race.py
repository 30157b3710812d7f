"""An invoice is never credited beyond its total, however many refunds are asked for at the same instant.

Ten threads each ask for a partial credit note of 36 € incl. VAT on one 120 € invoice: three fit, the
other seven must be refused. The check runs after the credit note is numbered, in the same transaction,
under the venue's issuing lock; the variant that checks after committing shows the test would catch it.
"""

import threading
import time
from datetime import date
from decimal import Decimal

import pytest
from django.db import connections

from lieux.billing.errors import AlreadyCredited
from lieux.billing.models import DocumentKind, Invoice, InvoiceStatus
from lieux.billing.services import credit_notes
from lieux.billing.services.chain import verify
from lieux.billing.services.credit_notes import credited_amount, issue_credit_note
from lieux.billing.services.drafts import DraftLine, create_draft
from lieux.billing.services.issue import issue_invoice
from tests.concurrency.test_invoice_numbering import assert_series_gapless_and_chronological

pytestmark = pytest.mark.usefixtures("flushable_legal_records")

CLIENTS = 10
PART = DraftLine("Remboursement partiel", Decimal(1), Decimal("30.00"))
PART_GROSS = Decimal("36.00")  # with 20 % VAT


@pytest.fixture
def invoice(venue, member) -> Invoice:
    draft = create_draft(
        venue=venue,
        buyer_user=member,
        lines=[DraftLine("Abonnement coworking", Decimal(1), Decimal("100.00"))],
        service_from=date(2026, 12, 1),
        service_to=date(2026, 12, 31),
    )
    issued = issue_invoice(draft.pk)
    assert issued.gross_amount == Decimal("120.00")
    return issued


def refund_all_at_once(invoice: Invoice) -> tuple[int, int, list[str]]:
    """(credit notes issued, refusals, other errors)."""
    barrier = threading.Barrier(CLIENTS)
    lock = threading.Lock()
    issued, refused, errors = [0], [0], []

    def client(n: int) -> None:
        try:
            barrier.wait()
            issue_credit_note(invoice, reason=f"Geste commercial {n}", lines=[PART])
            with lock:
                issued[0] += 1
        except AlreadyCredited:
            with lock:
                refused[0] += 1
        except Exception as error:
            with lock:
                errors.append(f"{type(error).__name__}: {error}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return issued[0], refused[0], errors


def credit_notes_of(invoice: Invoice):
    return Invoice.objects.filter(corrects=invoice, kind=DocumentKind.CREDIT_NOTE)


def test_ten_simultaneous_refunds_credit_at_most_the_invoice_total(invoice):
    issued, refused, errors = refund_all_at_once(invoice)

    assert errors == []
    assert (issued, refused) == (3, CLIENTS - 3)
    assert credited_amount(invoice) == 3 * PART_GROSS <= invoice.gross_amount
    notes = credit_notes_of(invoice)
    assert notes.filter(status=InvoiceStatus.ISSUED).count() == 3
    # A refused refund rolls back whole: no draft is left behind and no number is burnt.
    assert not notes.filter(status=InvoiceStatus.DRAFT).exists()
    assert_series_gapless_and_chronological()
    assert list(verify()) == []


@pytest.fixture
def check_before_the_lock(postgres, monkeypatch):
    """The naive order: check the credited total first, without any lock, take a few milliseconds to
    prepare the note, then issue it; the check under the issuing lock is gone."""
    real_credited_amount = credit_notes.credited_amount
    real_create_draft = credit_notes.create_draft

    def check_then_draft(**kwargs):
        original = kwargs["corrects"]
        if real_credited_amount(original) + PART_GROSS > original.gross_amount:
            raise AlreadyCredited("beyond the total")
        time.sleep(0.02)
        return real_create_draft(**kwargs)

    monkeypatch.setattr(credit_notes, "create_draft", check_then_draft)
    monkeypatch.setattr(credit_notes, "credited_amount", lambda invoice: Decimal(0))


def test_checking_before_the_lock_lets_the_same_race_credit_too_much(check_before_the_lock, invoice):
    """Shows that test_ten_simultaneous_refunds_credit_at_most_the_invoice_total would catch a check made
    outside the issuing lock (made one at a time, the same refunds would still stop at three)."""
    issued, _refused, errors = refund_all_at_once(invoice)
    assert errors == []
    assert issued > 3
    assert real_total(invoice) > invoice.gross_amount


def real_total(invoice: Invoice) -> Decimal:
    return sum(
        (n.gross_amount for n in credit_notes_of(invoice).filter(status=InvoiceStatus.ISSUED)), Decimal(0)
    )
