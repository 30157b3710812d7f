"""Invoices and credit notes: list, read, download the PDF, and credit an invoice.

Every read goes through billing.selectors (`visible_invoices`, `invoice_for`): a member reads the documents
issued to them or to their organisations, a venue's staff every document of that venue, and anything else
answers 404 exactly like a number never issued. Crediting is for the venue's staff; the credit note itself
is issued by the billing service, under the venue's issuing lock.
"""

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from annotated_types import Len
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import AfterValidator, Field

from lieux.api.base import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, api, caller, paginate
from lieux.api.schemas import Day, DbId, ErrorOut, Input, Slug, ValidationErrorOut, _no_nul
from lieux.api.venues import venue_filter
from lieux.billing import payment_selectors, selectors
from lieux.billing.models import DocumentKind, Invoice, InvoiceStatus, Payment, PaymentMethod
from lieux.billing.rules import FRENCH_VAT_RATES
from lieux.billing.services.credit_notes import issue_credit_note
from lieux.billing.services.drafts import DraftLine
from lieux.billing.services.payments import balance, record_payment
from lieux.core.errors import Conflict, Forbidden, ValidationError
from lieux.core.money import cents
from lieux.core.time import now
from lieux.venues import selectors as venue_selectors

router = Router(tags=["Invoices"])

ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ValidationErrorOut}

# --- Shapes ----------------------------------------------------------------------------------------------

Money = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2, allow_inf_nan=False)]
Quantity = Annotated[Decimal, Field(gt=0, max_digits=10, decimal_places=3, allow_inf_nan=False)]
LineText = Annotated[str, Len(1, 300), AfterValidator(_no_nul)]
ReasonText = Annotated[str, Len(1, 300), AfterValidator(_no_nul)]


def _french_rate(value: Decimal) -> Decimal:
    if value not in FRENCH_VAT_RATES:
        raise ValueError("not a VAT rate used in France")
    return value


VatRate = Annotated[
    Decimal, Field(ge=0, max_digits=5, decimal_places=2, allow_inf_nan=False), AfterValidator(_french_rate)
]


class CreditLineIn(Input):
    description: LineText
    quantity: Quantity = Decimal(1)
    unit_net_amount: Money = Field(description='Unit price excluding VAT, e.g. `"25.00"`.')
    vat_rate: VatRate = Field(description="Percent: 20, 10, 5.5, 2.1 or 0.")


class CreditNoteIn(Input):
    reason: ReasonText = Field(description="Why the invoice is credited; printed on the credit note.")
    lines: Annotated[list[CreditLineIn], Len(1, 100)] | None = Field(
        None, description="Credit only these amounts; leave out to credit the whole invoice."
    )


class InvoiceLineOut(Schema):
    position: int
    description: str
    quantity: str
    unit: str = Field(description="UN/ECE rec. 20 unit code (C62 one, HUR hour, DAY day).")
    unit_net_amount: str
    vat_rate: str
    net_amount: str
    service_from: str | None
    service_to: str | None


class BuyerBriefOut(Schema):
    name: str
    email: str | None = Field(description="The person invoiced, when it is a person.")
    organisation: int | None = Field(description="Id of the organisation invoiced, when it is one.")


class DocumentBriefOut(Schema):
    id: int
    number: str | None
    kind: str
    gross_amount: str


class InvoiceSummaryOut(Schema):
    id: int
    number: str | None = Field(description="Null for a draft: a number is given when the invoice is issued.")
    kind: str = Field(description="`invoice` or `credit_note`.")
    status: str = Field(description="`draft` or `issued`.")
    venue: str = Field(description="Slug of the venue that issues it.")
    issued_on: str | None
    due_on: str | None
    service_from: str
    service_to: str
    buyer: BuyerBriefOut
    net_amount: str = Field(description="Total excluding VAT, a decimal string in euros.")
    vat_amount: str
    gross_amount: str = Field(description="Total including VAT.")
    corrects: DocumentBriefOut | None = Field(description="For a credit note: the invoice it corrects.")
    pdf: str | None = Field(description="Path of the PDF, once issued.")


class InvoiceOut(InvoiceSummaryOut):
    seller: dict[str, Any] = Field(description="The seller as printed on the invoice (empty for a draft).")
    buyer_details: dict[str, Any] = Field(description="The buyer as printed on the invoice.")
    vat_mention: str
    reason: str
    lines: list[InvoiceLineOut]
    credit_notes: list[DocumentBriefOut] = Field(description="Issued credit notes correcting this invoice.")
    paid_amount: str | None = Field(
        description="Payments received net of their reversals; null for a draft or a credit note."
    )
    balance_due: str | None = Field(
        description="Total minus credit notes minus payments (negative when overpaid); null for a draft or a "
        "credit note."
    )
    settlement: str | None = Field(
        description="`unpaid`, `partial`, `paid` or `overpaid`; null for a draft or a credit note."
    )


class InvoicePageOut(Schema):
    count: int
    next: str | None
    previous: str | None
    results: list[InvoiceSummaryOut]


# --- Serialisation ---------------------------------------------------------------------------------------


def _day(value) -> str | None:
    return value.isoformat() if value is not None else None


def buyer_brief(invoice: Invoice) -> dict[str, Any]:
    """Who is invoiced, from the snapshot once issued and from the live rows for a draft."""
    snapshot = invoice.buyer or {}
    user, organisation = invoice.buyer_user, invoice.buyer_organisation
    if organisation is not None:
        name = snapshot.get("name") or organisation.name
    else:
        name = snapshot.get("name") or (user.get_full_name() if user else "")
    return {
        "name": name,
        "email": user.email if user is not None and organisation is None else None,
        "organisation": organisation.pk if organisation is not None else None,
    }


def document_brief(invoice: Invoice) -> dict[str, Any]:
    return {
        "id": invoice.pk,
        "number": invoice.number,
        "kind": invoice.kind,
        "gross_amount": str(invoice.gross_amount),
    }


def invoice_summary(invoice: Invoice) -> dict[str, Any]:
    return {
        "id": invoice.pk,
        "number": invoice.number,
        "kind": invoice.kind,
        "status": invoice.status,
        "venue": invoice.venue.slug,
        "issued_on": _day(invoice.issued_on),
        "due_on": _day(invoice.due_on),
        "service_from": invoice.service_from.isoformat(),
        "service_to": invoice.service_to.isoformat(),
        "buyer": buyer_brief(invoice),
        "net_amount": str(invoice.net_amount),
        "vat_amount": str(invoice.vat_amount),
        "gross_amount": str(invoice.gross_amount),
        "corrects": document_brief(invoice.corrects) if invoice.corrects is not None else None,
        "pdf": f"/api/v1/invoices/{invoice.pk}/pdf" if invoice.is_issued else None,
    }


def invoice_detail(invoice: Invoice) -> dict[str, Any]:
    notes = selectors.credit_notes_of(invoice).filter(status=InvoiceStatus.ISSUED)
    return {
        **invoice_summary(invoice),
        "seller": invoice.seller or {},
        "buyer_details": invoice.buyer or {},
        "vat_mention": invoice.vat_mention,
        "reason": invoice.reason,
        "lines": [
            {
                "position": line.position,
                "description": line.description,
                "quantity": str(line.quantity.normalize()),
                "unit": line.unit,
                "unit_net_amount": str(line.unit_net_amount),
                "vat_rate": str(line.vat_rate),
                "net_amount": str(line.net_amount),
                "service_from": _day(line.service_from),
                "service_to": _day(line.service_to),
            }
            for line in invoice.lines.all()
        ],
        "credit_notes": [document_brief(note) for note in notes],
        **settlement_of(invoice),
    }


def settlement_of(invoice: Invoice) -> dict[str, Any]:
    if not payment_selectors.settles(invoice):
        return {"paid_amount": None, "balance_due": None, "settlement": None}
    current = balance(invoice)
    return {
        "paid_amount": str(cents(current.paid)),
        "balance_due": str(cents(current.due)),
        "settlement": current.state,
    }


def pdf_document(invoice: Invoice):
    """The rendered document of an issued invoice (rendered now if the after-commit job has not yet)."""
    if not invoice.is_issued:
        raise Conflict(_("A draft has no PDF: issue it first."), code="not_issued")
    from lieux.billing.services.delivery import document_for

    return document_for(invoice)


# --- Endpoints -------------------------------------------------------------------------------------------


@router.get(
    "/invoices",
    response={200: InvoicePageOut, **ERRORS},
    summary="List invoices",
    description="Invoices and credit notes the caller may read: those issued to them or to an organisation "
    "they belong to, and every document (drafts included) of the venues they manage or staff. Filter by "
    "`venue` (slug), `status` (`draft`, `issued`) and `kind` (`invoice`, `credit_note`). Newest first; "
    "paginated with `limit` (at most 200) and `offset`.",
)
def list_invoices(
    request: HttpRequest,
    venue: Slug | None = None,
    status: InvoiceStatus | None = None,
    kind: DocumentKind | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
):
    invoices = selectors.visible_invoices(
        caller(request),
        venue=venue_filter(venue),
        status=str(status) if status else None,
        kind=str(kind) if kind else None,
    )
    return paginate(request, invoices, limit=limit, offset=offset, serialize=invoice_summary)


@router.get(
    "/invoices/{invoice_id}",
    response={200: InvoiceOut, **ERRORS},
    summary="One invoice",
    description="The document with its lines, the seller and buyer as printed, and the credit notes that "
    "correct it. 404 `unknown_invoice` for a document the caller may not read.",
)
def get_invoice(request: HttpRequest, invoice_id: DbId):
    return invoice_detail(selectors.invoice_for(caller(request), invoice_id))


@router.get(
    "/invoices/{invoice_id}/pdf",
    response={200: None, **ERRORS},
    summary="The invoice as PDF",
    description="The PDF/A-3 document with its Factur-X (EN 16931) XML embedded, as `application/pdf`. "
    "409 `not_issued` for a draft; 404 `unknown_invoice` for a document the caller may not read.",
    openapi_extra={
        "responses": {
            200: {
                "description": "The PDF file.",
                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def invoice_pdf(request: HttpRequest, invoice_id: DbId):
    invoice = selectors.invoice_for(caller(request), invoice_id)
    document = pdf_document(invoice)
    response = HttpResponse(bytes(document.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{invoice.number}.pdf"'
    response["X-Content-SHA256"] = document.sha256
    return response


@router.post(
    "/invoices/{invoice_id}/credit-note",
    response={201: InvoiceOut, **ERRORS},
    summary="Credit an invoice",
    description="Issue a credit note (avoir) correcting an issued invoice: the whole of it, or the `lines` "
    "given (positive amounts; the total credited never exceeds the invoice). For the staff of the invoice's "
    "venue: 403 `not_venue_staff` for the buyer, 404 for anyone else. 409 `not_issued` for a draft or a "
    "credit note, `already_credited` beyond the invoice's total; 422 `reason_required`, `invalid_vat_rate`. "
    "A refused request writes nothing.",
)
def credit_invoice(request: HttpRequest, invoice_id: DbId, payload: CreditNoteIn):
    user = caller(request)
    invoice = selectors.invoice_for(user, invoice_id)
    if not venue_selectors.is_staff_of(user, invoice.venue_id):
        raise Forbidden(_("Only the venue's team may credit an invoice."), code="not_venue_staff")
    lines = None
    if payload.lines is not None:
        lines = [
            DraftLine(
                description=line.description,
                quantity=line.quantity,
                unit_net_amount=line.unit_net_amount,
                vat_rate=line.vat_rate,
                service_from=invoice.service_from,
                service_to=invoice.service_to,
            )
            for line in payload.lines
        ]
    note = issue_credit_note(invoice, reason=payload.reason, lines=lines, actor=user)
    return Status(201, invoice_detail(selectors.invoice_for(user, note.pk)))


# --- Payments --------------------------------------------------------------------------------------------

PaymentAmount = Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=2, allow_inf_nan=False)]
PaymentReference = Annotated[str, Len(0, 140), AfterValidator(_no_nul)]
ExternalId = Annotated[str, Len(1, 140), AfterValidator(_no_nul)]
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
Month = Annotated[str, Field(pattern=MONTH.pattern, description="A month, `YYYY-MM`.", examples=["2026-12"])]


class PaymentIn(Input):
    amount: PaymentAmount = Field(
        description='Euros received, e.g. `"40.00"`; less than due is a partial payment.'
    )
    method: PaymentMethod = Field(description="`transfer`, `cheque`, `cash`, `card_terminal`, …")
    received_on: Day = Field(description="The day the money was received, at the latest today.")
    reference: PaymentReference = Field("", description="Cheque number, bank statement line…")
    external_id: ExternalId | None = Field(
        None, description="An id from the payment's source: the same one sent again records nothing new."
    )


class PaymentOut(Schema):
    id: int
    invoice: DocumentBriefOut
    venue: str
    method: str
    amount: str = Field(description="Negative for a reversal (bounced cheque, refund, returned debit).")
    received_on: str
    reference: str
    reverses: int | None = Field(description="For a reversal: the id of the payment it undoes.")
    reason: str
    created_at: str


class RecordedPaymentOut(PaymentOut):
    balance_due: str = Field(description="What is left to pay on the invoice after this payment.")
    settlement: str = Field(description="`unpaid`, `partial`, `paid` or `overpaid`.")


class PaymentPageOut(Schema):
    count: int
    next: str | None
    previous: str | None
    results: list[PaymentOut]


def payment_out(payment: Payment) -> dict[str, Any]:
    return {
        "id": payment.pk,
        "invoice": document_brief(payment.invoice),
        "venue": payment.venue.slug,
        "method": payment.method,
        "amount": str(cents(payment.amount)),
        "received_on": payment.received_on.isoformat(),
        "reference": payment.reference,
        "reverses": payment.reverses_id,
        "reason": payment.reason,
        "created_at": payment.created_at.isoformat(),
    }


@router.post(
    "/invoices/{invoice_id}/payments",
    response={201: RecordedPaymentOut, **ERRORS},
    summary="Record a payment",
    description="Record money received for an issued invoice (a transfer, a cheque, cash, a card terminal "
    "payment…); a partial payment leaves the rest due. For the team of the invoice's venue: 403 "
    "`not_venue_staff` for the buyer, 404 for anyone else. 409 `not_issued` for a draft or a credit "
    "note; 422 for a zero or negative amount or a date after today (`received_in_future`). With an "
    "`external_id`, the same payment sent twice is recorded once. A refused request writes nothing.",
)
def create_payment(request: HttpRequest, invoice_id: DbId, payload: PaymentIn):
    user = caller(request)
    invoice = selectors.invoice_for(user, invoice_id)
    if not venue_selectors.is_staff_of(user, invoice.venue_id):
        raise Forbidden(_("Only the venue's team may record a payment."), code="not_venue_staff")
    if payload.received_on > now().astimezone(invoice.venue.tz).date():
        raise ValidationError(
            _("A payment cannot be received after today."), code="received_in_future", field="received_on"
        )
    payment = record_payment(
        invoice,
        amount=payload.amount,
        method=str(payload.method),
        received_on=payload.received_on,
        reference=payload.reference.strip(),
        external_id=payload.external_id,
        recorded_by=user,
    )
    current = balance(invoice)
    return Status(
        201,
        {**payment_out(payment), "balance_due": str(cents(current.due)), "settlement": current.state},
    )


@router.get(
    "/payments",
    response={200: PaymentPageOut, **ERRORS},
    summary="List payments",
    description="Payments and reversals the caller may read: every one of the venues they manage or staff, "
    "and those made on documents issued to them or to their organisations. Filter by `venue` (slug) and "
    "`month` (`YYYY-MM`, by date received). Newest first; paginated with `limit` (at most 200) and `offset`.",
)
def list_payments(
    request: HttpRequest,
    venue: Slug | None = None,
    month: Month | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
):
    first = None
    if month is not None:
        year, number = (int(part) for part in month.split("-"))
        first = date(year, number, 1)
    payments = payment_selectors.visible_payments(caller(request), venue=venue_filter(venue), month=first)
    return paginate(request, payments, limit=limit, offset=offset, serialize=payment_out)


api.add_router("", router)
