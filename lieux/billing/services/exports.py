"""Accounting entries for the accountant: the sales journal from issued documents, the bank journal from
payments. The FEC file (`fec.py`) and the spreadsheet journal (`journal.py`) are two renderings of the same
entries, so they always agree.

The platform is not the general ledger: it hands over balanced entries that the accountant imports. Each
issued invoice is one entry in the sales journal (customer debited with the gross amount, revenue and VAT
collected credited per VAT rate); a credit note is the same entry reversed. Each payment is one entry in
the bank journal (bank debited, customer credited); a negative payment (a returned direct debit, a
refund) is reversed in the same way.

The account numbers are those of the French chart of accounts (PCG) and can be changed per venue in the
settings (`LIEUX_ACCOUNTING`, keyed by venue slug, "*" for every venue), because each accountant has their
own sub-accounts.
"""

import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from lieux.billing import rules
from lieux.billing.models import DocumentKind, Invoice, InvoiceStatus, Payment
from lieux.billing.services.issue import REGIMES
from lieux.core.errors import ValidationError
from lieux.core.money import ZERO, cents
from lieux.venues.models import Venue


@dataclass(frozen=True)
class AccountPlan:
    """Journals and accounts of a venue's entries. The labels are those of the French chart of accounts:
    they are accounting data read by a French accountant, not interface text."""

    sales_journal: str = "VE"
    sales_journal_label: str = "Ventes"
    bank_journal: str = "BQ"
    bank_journal_label: str = "Banque"
    customers: str = "411"
    customers_label: str = "Clients"
    # Sub-account of each customer (CompAuxNum): prefix + P (person) or O (organisation) + their id.
    customer_prefix: str = "C"
    revenue: str = "706"
    revenue_label: str = "Prestations de services"
    # A revenue or VAT account per rate ("5.5": "7063") when the accountant splits them.
    revenue_by_rate: Mapping[str, str] = field(default_factory=dict)
    vat_collected: str = "44571"
    vat_collected_label: str = "TVA collectée"
    vat_by_rate: Mapping[str, str] = field(default_factory=dict)
    bank: str = "512"
    bank_label: str = "Banque"
    # A payment method booked elsewhere than the bank ("cash": "530", "helloasso": "511").
    account_by_method: Mapping[str, str] = field(default_factory=dict)

    def revenue_account(self, rate: Decimal) -> str:
        return self.revenue_by_rate.get(_rate_key(rate), self.revenue)

    def vat_account(self, rate: Decimal) -> str:
        return self.vat_by_rate.get(_rate_key(rate), self.vat_collected)

    def payment_account(self, method: str) -> str:
        return self.account_by_method.get(method, self.bank)


def _rate_key(rate: Decimal) -> str:
    """Text of a rate as a person writes it in the settings: "20" for 20.00, "5.5" for 5.50."""
    text = f"{rate:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def accounts_for(venue: Venue) -> AccountPlan:
    """The venue's account plan: the defaults, then the settings for every venue ("*"), then its own."""
    configured: Mapping[str, Mapping[str, Any]] = getattr(settings, "LIEUX_ACCOUNTING", {})
    plan = AccountPlan()
    known = {f.name for f in fields(AccountPlan)}
    for key in ("*", venue.slug):
        overrides = dict(configured.get(key, {}))
        unknown = set(overrides) - known
        if unknown:
            raise ValueError(f"LIEUX_ACCOUNTING[{key!r}]: unknown keys {sorted(unknown)}")
        plan = replace(plan, **overrides)
    return plan


# Entries


@dataclass(frozen=True)
class EntryLine:
    account: str
    account_label: str
    debit: Decimal
    credit: Decimal
    customer_code: str = ""
    customer_name: str = ""
    vat_rate: Decimal | None = None


@dataclass(frozen=True)
class Entry:
    """One balanced accounting entry (écriture). `number` is set when the entries of an export are
    numbered, per journal."""

    journal: str
    journal_label: str
    on: date
    reference: str
    reference_on: date
    label: str
    lines: tuple[EntryLine, ...]
    number: str = ""

    @property
    def debit(self) -> Decimal:
        return sum((line.debit for line in self.lines), ZERO)

    @property
    def credit(self) -> Decimal:
        return sum((line.credit for line in self.lines), ZERO)

    @property
    def balanced(self) -> bool:
        return self.debit == self.credit


@dataclass(frozen=True)
class SaleFacts:
    """What an entry needs from an issued invoice or credit note (amounts positive for both kinds)."""

    number: str
    is_credit_note: bool
    issued_on: date
    customer_code: str
    customer_name: str
    gross_amount: Decimal
    breakdown: tuple[rules.VatBreakdown, ...]


@dataclass(frozen=True)
class PaymentFacts:
    """What an entry needs from a payment; a negative amount is money going back to the customer."""

    amount: Decimal
    received_on: date
    method: str
    method_label: str
    reference: str
    document_number: str
    customer_code: str
    customer_name: str


def _side(amount: Decimal, *, debit: bool) -> tuple[Decimal, Decimal]:
    return (amount, ZERO) if debit else (ZERO, amount)


def sale_entry(facts: SaleFacts, accounts: AccountPlan) -> Entry:
    """Customer debited with the gross amount, revenue and VAT credited per rate; reversed for a credit
    note. A document whose breakdown does not add up to its gross amount is refused: its entry could not
    balance, and `lieux billing verify` will say which field was altered."""
    net = sum((b.net_amount for b in facts.breakdown), ZERO)
    vat = sum((b.vat_amount for b in facts.breakdown), ZERO)
    if net + vat != facts.gross_amount:
        raise ValidationError(
            _("Document %(number)s does not add up: %(net)s + %(vat)s ≠ %(gross)s.")
            % {"number": facts.number, "net": net, "vat": vat, "gross": facts.gross_amount},
            code="unbalanced_document",
        )
    customer_debited = not facts.is_credit_note
    lines = [
        EntryLine(
            accounts.customers,
            accounts.customers_label,
            *_side(facts.gross_amount, debit=customer_debited),
            customer_code=facts.customer_code,
            customer_name=facts.customer_name,
        )
    ]
    for part in facts.breakdown:
        if part.net_amount:
            lines.append(
                EntryLine(
                    accounts.revenue_account(part.rate),
                    accounts.revenue_label,
                    *_side(part.net_amount, debit=not customer_debited),
                    vat_rate=part.rate,
                )
            )
    # One name per account number: the FEC checker expects CompteLib to be constant for a CompteNum.
    for part in facts.breakdown:
        if part.vat_amount:
            lines.append(
                EntryLine(
                    accounts.vat_account(part.rate),
                    accounts.vat_collected_label,
                    *_side(part.vat_amount, debit=not customer_debited),
                    vat_rate=part.rate,
                )
            )
    template = (
        _("Credit note %(number)s, %(customer)s")
        if facts.is_credit_note
        else _("Invoice %(number)s, %(customer)s")
    )
    return Entry(
        journal=accounts.sales_journal,
        journal_label=accounts.sales_journal_label,
        on=facts.issued_on,
        reference=facts.number,
        reference_on=facts.issued_on,
        label=template % {"number": facts.number, "customer": facts.customer_name},
        lines=tuple(lines),
    )


def payment_entry(facts: PaymentFacts, accounts: AccountPlan) -> Entry:
    """Bank debited and customer credited with money received; reversed for money paid back."""
    received = facts.amount > 0
    amount = abs(facts.amount)
    if received:
        template = _("Payment %(method)s %(reference)s, %(document)s")
    else:
        template = _("Payment returned %(method)s %(reference)s, %(document)s")
    label = template % {
        "method": facts.method_label,
        "reference": facts.reference,
        "document": facts.document_number,
    }
    return Entry(
        journal=accounts.bank_journal,
        journal_label=accounts.bank_journal_label,
        on=facts.received_on,
        reference=facts.document_number,
        reference_on=facts.received_on,
        label=" ".join(label.split()),  # no double space when there is no reference
        lines=(
            EntryLine(
                accounts.payment_account(facts.method), accounts.bank_label, *_side(amount, debit=received)
            ),
            EntryLine(
                accounts.customers,
                accounts.customers_label,
                *_side(amount, debit=not received),
                customer_code=facts.customer_code,
                customer_name=facts.customer_name,
            ),
        ),
    )


def numbered(entries: Iterable[Entry]) -> list[Entry]:
    """Sort entries by date and number them without gap per journal (VE000001, BQ000001…)."""
    ordered = sorted(entries, key=lambda e: e.on)  # stable: keeps issue order within a day
    counters: dict[str, int] = {}
    result = []
    for entry in ordered:
        counters[entry.journal] = counters.get(entry.journal, 0) + 1
        result.append(replace(entry, number=f"{entry.journal}{counters[entry.journal]:06d}"))
    return result


# From the records


def customer_code(invoice: Invoice, accounts: AccountPlan) -> str:
    if invoice.buyer_organisation_id:
        return f"{accounts.customer_prefix}O{invoice.buyer_organisation_id:06d}"
    return f"{accounts.customer_prefix}P{invoice.buyer_user_id:06d}"


def breakdown_of(invoice: Invoice) -> tuple[rules.VatBreakdown, ...]:
    """The VAT breakdown of an issued document, recomputed from its lines exactly as it was at issue."""
    lines = (
        rules.Line(x.description, x.quantity, x.unit_net_amount, x.vat_rate) for x in invoice.lines.all()
    )
    return rules.totals(lines, REGIMES[invoice.vat_regime]).breakdown


def sale_facts(invoice: Invoice, accounts: AccountPlan) -> SaleFacts:
    assert invoice.number and invoice.issued_on, "only issued documents have entries"
    return SaleFacts(
        number=invoice.number,
        is_credit_note=invoice.kind == DocumentKind.CREDIT_NOTE,
        issued_on=invoice.issued_on,
        customer_code=customer_code(invoice, accounts),
        customer_name=str(invoice.buyer.get("name", "")),
        gross_amount=cents(invoice.gross_amount),
        breakdown=breakdown_of(invoice),
    )


def payment_facts(payment: Payment, accounts: AccountPlan) -> PaymentFacts:
    invoice = payment.invoice
    return PaymentFacts(
        amount=cents(payment.amount),
        received_on=payment.received_on,
        method=payment.method,
        method_label=str(payment.get_method_display()).lower(),
        reference=payment.reference,
        document_number=invoice.number or "",
        customer_code=customer_code(invoice, accounts),
        customer_name=str(invoice.buyer.get("name", "")),
    )


def issued_documents(venue: Venue, start: date, end: date) -> Any:
    """The venue's issued invoices and credit notes whose issue date falls in [start, end], in issue order."""
    return (
        Invoice.objects.filter(
            venue=venue, status=InvoiceStatus.ISSUED, issued_on__gte=start, issued_on__lte=end
        )
        .prefetch_related("lines")
        .order_by("issued_at", "id")
    )


def payments_received(venue: Venue, start: date, end: date) -> Any:
    return (
        Payment.objects.filter(venue=venue, received_on__gte=start, received_on__lte=end)
        .select_related("invoice")
        .order_by("received_on", "id")
    )


def check_period(start: date, end: date) -> None:
    if end < start:
        raise ValidationError(
            _("The period ends (%(end)s) before it starts (%(start)s).") % {"start": start, "end": end},
            code="invalid_period",
        )


def ledger(
    *,
    venue: Venue,
    start: date,
    end: date,
    accounts: AccountPlan | None = None,
    language: str = "fr",
) -> list[Entry]:
    """The numbered entries of the venue for [start, end]: sales journal, then bank journal per date.
    Labels are written in `language` (French by default: the file is for a French accountant)."""
    check_period(start, end)
    plan = accounts or accounts_for(venue)
    with translation.override(language):
        entries = [sale_entry(sale_facts(doc, plan), plan) for doc in issued_documents(venue, start, end)]
        entries += [
            payment_entry(payment_facts(payment, plan), plan)
            for payment in payments_received(venue, start, end)
        ]
    return numbered(entries)


def write_atomically(path: Path, content: bytes) -> None:
    """Write a file in one step: a reader (or a crash) never leaves half an export or archive behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
