"""Issuing a draft: number, snapshots, totals and footprint, all in the transaction that flips it.

The venue's billing profile row is locked first. It is the venue's issuing lock: numbers of every series
and the footprint chain advance one document at a time, and a failure rolls the counter back with
everything else, so a number is never burnt. On SQLite the IMMEDIATE transaction serialises writers
anyway."""

from datetime import date
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from lieux.billing import rules
from lieux.billing.errors import NothingToInvoice, PeriodClosed
from lieux.billing.models import (
    BillingProfile,
    BuyerKind,
    Invoice,
    InvoiceSeries,
    InvoiceStatus,
    PeriodClosing,
)
from lieux.billing.services.drafts import profile_for
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
    profile_for(invoice.venue)
    profile = BillingProfile.objects.select_for_update().get(venue_id=invoice.venue_id)
    lines = list(invoice.lines.all())
    regime = REGIMES[invoice.vat_regime]
    totals = rules.totals(
        (rules.Line(x.description, x.quantity, x.unit_net_amount, x.vat_rate) for x in lines), regime
    )
    if not lines or totals.gross_amount == 0:
        raise NothingToInvoice()

    issued_at = now()
    issued_on = issued_at.astimezone(invoice.venue.tz).date()
    _refuse_closed_period(invoice.venue_id, issued_on)
    sequence = _next_number(invoice.venue, invoice.kind, issued_on.year)

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
    invoice.sealed_content = sealed_content(invoice, lines)
    invoice.previous_footprint = profile.chain_head
    invoice.footprint = rules.footprint(invoice.sealed_content, profile.chain_head)
    invoice.save()
    profile.chain_head = invoice.footprint
    profile.save(update_fields=["chain_head"])
    audit.record(
        "billing.invoice.issued",
        invoice,
        actor=actor,
        venue_id=invoice.venue_id,
        number=invoice.number,
        gross_amount=str(invoice.gross_amount),
    )
    if getattr(settings, "LIEUX_DELIVER_INVOICES", True):
        from lieux.billing.services import delivery

        transaction.on_commit(partial(delivery.deliver, invoice.pk))
    return invoice


def _next_number(venue: Venue, kind: str, year: int) -> int:
    series, _created = InvoiceSeries.objects.select_for_update().get_or_create(
        venue=venue, kind=kind, year=year
    )
    series.last_number += 1
    series.save(update_fields=["last_number"])
    return series.last_number


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
