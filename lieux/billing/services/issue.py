"""Issuing: number, snapshots, totals and footprint, all in the transaction that makes a document legal.

The venue's billing profile row is locked first. It is the venue's issuing lock: numbers of every series
and the footprint chain advance one document at a time, and a failure rolls the counter back with
everything else, so a number is never burnt. On SQLite the IMMEDIATE transaction serialises writers
anyway.

Two ways in, one sealing: `issue_locked` flips one draft already written (a sale, a credit note);
`issue_new_documents` writes and issues many new documents of one venue at once (the billing run), under
one hold of the issuing lock, with their numbers taken from the counter in one update."""

from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.utils.translation import gettext as _

from lieux.billing import rules
from lieux.billing.errors import NothingToInvoice, PeriodClosed
from lieux.billing.models import (
    BillingProfile,
    BuyerKind,
    Invoice,
    InvoiceLine,
    InvoiceSeries,
    InvoiceStatus,
    PeriodClosing,
)
from lieux.billing.services.drafts import Draft, profile_for
from lieux.core import audit
from lieux.core.db import atomic_with_retry
from lieux.core.errors import NotFound
from lieux.core.time import now
from lieux.venues.models import Venue

REGIMES = {r.code: r for r in (rules.STANDARD, rules.FRANCHISE, rules.MEMBERS_EXEMPT, rules.NOT_LIABLE)}


def issue_invoice(invoice_id: int, *, actor: Any = None) -> Invoice:
    """Issue a draft in its own transaction. Issuing an issued document returns it unchanged."""
    return atomic_with_retry(lambda: issue_locked(invoice_id, actor=actor))


def issue_locked(invoice_id: int, *, actor: Any = None) -> Invoice:
    """The issuing steps; the caller holds the transaction (credit notes check and issue in one)."""
    try:
        invoice = Invoice.objects.select_for_update().select_related("venue").get(pk=invoice_id)
    except Invoice.DoesNotExist:
        raise NotFound(_("No such invoice.")) from None
    if invoice.is_issued:
        return invoice
    profile = _lock_issuing(invoice.venue)
    lines = list(invoice.lines.all())
    totals = _totals(invoice, lines)

    issued_at = now()
    issued_on = issued_at.astimezone(invoice.venue.tz).date()
    _refuse_closed_period(invoice.venue_id, issued_on)
    sequence = _next_number(invoice.venue, invoice.kind, issued_on.year)
    _seal(
        invoice,
        lines,
        totals,
        profile,
        sequence=sequence,
        issued_at=issued_at,
        issued_on=issued_on,
        actor=actor,
    )
    invoice.save()
    profile.save(update_fields=["chain_head"])
    audit.record(
        "billing.invoice.issued",
        invoice,
        actor=actor,
        venue_id=invoice.venue_id,
        number=invoice.number,
        gross_amount=str(invoice.gross_amount),
    )
    _deliver_after_commit([invoice.pk])
    return invoice


def issue_new_documents(drafts: Sequence[Draft], *, actor: Any = None) -> list[Invoice]:
    """Write and issue new documents of one venue together, in the caller's transaction and in the order
    given: one hold of the issuing lock, each series' numbers taken in one counter update, the rows written
    in bulk, the footprint chain advanced document after document. Returns the issued invoices.

    Each draft comes from `drafts.build_draft` and is not saved yet; a draft with nothing to pay fails the
    whole call before anything is written (NothingToInvoice), like a single issue."""
    if not drafts:
        return []
    venue = drafts[0].invoice.venue
    if any(draft.invoice.venue_id != venue.pk for draft in drafts):
        raise ValueError("issue_new_documents issues the documents of one venue")
    all_totals = [_totals(draft.invoice, draft.lines) for draft in drafts]
    profile = _lock_issuing(venue)
    started_at = now()
    issued_on = started_at.astimezone(venue.tz).date()
    _refuse_closed_period(venue.pk, issued_on)
    next_sequence = {
        kind: _take_numbers(venue.pk, kind, issued_on.year, count)
        for kind, count in sorted(Counter(draft.invoice.kind for draft in drafts).items())
    }
    invoices = []
    for position, (draft, totals) in enumerate(zip(drafts, all_totals, strict=True)):
        invoice = draft.invoice
        for line in draft.lines:
            _as_stored(line)  # the footprint covers the values as read back from the database
        sequence = next_sequence[invoice.kind]
        next_sequence[invoice.kind] += 1
        # One microsecond apart: issue time orders the chain (`chain.verify`) as it does one by one.
        issued_at = started_at + timedelta(microseconds=position)
        _seal(
            invoice, draft.lines, totals, profile, sequence=sequence, issued_at=issued_at,
            issued_on=issued_on, actor=actor,
        )  # fmt: skip
        invoices.append(invoice)

    # The database refuses lines added to an issued document (migration 0002): the rows go in as drafts
    # holding every sealed value but the number, the lines follow, then one update flips them all.
    numbers = [invoice.number for invoice in invoices]
    for invoice in invoices:
        invoice.status, invoice.number = InvoiceStatus.DRAFT, None
    Invoice.objects.bulk_create(invoices)
    lines = []
    for invoice, draft in zip(invoices, drafts, strict=True):
        for line in draft.lines:
            line.invoice = invoice
            lines.append(line)
    InvoiceLine.objects.bulk_create(lines)
    for invoice, number in zip(invoices, numbers, strict=True):
        invoice.status, invoice.number = InvoiceStatus.ISSUED, number
    _flip_to_issued(invoices)
    profile.save(update_fields=["chain_head"])
    audit.record_all(
        [
            audit.entry(
                "billing.invoice.issued",
                invoice,
                actor=actor,
                venue_id=venue.pk,
                number=invoice.number,
                gross_amount=str(invoice.gross_amount),
            )
            for invoice in invoices
        ]
    )
    _deliver_after_commit([invoice.pk for invoice in invoices])
    return invoices


def _flip_to_issued(invoices: list[Invoice]) -> None:
    """Mark the rows issued, each with its number. One statement per row, sent together: a bulk_update
    (one CASE over every row, for every row) costs more, in Python and in the database, from a few dozen
    rows on."""
    statement = f"UPDATE {Invoice._meta.db_table} SET status = %s, number = %s WHERE id = %s AND status = %s"
    with connection.cursor() as cursor:
        cursor.executemany(
            statement,
            [(InvoiceStatus.ISSUED, invoice.number, invoice.pk, InvoiceStatus.DRAFT) for invoice in invoices],
        )


def _lock_issuing(venue: Venue) -> BillingProfile:
    """The venue's billing profile, locked: the issuing lock (created on first use)."""
    profile = BillingProfile.objects.select_for_update().filter(venue_id=venue.pk).first()
    if profile is None:
        profile_for(venue)
        profile = BillingProfile.objects.select_for_update().filter(venue_id=venue.pk).first()
    assert profile is not None
    return profile


def _totals(invoice: Invoice, lines: Sequence[InvoiceLine]) -> rules.Totals:
    regime = REGIMES[invoice.vat_regime]
    totals = rules.totals(
        (rules.Line(x.description, x.quantity, x.unit_net_amount, x.vat_rate) for x in lines), regime
    )
    if not lines or totals.gross_amount == 0:
        raise NothingToInvoice()
    return totals


def _seal(
    invoice: Invoice,
    lines: Sequence[InvoiceLine],
    totals: rules.Totals,
    profile: BillingProfile,
    *,
    sequence: int,
    issued_at: datetime,
    issued_on: date,
    actor: Any,
) -> None:
    """Make `invoice` the issued document numbered `sequence`: snapshots, totals, sealed content and the
    footprint chained after the venue's last one (`profile.chain_head` moves on to it). Writes nothing."""
    regime = REGIMES[invoice.vat_regime]
    invoice.status = InvoiceStatus.ISSUED
    invoice.year = issued_on.year
    invoice.sequence = sequence
    invoice.number = rules.document_number(profile.invoice_prefix, invoice.kind, issued_on.year, sequence)
    invoice.issued_at = issued_at
    invoice.issued_on = issued_on
    invoice.due_on = rules.due_on(issued_on, profile.payment_terms_days)
    invoice.issued_by = actor if getattr(actor, "is_authenticated", False) else None
    invoice.seller = seller_snapshot(invoice.venue, profile)
    invoice.buyer = buyer_snapshot(invoice)
    invoice.vat_mention = regime.mention
    invoice.net_amount, invoice.vat_amount, invoice.gross_amount = (
        totals.net_amount,
        totals.vat_amount,
        totals.gross_amount,
    )
    _as_stored(invoice)
    invoice.sealed_content = sealed_content(invoice, list(lines))
    invoice.previous_footprint = profile.chain_head
    invoice.footprint = rules.footprint(invoice.sealed_content, profile.chain_head)
    profile.chain_head = invoice.footprint


def _as_stored(row: models.Model) -> None:
    """Decimals at the scale of their column (1 → 1.000 for a quantity), as the database gives them back."""
    for field in row._meta.concrete_fields:
        if isinstance(field, models.DecimalField):
            value = getattr(row, field.attname)
            if value is not None:
                setattr(row, field.attname, Decimal(value).quantize(Decimal(1).scaleb(-field.decimal_places)))


def _deliver_after_commit(invoice_ids: list[int]) -> None:
    if getattr(settings, "LIEUX_DELIVER_INVOICES", True):
        from lieux.billing.services import delivery

        for invoice_id in invoice_ids:
            transaction.on_commit(partial(delivery.deliver, invoice_id))


def _next_number(venue: Venue, kind: str, year: int) -> int:
    return _take_numbers(venue.pk, kind, year, 1)


def _take_numbers(venue_id: int, kind: str, year: int, count: int) -> int:
    """Advance the (venue, kind, year) counter by `count` and return the first number taken. The row stays
    locked by the update until the transaction ends, and goes back with it on a rollback."""
    # UPDATE … RETURNING (PostgreSQL, SQLite ≥ 3.35): the increment and its result in one statement.
    statement = (
        f"UPDATE {InvoiceSeries._meta.db_table} SET last_number = last_number + %s "
        "WHERE venue_id = %s AND kind = %s AND year = %s RETURNING last_number"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [count, venue_id, kind, year])
        row = cursor.fetchone()
        if row is None:  # the series' first document
            InvoiceSeries.objects.get_or_create(venue_id=venue_id, kind=kind, year=year)
            cursor.execute(statement, [count, venue_id, kind, year])
            row = cursor.fetchone()
    return int(row[0]) - count + 1


def _refuse_closed_period(venue_id: int, issued_on: date) -> None:
    if PeriodClosing.objects.filter(venue_id=venue_id, period_end__gte=issued_on).exists():
        raise PeriodClosed(_("The accounting period of %(date)s is closed.") % {"date": issued_on})


def seller_snapshot(venue: Venue, profile: BillingProfile) -> dict[str, Any]:
    return {
        "name": venue.name,
        "legal_name": venue.legal_name,
        "legal_form": venue.legal_form,
        "siren": venue.siren,
        "siret": venue.siret,
        "vat_number": venue.vat_number,
        "street": venue.street,
        "postcode": venue.postcode,
        "city": venue.city,
        "country": "FR",
        "email": venue.email,
        "phone": venue.phone,
        "rcs_city": profile.rcs_city,
        "share_capital": profile.share_capital,
        "iban": profile.iban,
        "bic": profile.bic,
        "late_penalty_rate": profile.late_penalty_rate,
        "vat_on_debits": profile.vat_on_debits,
    }


def buyer_snapshot(invoice: Invoice) -> dict[str, Any]:
    """The buyer as the invoice must name them. An organisation is a business buyer (SIREN, penalties and
    the 40 € indemnity apply); a person paying for themselves is a consumer."""
    if invoice.buyer_organisation_id:
        org = invoice.buyer_organisation
        assert org is not None
        return {
            "kind": BuyerKind.BUSINESS,
            "name": org.name,
            "siren": org.siren,
            "vat_number": org.vat_number,
            "address": org.address,
            "email": org.billing_email,
            "country": "FR",
        }
    user = invoice.buyer_user
    assert user is not None
    return {
        "kind": BuyerKind.PERSON,
        "name": user.get_full_name() or user.email,
        "siren": "",
        "vat_number": "",
        "address": user.address,
        "email": user.email,
        "country": "FR",
    }


# The columns a footprint covers, in the order `lieux billing verify` reports them.
SEALED_FIELDS = (
    "venue_id", "kind", "number", "year", "sequence", "issued_at", "issued_on", "due_on", "service_from",
    "service_to", "operation_nature", "buyer_reference", "reason", "corrects_id", "buyer_user_id",
    "buyer_organisation_id", "seller", "buyer", "vat_regime", "vat_mention", "net_amount", "vat_amount",
    "gross_amount",
)  # fmt: skip
SEALED_LINE_FIELDS = (
    "position", "description", "quantity", "unit", "unit_net_amount", "vat_rate", "vat_category",
    "net_amount", "service_from", "service_to",
)  # fmt: skip


def _plain(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, dict | list | str | int | bool) or value is None:
        return value
    return str(value)


def sealed_content(invoice: Invoice, lines: list[Any]) -> dict[str, Any]:
    content = {field: _plain(getattr(invoice, field)) for field in SEALED_FIELDS}
    content["lines"] = [
        {field: _plain(getattr(line, field)) for field in SEALED_LINE_FIELDS} for line in lines
    ]
    return content
