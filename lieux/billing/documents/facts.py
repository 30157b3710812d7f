"""What an issued document states, gathered once for the PDF and the XML so they never disagree.

The wording is French whatever the reader's language: these mentions are prescribed by the Code de
commerce (L441-9, L441-10, D441-5) and the CGI (annexe II art. 242 nonies A), and invoices issued in France
are written in French (loi n° 94-665, art. 2). They are legal text, not interface strings."""

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from lieux.billing import rules
from lieux.billing.models import Invoice, InvoiceLine, OperationNature

REGIMES = {r.code: r for r in (rules.STANDARD, rules.FRANCHISE, rules.MEMBERS_EXEMPT, rules.NOT_LIABLE)}

RECOVERY_INDEMNITY = (
    "Indemnité forfaitaire pour frais de recouvrement en cas de retard de paiement : 40 € "
    "(art. L441-10 et D441-5 du Code de commerce)."
)
NO_EARLY_PAYMENT_DISCOUNT = "Pas d'escompte pour paiement anticipé."
VAT_ON_DEBITS = "Option pour le paiement de la taxe d'après les débits."

OPERATION_NATURE: dict[str, str] = {
    OperationNature.SERVICES: "Prestations de services",
    OperationNature.GOODS: "Livraison de biens",
    OperationNature.MIXED: "Livraison de biens et prestations de services",
}
# BT-23 of the French e-invoicing profile: the billing framework (S1 services, B1 goods, M1 both).
BILLING_FRAMEWORK: dict[str, str] = {
    OperationNature.SERVICES: "S1",
    OperationNature.GOODS: "B1",
    OperationNature.MIXED: "M1",
}

_POSTCODE_CITY = re.compile(r"^\s*(?P<postcode>\d{5})\s+(?P<city>.+?)\s*$")


def late_penalty(rate: str) -> str:
    return (
        f"Pénalités de retard : {rate.strip() or 'taux directeur de la BCE majoré de 10 points'}, "
        "exigibles de plein droit dès le lendemain de la date d'échéance."
    )


@dataclass(frozen=True)
class Address:
    lines: tuple[str, ...]
    postcode: str
    city: str
    country: str

    @property
    def printed_lines(self) -> tuple[str, ...]:
        last = " ".join(part for part in (self.postcode, self.city) if part)
        return (*self.lines, last) if last else self.lines


def split_address(text: str, country: str = "FR") -> Address:
    """A free-text address as street lines, postcode and city: the last line reading "59000 Lille" gives
    the postcode and the city. The XML needs them apart; the page prints the lines as typed."""
    lines = [line.strip() for line in (text or "").replace("\r", "").split("\n") if line.strip()]
    if lines and (match := _POSTCODE_CITY.match(lines[-1])):
        return Address(tuple(lines[:-1]), match["postcode"], match["city"], country)
    return Address(tuple(lines), "", "", country)


@dataclass(frozen=True)
class Note:
    """A free-text note of the document, with its UNTDID 4451 subject code when it has one."""

    text: str
    subject: str = ""


@dataclass(frozen=True)
class DocumentFacts:
    invoice: Invoice
    lines: tuple[InvoiceLine, ...]
    regime: rules.VatRegime
    totals: rules.Totals
    corrected: Invoice | None

    @property
    def seller(self) -> dict[str, Any]:
        return self.invoice.seller

    @property
    def buyer(self) -> dict[str, Any]:
        return self.invoice.buyer

    @property
    def business_buyer(self) -> bool:
        return self.invoice.is_business

    @property
    def type_code(self) -> str:
        """UNTDID 1001: 380 commercial invoice, 381 credit note."""
        return "381" if self.invoice.is_credit_note else "380"

    @property
    def title(self) -> str:
        return "Avoir" if self.invoice.is_credit_note else "Facture"

    @property
    def nature(self) -> str:
        return OPERATION_NATURE.get(self.invoice.operation_nature, OPERATION_NATURE[OperationNature.SERVICES])

    @property
    def billing_framework(self) -> str:
        return BILLING_FRAMEWORK.get(self.invoice.operation_nature, "S1")

    @property
    def vat_on_debits(self) -> bool:
        return bool(self.seller.get("vat_on_debits")) and self.regime.charges_vat

    @property
    def seller_legal_information(self) -> str:
        """Legal form, share capital and registration (BT-33), e.g. "SAS au capital de 10 000 € — RCS
        Lille 123 456 789"."""
        parts = []
        form = self.seller.get("legal_form", "")
        capital = self.seller.get("share_capital", "")
        if form or capital:
            parts.append(" ".join(p for p in (form, f"au capital de {capital}" if capital else "") if p))
        if self.seller.get("rcs_city"):
            parts.append(f"RCS {self.seller['rcs_city']} {self.seller.get('siren', '')}".strip())
        return " — ".join(parts)

    @property
    def service_period(self) -> tuple[date, date]:
        return self.invoice.service_from, self.invoice.service_to

    @property
    def payment_terms(self) -> str:
        if self.invoice.is_credit_note:
            return "Montant remboursé ou imputé sur les prochaines factures."
        terms = f"Paiement au plus tard le {self.invoice.due_on:%d/%m/%Y}."
        if self.seller.get("iban"):
            terms += f" Virement : IBAN {self.seller['iban']}"
            terms += f", BIC {self.seller['bic']}." if self.seller.get("bic") else "."
        return terms

    @property
    def business_terms(self) -> tuple[Note, ...]:
        """The payment clauses owed to a business buyer (L441-9, L441-10), with their Factur-X subject
        codes: AAB early-payment discount, PMD late-payment penalties, PMT recovery indemnity. A credit
        note has nothing to pay late."""
        if not self.business_buyer or self.invoice.is_credit_note:
            return ()
        return (
            Note(late_penalty(self.seller.get("late_penalty_rate", "")), "PMD"),
            Note(RECOVERY_INDEMNITY, "PMT"),
            Note(NO_EARLY_PAYMENT_DISCOUNT, "AAB"),
        )

    @property
    def notes(self) -> tuple[Note, ...]:
        notes = []
        if self.invoice.is_credit_note and self.corrected is not None:
            notes.append(Note(self.correction_text))
        if self.invoice.reason:
            notes.append(Note(f"Motif : {self.invoice.reason}"))
        if self.regime.mention:
            notes.append(Note(self.regime.mention, "TXD"))
        if self.vat_on_debits:
            notes.append(Note(VAT_ON_DEBITS, "TXD"))
        if self.seller_legal_information:
            notes.append(Note(self.seller_legal_information, "REG"))
        return (*notes, *self.business_terms)

    @property
    def correction_text(self) -> str:
        if self.corrected is None:
            return ""
        return (
            f"Avoir relatif à la facture n° {self.corrected.number} du {self.corrected.issued_on:%d/%m/%Y}."
        )


def facts_of(invoice: Invoice) -> DocumentFacts:
    """The facts of an issued document. Totals are recomputed from the frozen lines with the rules that
    issued it, which gives the per-rate breakdown the invoice row does not store."""
    if not invoice.is_issued:
        raise ValueError("only an issued document has a rendering")
    lines = tuple(invoice.lines.all())
    regime = REGIMES[invoice.vat_regime]
    totals = rules.totals(
        (rules.Line(x.description, x.quantity, x.unit_net_amount, x.vat_rate) for x in lines), regime
    )
    corrected = invoice.corrects if invoice.corrects_id else None
    return DocumentFacts(invoice, lines, regime, totals, corrected)
