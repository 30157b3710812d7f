"""Delivering the same invoice from several threads at once (the after-commit hook, the catch-up job, a
download of the PDF): one stored document, one e-mail. And proof that the test bites: with a check-then-set
claim instead of the conditional UPDATE, the same race e-mails the invoice more than once.

Real threads with their own connections against a real database file or server."""

import threading

import pytest
from django.core import mail
from django.db import connections

from lieux.billing.models import InvoiceDocument
from lieux.billing.services import delivery
from tests.invoice_data import invoice

# The test settings issue without delivering (LIEUX_DELIVER_INVOICES = False), so the threads below are the
# only deliveries.

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 6


def deliver_at_once(invoice_id: int) -> list[bool]:
    barrier = threading.Barrier(THREADS)
    results: list[bool] = []
    lock = threading.Lock()

    def client() -> None:
        try:
            barrier.wait()
            sent = delivery.deliver(invoice_id)
            with lock:
                results.append(sent)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=client) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_concurrent_deliveries_store_one_document_and_send_one_email(flushable_legal_records, venue, member):
    issued = invoice(venue, buyer=member)
    results = deliver_at_once(issued.pk)
    assert sorted(results) == [False] * (THREADS - 1) + [True]
    assert InvoiceDocument.objects.filter(invoice=issued).count() == 1
    assert len(mail.outbox) == 1
    document = InvoiceDocument.objects.get(invoice=issued)
    assert mail.outbox[0].attachments[0][1] == bytes(document.pdf)  # the stored one, whoever rendered it


def test_without_the_conditional_claim_the_race_sends_twice(flushable_legal_records, venue, member):
    issued = invoice(venue, buyer=member)
    delivery.document_for(issued)  # rendered already: the threads meet at the claim
    read_together = threading.Barrier(THREADS)

    def check_then_set(document, claimed_at):  # the naive claim the conditional UPDATE replaces
        fresh = InvoiceDocument.objects.get(pk=document.pk)
        read_together.wait()
        if fresh.emailed_at is not None:
            return False
        InvoiceDocument.objects.filter(pk=document.pk).update(emailed_at=claimed_at)
        return True

    original = delivery._claim
    delivery._claim = check_then_set  # type: ignore[assignment]
    try:
        deliver_at_once(issued.pk)
    finally:
        delivery._claim = original
    assert len(mail.outbox) > 1
