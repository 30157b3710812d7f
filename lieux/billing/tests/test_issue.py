from datetime import date
from decimal import Decimal

import pytest
from django.db import DatabaseError, transaction

from lieux.billing.errors import AlreadyCredited, NothingToInvoice
from lieux.billing.models import Invoice, InvoiceLine
from lieux.billing.services.chain import verify
from lieux.billing.services.credit_notes import issue_credit_note
from lieux.billing.services.drafts import DraftLine, build_draft, create_draft
from lieux.billing.services.issue import issue_invoice, issue_new_documents

pytestmark = pytest.mark.django_db


def draft(venue, buyer, *, amount="100.00", key=None, **kwargs):
    return create_draft(
        venue=venue,
        buyer_user=buyer,
        lines=[DraftLine("Abonnement coworking", Decimal(1), Decimal(amount))],
        service_from=date(2026, 12, 1),
        service_to=date(2026, 12, 31),
        source_key=key,
        **kwargs,
    )


def test_a_draft_has_no_number_and_issuing_numbers_it(venue, member):
    invoice = draft(venue, member)
    assert invoice.number is None
    issued = issue_invoice(invoice.pk)
    assert issued.number.endswith("-F-2026-000001")
    assert (issued.net_amount, issued.vat_amount, issued.gross_amount) == (
        Decimal("100.00"),
        Decimal("20.00"),
        Decimal("120.00"),
    )
    assert issue_invoice(invoice.pk).number == issued.number  # idempotent


def test_numbers_follow_each_other_and_drafts_burn_none(venue, member):
    first = issue_invoice(draft(venue, member).pk)
    for _ in range(3):
        draft(venue, member).delete()
    second = issue_invoice(draft(venue, member).pk)
    assert [first.sequence, second.sequence] == [1, 2]


def test_the_same_source_key_gives_the_same_invoice(venue, member):
    assert draft(venue, member, key="booking:1").pk == draft(venue, member, key="booking:1").pk


def test_free_items_are_not_invoiced(venue, member):
    with pytest.raises(NothingToInvoice):
        draft(venue, member, amount="0")
    assert not Invoice.objects.exists()


def test_the_database_refuses_to_change_an_issued_invoice(venue, member):
    invoice = issue_invoice(draft(venue, member).pk)
    with pytest.raises(PermissionError):
        invoice.save()
    for statement in (
        lambda: Invoice.objects.filter(pk=invoice.pk).update(net_amount=1),
        lambda: Invoice.objects.filter(pk=invoice.pk).delete(),
        lambda: InvoiceLine.objects.filter(invoice=invoice).update(unit_net_amount=1),
        lambda: InvoiceLine.objects.filter(invoice=invoice).delete(),
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            statement()
    assert Invoice.objects.get(pk=invoice.pk).gross_amount == Decimal("120.00")


def test_credit_notes_reference_the_invoice_and_cannot_exceed_it(venue, member):
    invoice = issue_invoice(draft(venue, member).pk)
    note = issue_credit_note(
        invoice, reason="Résiliation", lines=[DraftLine("Remboursement", Decimal(1), Decimal(50))]
    )
    assert note.number.endswith("-AV-2026-000001") and note.corrects_id == invoice.pk
    assert note.gross_amount == Decimal("60.00")
    with pytest.raises(AlreadyCredited):
        issue_credit_note(invoice, reason="Encore")
    assert Invoice.objects.filter(kind="credit_note").count() == 1


def test_verify_names_the_altered_document_and_field(venue, member):
    first = issue_invoice(draft(venue, member).pk)
    issue_invoice(draft(venue, member).pk)
    assert list(verify()) == []
    with transaction.atomic():
        from django.db import connection

        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # What a superuser tampering with the table would do: bypass the triggers.
                cursor.execute("SET LOCAL session_replication_role = replica")
                cursor.execute("UPDATE billing_invoice SET gross_amount = 12 WHERE id = %s", [first.pk])
                cursor.execute("SET LOCAL session_replication_role = origin")
            else:
                cursor.execute("DROP TRIGGER invoice_issued_frozen_update")
                cursor.execute("UPDATE billing_invoice SET gross_amount = 12 WHERE id = %s", [first.pk])
    breaches = list(verify())
    assert [(b.number, b.field) for b in breaches] == [(first.number, "gross_amount")]


def built(venue, buyer, *, quantity="1", amount="100.00", key=None):
    return build_draft(
        venue=venue,
        buyer_user=buyer,
        lines=[
            DraftLine("Abonnement coworking", Decimal(quantity), Decimal(amount)),
            DraftLine("Casier", Decimal("2"), Decimal("7.5")),
        ],
        service_from=date(2026, 12, 1),
        service_to=date(2026, 12, 31),
        source_key=key,
    )


def test_documents_issued_together_are_numbered_on_and_chained_like_single_ones(venue, member):
    first = issue_invoice(draft(venue, member).pk)
    with transaction.atomic():
        together = issue_new_documents([built(venue, member, key=f"batch:{n}") for n in range(3)])
    last = issue_invoice(draft(venue, member).pk)
    documents = [first, *together, last]
    assert [d.sequence for d in documents] == [1, 2, 3, 4, 5]
    assert all(d.is_issued and d.number.endswith(f"-{d.sequence:06d}") for d in documents)
    assert [d.previous_footprint for d in documents[1:]] == [d.footprint for d in documents[:-1]]
    stored = Invoice.objects.get(pk=together[0].pk)
    assert (stored.status, stored.number, stored.gross_amount) == (
        "issued",
        together[0].number,
        Decimal("138.00"),
    )
    assert stored.lines.count() == 2
    assert list(verify(venue.pk)) == []  # the sealed values are the values read back, decimals included


def test_a_free_document_in_a_batch_fails_it_before_anything_is_written(venue, member):
    drafts = [built(venue, member, key="paid"), built(venue, member, key="free")]
    drafts[1].lines.clear()
    with pytest.raises(NothingToInvoice), transaction.atomic():
        issue_new_documents(drafts)
    assert not Invoice.objects.exists()
    assert issue_invoice(draft(venue, member).pk).sequence == 1


def test_the_database_refuses_lines_added_to_documents_issued_together(venue, member):
    with transaction.atomic():
        (invoice,) = issue_new_documents([built(venue, member)])
    with pytest.raises(DatabaseError), transaction.atomic():
        InvoiceLine.objects.create(
            invoice=invoice,
            position=3,
            description="Ajout",
            unit_net_amount=Decimal(1),
            net_amount=Decimal(1),
        )
