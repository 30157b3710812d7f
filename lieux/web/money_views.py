"""Payments, accounting exports and SEPA: a venue team records and reverses payments by hand and lists
them, downloads the FEC, the journal and the VAT summary, checks the footprint chain and its closings, and
reads its mandates and debit batches; a member signs the SEPA mandate of a venue they belong to.

Reads go through the billing selectors and writes through one service call each; a refused call is shown
on its form with the status of the domain error, and nothing is written."""

import csv
import io
from dataclasses import dataclass
from datetime import date
from itertools import islice
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from lieux.billing import payment_selectors
from lieux.billing.models import (
    BillingProfile,
    DirectDebitBatch,
    Invoice,
    InvoiceStatus,
    Payment,
    PeriodClosing,
)
from lieux.billing.services import chain
from lieux.billing.services.closing import verify_closings
from lieux.billing.services.fec import build_fec
from lieux.billing.services.journal import build_journal
from lieux.billing.services.mandates import active_mandate_for, register_mandate, revoke_mandate
from lieux.billing.services.payments import record_payment, reverse_payment
from lieux.billing.services.vat_summary import VatRow, VatSummary, vat_summary
from lieux.core.errors import DomainError
from lieux.core.money import ZERO
from lieux.core.time import now
from lieux.venues.models import Venue
from lieux.web.billing_views import _invoice_page, _venue_invoice
from lieux.web.forms_billing import add_service_error
from lieux.web.forms_money import (
    FecForm,
    JournalForm,
    MandateForm,
    PaymentFilterForm,
    PaymentForm,
    ReversalForm,
    VatForm,
)
from lieux.web.pages import FORM_INVALID, page_of, query_without_page, staffed_venue, viewer
from lieux.web.settlement import reversal_prefix
from lieux.web.templatetags.lieux_money import euros

PAYMENTS_PAGE = 50
# The verification page lists the first breaches found; one is already enough to call the accountant.
BREACHES_SHOWN = 50


def local_today(venue: Venue) -> date:
    return now().astimezone(venue.tz).date()


# --- Payments of one invoice -----------------------------------------------------------------------------


def _back_to(venue: Venue, invoice_pk: int) -> HttpResponse:
    return redirect(reverse("web:manage_invoice", args=[venue.slug, invoice_pk]) + "#payments")


@login_required
@require_POST
def manage_record_payment(request: HttpRequest, venue_slug: str, pk: int) -> HttpResponse:
    venue = staffed_venue(request, venue_slug)
    invoice = _venue_invoice(venue, pk)
    form = PaymentForm(request.POST, today=local_today(venue))
    if not form.is_valid():
        return _invoice_page(request, venue, invoice, payment_form=form, status=FORM_INVALID)
    data = form.cleaned_data
    try:
        payment = record_payment(
            invoice,
            amount=data["amount"],
            method=data["method"],
            received_on=data["received_on"],
            reference=data["reference"].strip(),
            recorded_by=viewer(request),
        )
    except DomainError as error:
        add_service_error(form, error)
        if not payment_selectors.settles(invoice):
            # A draft or a credit note has no payment form to show the refusal on.
            messages.error(request, str(error.message))
        return _invoice_page(request, venue, invoice, payment_form=form, status=error.status)
    messages.success(
        request,
        _("A payment of %(amount)s is recorded on %(number)s.")
        % {"amount": euros(payment.amount), "number": invoice.number},
    )
    return _back_to(venue, invoice.pk)


@login_required
@require_POST
def manage_reverse_payment(request: HttpRequest, venue_slug: str, pk: int, payment_pk: int) -> HttpResponse:
    venue = staffed_venue(request, venue_slug)
    invoice = _venue_invoice(venue, pk)
    payment = Payment.objects.filter(pk=payment_pk, invoice=invoice, venue=venue).first()
    if payment is None:
        raise Http404()
    form = ReversalForm(request.POST, prefix=reversal_prefix(payment.pk))
    if not form.is_valid():
        return _invoice_page(request, venue, invoice, reversal_form=form, status=FORM_INVALID)
    data = form.cleaned_data
    try:
        reversal = reverse_payment(
            payment, reason=data["reason"], on=data["on"], amount=data["amount"], recorded_by=viewer(request)
        )
    except DomainError as error:
        add_service_error(form, error)
        return _invoice_page(request, venue, invoice, reversal_form=form, status=error.status)
    messages.success(
        request, _("%(amount)s of the payment are reversed.") % {"amount": euros(-reversal.amount)}
    )
    return _back_to(venue, invoice.pk)


# --- A venue's payments ----------------------------------------------------------------------------------


@login_required
def manage_payments(request: HttpRequest, venue_slug: str) -> HttpResponse:
    venue = staffed_venue(request, venue_slug)
    form = PaymentFilterForm(request.GET or None)
    filters: dict[str, Any] = {}
    status = 200
    if form.is_bound:
        if form.is_valid():
            filters = {"month": form.cleaned_data["month"], "method": form.cleaned_data["method"] or None}
        else:
            status = FORM_INVALID
    payments = payment_selectors.venue_payments(venue, **filters)
    totals = payments.aggregate(
        received=Sum("amount", filter=Q(amount__gt=0)), reversed=Sum("amount", filter=Q(amount__lt=0))
    )
    received, reversed_ = totals["received"] or ZERO, -(totals["reversed"] or ZERO)
    context = {
        "venue": venue,
        "form": form,
        "page": page_of(request, payments, PAYMENTS_PAGE),
        "query": query_without_page(request),
        "received": received,
        "reversed": reversed_,
        "net": received - reversed_,
        "tab": "payments",
    }
    return render(request, "web/manage/payments.html", context, status=status)


# --- Accounting exports ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainCheck:
    documents: int
    breaches: list[str]
    more: bool

    @property
    def intact(self) -> bool:
        return not self.breaches


def _exports_page(
    request: HttpRequest,
    venue: Venue,
    *,
    status: int = 200,
    fec_form: FecForm | None = None,
    journal_form: JournalForm | None = None,
    vat_form: VatForm | None = None,
    summary: VatSummary | None = None,
    check: ChainCheck | None = None,
) -> HttpResponse:
    today = local_today(venue)
    last_year = today.year - 1
    context = {
        "venue": venue,
        "tab": "exports",
        "has_siren": bool(venue.siren),
        "fec_form": fec_form or FecForm(initial={"year": last_year}),
        "journal_form": journal_form or JournalForm(initial={"start": today.replace(day=1), "end": today}),
        "vat_form": vat_form or VatForm(initial={"period": f"{today:%Y-%m}"}),
        "summary": summary,
        "summary_tables": _vat_tables(summary) if summary is not None else [],
        "check": check,
        "closings": PeriodClosing.objects.filter(venue=venue)
        .select_related("closed_by")
        .order_by("-period_start"),
    }
    return render(request, "web/manage/exports.html", context, status=status)


@login_required
def manage_exports(request: HttpRequest, venue_slug: str) -> HttpResponse:
    return _exports_page(request, staffed_venue(request, venue_slug))


@login_required
def manage_chain_check(request: HttpRequest, venue_slug: str) -> HttpResponse:
    """Recompute the footprint chain of the venue's issued documents and of its closings."""
    venue = staffed_venue(request, venue_slug)
    found = [str(b) for b in islice(_breaches(venue), BREACHES_SHOWN + 1)]
    check = ChainCheck(
        documents=Invoice.objects.filter(venue=venue, status=InvoiceStatus.ISSUED).count(),
        breaches=found[:BREACHES_SHOWN],
        more=len(found) > BREACHES_SHOWN,
    )
    return _exports_page(request, venue, check=check)


def _breaches(venue: Venue):
    yield from chain.verify(venue.pk)
    yield from verify_closings(venue.pk)


def _download(content: bytes, *, name: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
def export_fec(request: HttpRequest, venue_slug: str) -> HttpResponse:
    venue = staffed_venue(request, venue_slug)
    form = FecForm(request.GET)
    if not form.is_valid():
        return _exports_page(request, venue, fec_form=form, status=FORM_INVALID)
    year, encoding = form.cleaned_data["year"], form.cleaned_data["encoding"]
    try:
        fec = build_fec(venue=venue, start=date(year, 1, 1), end=date(year, 12, 31), encoding=encoding)
    except DomainError as error:
        add_service_error(form, error)
        return _exports_page(request, venue, fec_form=form, status=error.status)
    return _download(fec.content, name=fec.name, content_type=f"text/plain; charset={encoding}")


@login_required
def export_journal(request: HttpRequest, venue_slug: str) -> HttpResponse:
    venue = staffed_venue(request, venue_slug)
    form = JournalForm(request.GET)
    if not form.is_valid():
        return _exports_page(request, venue, journal_form=form, status=FORM_INVALID)
    start, end, delimiter = (form.cleaned_data[k] for k in ("start", "end", "delimiter"))
    try:
        content = build_journal(
            venue=venue, start=start, end=end, delimiter=delimiter, decimal_comma=delimiter != ","
        )
    except DomainError as error:
        add_service_error(form, error)
        return _exports_page(request, venue, journal_form=form, status=error.status)
    return _download(
        content,
        name=f"journal-{venue.slug}-{start:%Y%m%d}-{end:%Y%m%d}.csv",
        content_type="text/csv; charset=utf-8",
    )


def _vat_tables(summary: VatSummary) -> list[dict[str, Any]]:
    def table(key: str, title: str, rows: tuple[VatRow, ...]) -> dict[str, Any]:
        net, vat = VatSummary.totals(rows)
        due = rows is summary.due
        return {"key": key, "title": title, "rows": rows, "net": net, "vat": vat, "due": due}

    return [
        table("issue", _("By issue date: invoices minus credit notes"), summary.by_issue_date),
        table("payment", _("By payment: received minus paid back"), summary.by_payment),
    ]


def _vat_csv(summary: VatSummary) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(
        [
            _("Basis"),
            _("VAT regime"),
            _("VAT rate"),
            _("Added excl. VAT"),
            _("Added VAT"),
            _("Deducted excl. VAT"),
            _("Deducted VAT"),
            _("Net excl. VAT"),
            _("Net VAT"),
            _("Due"),
        ]
    )
    for basis, rows in (("issue_date", summary.by_issue_date), ("payment", summary.by_payment)):
        due = _("yes") if rows is summary.due else _("no")
        for row in rows:
            amounts = (
                row.rate,
                row.added_net,
                row.added_vat,
                row.deducted_net,
                row.deducted_vat,
                row.net_amount,
                row.vat_amount,
            )
            writer.writerow([basis, row.regime, *(str(a).replace(".", ",") for a in amounts), due])
    # With a byte-order mark, spreadsheets open the file as UTF-8.
    return out.getvalue().encode("utf-8-sig")


@login_required
def export_vat(request: HttpRequest, venue_slug: str) -> HttpResponse:
    venue = staffed_venue(request, venue_slug)
    form = VatForm(request.GET)
    if not form.is_valid():
        return _exports_page(request, venue, vat_form=form, status=FORM_INVALID)
    start, end = form.cleaned_data["period"]
    try:
        summary = vat_summary(venue=venue, start=start, end=end)
    except DomainError as error:
        add_service_error(form, error)
        return _exports_page(request, venue, vat_form=form, status=error.status)
    if request.GET.get("action") != VatForm.DOWNLOAD:
        return _exports_page(request, venue, vat_form=form, summary=summary)
    return _download(
        _vat_csv(summary),
        name=f"tva-{venue.slug}-{start:%Y%m%d}-{end:%Y%m%d}.csv",
        content_type="text/csv; charset=utf-8",
    )


# --- SEPA, for the team ----------------------------------------------------------------------------------


@login_required
def manage_sepa(request: HttpRequest, venue_slug: str) -> HttpResponse:
    venue = staffed_venue(request, venue_slug)
    profile = BillingProfile.objects.filter(venue=venue).first()
    context = {
        "venue": venue,
        "tab": "sepa",
        "creditor_id": profile.sepa_creditor_id if profile else "",
        "mandates": page_of(request, payment_selectors.venue_mandates(venue), PAYMENTS_PAGE),
        "batches": list(payment_selectors.venue_debit_batches(venue)[:100]),
    }
    return render(request, "web/manage/sepa.html", context)


@login_required
def sepa_batch_xml(request: HttpRequest, venue_slug: str, pk: int) -> HttpResponse:
    """The pain.008 file of a batch as it was handed to the bank."""
    venue = staffed_venue(request, venue_slug)
    batch = get_object_or_404(DirectDebitBatch, pk=pk, venue=venue)
    return _download(
        batch.xml.encode("utf-8"), name=f"{batch.message_id}.xml", content_type="application/xml"
    )


# --- A member's SEPA mandates ----------------------------------------------------------------------------


def _creditor_id(venue: Venue) -> str:
    profile = BillingProfile.objects.filter(venue=venue).first()
    return profile.sepa_creditor_id if profile else ""


def _member_venues(user) -> list[Venue]:
    """The venues a person belongs to or subscribes at: those whose mandate they may sign."""
    return list(
        Venue.objects.filter(Q(roles__user=user) | Q(subscriptions__member=user)).distinct().order_by("name")
    )


def _member_venue(request: HttpRequest, venue_slug: str) -> Venue:
    for venue in _member_venues(viewer(request)):
        if venue.slug == venue_slug:
            return venue
    raise Http404()


@login_required
def my_mandates(request: HttpRequest) -> HttpResponse:
    user = viewer(request)
    rows = []
    for venue in _member_venues(user):
        rows.append(
            {
                "venue": venue,
                "creditor_id": _creditor_id(venue),
                "mandate": active_mandate_for(venue, user=user),
            }
        )
    return render(request, "web/member/mandates.html", {"rows": rows, "tab": "mandate"})


@login_required
def sign_mandate(request: HttpRequest, venue_slug: str) -> HttpResponse:
    """The mandate's text with the creditor's name and identifier, then the account to debit."""
    venue = _member_venue(request, venue_slug)
    user = viewer(request)
    creditor_id = _creditor_id(venue)
    if not creditor_id:
        raise Http404()  # the venue does not collect by direct debit
    status = 200
    if request.method == "POST":
        form = MandateForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                mandate = register_mandate(
                    venue,
                    debtor_user=user,
                    debtor_name=data["debtor_name"],
                    iban=data["iban"],
                    bic=data["bic"],
                    signed_on=local_today(venue),
                    actor=user,
                )
            except DomainError as error:
                add_service_error(form, error)
                status = error.status
            else:
                messages.success(
                    request,
                    _("Your mandate %(reference)s is signed: %(venue)s may now debit your account.")
                    % {"reference": mandate.reference, "venue": venue.name},
                )
                return redirect("web:my_mandates")
        else:
            status = FORM_INVALID
    else:
        form = MandateForm(initial={"debtor_name": user.get_full_name()})
    context = {
        "venue": venue,
        "creditor_id": creditor_id,
        "current": active_mandate_for(venue, user=user),
        "form": form,
        "tab": "mandate",
    }
    return render(request, "web/member/mandate_sign.html", context, status=status)


@login_required
@require_POST
def revoke_my_mandate(request: HttpRequest, venue_slug: str) -> HttpResponse:
    """The debtor ends their mandate; debits already at the bank still go through, announced ones do not."""
    venue = _member_venue(request, venue_slug)
    user = viewer(request)
    mandate = active_mandate_for(venue, user=user)
    if mandate is None:
        raise Http404()
    revoke_mandate(mandate, on=local_today(venue), actor=user)
    messages.success(
        request,
        _("Your mandate %(reference)s is revoked: %(venue)s will no longer debit your account.")
        % {"reference": mandate.reference, "venue": venue.name},
    )
    return redirect("web:my_mandates")
