"""The printed document: an HTML page rendered by WeasyPrint as PDF/A-3b, then the Factur-X XML embedded
into it by the factur-x library (which also writes the XMP metadata that declares the profile)."""

import base64
import hashlib
import logging
import mimetypes
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import facturx
from django.template.loader import render_to_string
from django.utils import translation

from lieux.billing.documents.facts import DocumentFacts, facts_of, split_address
from lieux.billing.documents.facturx_xml import build_xml, check_xsd
from lieux.billing.models import BillingProfile, Invoice

# Without HarfBuzz's subsetter WeasyPrint warns on every document before falling back on fontTools.
logging.getLogger("weasyprint").setLevel(logging.ERROR)
logging.getLogger("fontTools").setLevel(logging.ERROR)

UNIT_LABELS = {"HUR": "h", "DAY": "j", "MON": "mois", "ANN": "an", "C62": ""}
NBSP = "\u00a0"


@dataclass(frozen=True)
class RenderedDocument:
    pdf: bytes
    xml: str
    sha256: str


def euros(value: Decimal) -> str:
    """1 234,56 € — French grouping and decimal comma."""
    text = f"{value:,.2f}".replace(",", NBSP).replace(".", ",")
    return f"{text}{NBSP}€"


def french_number(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text.replace(".", ",")


def percent(value: Decimal) -> str:
    return f"{french_number(value)}{NBSP}%"


def _period(start: Any, end: Any) -> str:
    if start == end:
        return f"{start:%d/%m/%Y}"
    return f"du {start:%d/%m/%Y} au {end:%d/%m/%Y}"


def _logo(venue_id: int) -> str:
    """The venue's logo as a data: URI, so that any storage works and the PDF embeds it."""
    profile = BillingProfile.objects.filter(venue_id=venue_id).only("logo").first()
    if profile is None or not profile.logo:
        return ""
    mime = mimetypes.guess_type(profile.logo.name)[0] or "image/png"
    try:
        with profile.logo.open("rb") as image:
            data = image.read()
    except OSError:
        return ""  # a lost file must not stop an invoice from being delivered
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def context_of(facts: DocumentFacts) -> dict[str, Any]:
    invoice = facts.invoice
    start, end = facts.service_period
    lines = []
    for line in facts.lines:
        unit = UNIT_LABELS.get(line.unit, "")
        own_period = (
            line.service_from and line.service_to and (line.service_from, line.service_to) != (start, end)
        )
        lines.append(
            {
                "description": line.description,
                "period": _period(line.service_from, line.service_to) if own_period else "",
                "quantity": f"{french_number(line.quantity)}{NBSP}{unit}"
                if unit
                else french_number(line.quantity),
                "unit_price": euros(line.unit_net_amount),
                "vat_rate": percent(line.vat_rate) if facts.regime.charges_vat else "—",
                "net_amount": euros(line.net_amount),
            }
        )
    return {
        "title": facts.title,
        "number": invoice.number,
        "issued_on": f"{invoice.issued_on:%d/%m/%Y}",
        "due_on": f"{invoice.due_on:%d/%m/%Y}" if invoice.due_on and not invoice.is_credit_note else "",
        "buyer_reference": invoice.buyer_reference,
        "seller": facts.seller,
        "seller_legal_information": facts.seller_legal_information,
        "buyer": facts.buyer,
        "buyer_address": split_address(facts.buyer.get("address", "")).printed_lines,
        "logo": _logo(invoice.venue_id),
        "period_label": "Date de la prestation" if start == end else "Période de la prestation",
        "period": _period(start, end),
        "nature": facts.nature,
        "correction": facts.correction_text,
        "reason": invoice.reason,
        "lines": lines,
        "breakdown": [
            {
                "rate": percent(group.rate) if facts.regime.charges_vat else "Sans TVA",
                "net_amount": euros(group.net_amount),
                "vat_amount": euros(group.vat_amount),
            }
            for group in facts.totals.breakdown
        ],
        "net_amount": euros(facts.totals.net_amount),
        "vat_amount": euros(facts.totals.vat_amount),
        "gross_amount": euros(facts.totals.gross_amount),
        "gross_label": "Total TTC" if invoice.is_credit_note else "Net à payer TTC",
        "vat_mention": facts.regime.mention,
        "vat_on_debits": "Option pour le paiement de la taxe d'après les débits."
        if facts.vat_on_debits
        else "",
        "payment_terms": facts.payment_terms,
        "business_terms": [note.text for note in facts.business_terms],
    }


def render_html(facts: DocumentFacts) -> str:
    # Dates and numbers are formatted in French whatever language the request or the worker runs in.
    with translation.override("fr"):
        return render_to_string("billing/invoice.html", context_of(facts))


def render_pdf(facts: DocumentFacts, xml: bytes) -> bytes:
    from weasyprint import HTML  # imported on first use: it takes a while to load

    invoice = facts.invoice
    page = HTML(string=render_html(facts)).write_pdf(pdf_variant="pdf/a-3b")
    title = f"{facts.title} {invoice.number}"
    seller = facts.seller.get("legal_name") or facts.seller.get("name", "")
    return facturx.generate_from_binary(
        page,
        xml,
        flavor="factur-x",
        level="en16931",
        check_xsd=False,  # checked with a schema parsed once, in render()
        pdf_metadata={
            "author": seller,
            "keywords": "Factur-X, EN 16931, " + facts.title,
            "title": f"{seller} : {title}",
            "subject": f"{title} du {invoice.issued_on:%d/%m/%Y} émis par {seller}",
        },
        lang="fr-FR",
    )


def render(invoice: Invoice) -> RenderedDocument:
    """The PDF/A-3 of an issued document with its Factur-X XML, and the SHA-256 of the PDF."""
    facts = facts_of(invoice)
    xml = build_xml(facts)
    check_xsd(xml)
    pdf = render_pdf(facts, xml)
    return RenderedDocument(pdf=pdf, xml=xml.decode(), sha256=hashlib.sha256(pdf).hexdigest())
