"""Pages about invoices: a member's own (list, detail, PDF) and a venue team's (invoices with filters and
the totals of the last months, one invoice with its credit notes, the billing run with its preview).

Reads go through billing.selectors, so a document the viewer may not read is a 404 like a number never
issued; writes go through one service call each, and a refused call is shown on its form."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from lieux.billing import providers, selectors
from lieux.billing.models import DocumentKind, Invoice, InvoiceStatus
from lieux.billing.services.credit_notes import credited_amount, issue_credit_note
from lieux.billing.services.drafts import DraftLine
from lieux.core.errors import DomainError, NotFound
from lieux.core.time import now
from lieux.memberships.services.billing_run import RunReport, run_billing
from lieux.venues.models import Venue
from lieux.web import charts
from lieux.web.forms_billing import BillingRunForm, CreditNoteForm, InvoiceFilterForm, add_service_error
from lieux.web.pages import FORM_INVALID, page_of, query_without_page, staffed_venue, viewer
from lieux.web.settlement import invoice_settlement, member_settlement, with_balances

INVOICES_PAGE = 25
VENUE_INVOICES_PAGE = 50
CHART_MONTHS = 12
# A preview lists what it would do per subscription; beyond this the page only gives the totals.
PREVIEW_LINES = 300


# --- The PDF, for whoever may read the invoice -----------------------------------------------------------


@login_required
def invoice_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The PDF/A-3 with its Factur-X XML, as a download named after the number."""
    try:
        invoice = selectors.invoice_for(viewer(request), pk)
    except NotFound as error:
        raise Http404() from error
    if not invoice.is_issued:
        raise Http404()
    from lieux.billing.services.delivery import document_for

    document = document_for(invoice)
    response = HttpResponse(bytes(document.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{invoice.number}.pdf"'
    return response


# --- A member's invoices ---------------------------------------------------------------------------------


@login_required
def my_invoices(request: HttpRequest) -> HttpResponse:
    page = page_of(request, selectors.buyer_invoices(viewer(request)), INVOICES_PAGE)
    return render(
        request,
        "web/member/invoices.html",
        {"page": page, "query": query_without_page(request), "tab": "invoices"},
    )


@login_required
def my_invoice(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = selectors.buyer_invoices(viewer(request)).filter(pk=pk).prefetch_related("lines").first()
    if invoice is None:
        raise Http404()
    context = {
        "invoice": invoice,
        "credit_notes": list(selectors.credit_notes_of(invoice).filter(status=InvoiceStatus.ISSUED)),
        "tab": "invoices",
        "settlement": member_settlement(invoice),
        "pays_online": providers.is_enabled("stripe"),
    }
    return render(request, "web/member/invoice.html", context)


# --- A venue's invoices ----------------------------------------------------------------------------------


def _month_chart(venue: Venue) -> tuple[charts.ColumnChart, list[selectors.MonthTotal]]:
    today = now().astimezone(venue.tz).date()
    totals = selectors.monthly_totals(venue, last=today, months=CHART_MONTHS)
    values = []
    for month in totals:
        first = today.replace(year=month.year, month=month.month, day=1)
        values.append(
            (
                date_format(first, "M"),
                _("%(month)s: %(invoiced)s € invoiced, %(credited)s € credited")
                % {
                    "month": date_format(first, "F Y"),
                    "invoiced": month.invoiced,
                    "credited": month.credited,
                },
                month.invoiced,
                month.credited,
            )
        )
    return charts.column_chart(values), totals


@login_required
def manage_invoices(request: HttpRequest, venue_slug: str) -> HttpResponse:
    venue = staffed_venue(request, venue_slug)
    form = InvoiceFilterForm(request.GET or None)
    filters = {}
    status = 200
    if form.is_bound:
        if form.is_valid():
            data = form.cleaned_data
            filters = {
                "status": data["status"] or None,
                "kind": data["kind"] or None,
                "search": data["q"].strip(),
                "issued_from": data["issued_from"],
                "issued_to": data["issued_to"],
            }
        else:
            status = FORM_INVALID
    chart, totals = _month_chart(venue)
    context = {
        "venue": venue,
        "form": form,
        "page": with_balances(
            page_of(request, selectors.venue_invoices(venue, **filters), VENUE_INVOICES_PAGE)
        ),
        "query": query_without_page(request),
        "chart": chart,
        "totals": totals,
        "tab": "invoices",
    }
    return render(request, "web/manage/invoices.html", context, status=status)


def _venue_invoice(venue: Venue, pk: int) -> Invoice:
    invoice = selectors.venue_invoices(venue).filter(pk=pk).prefetch_related("lines").first()
    if invoice is None:
        raise Http404()
    return invoice


def _single_rate(invoice: Invoice) -> Decimal | None:
    """The VAT rate of every line, when they share one: a partial credit note is then one line at it."""
    rates = {line.vat_rate for line in invoice.lines.all()}
    return rates.pop() if len(rates) == 1 else None


def _invoice_page(
    request: HttpRequest,
    venue: Venue,
    invoice: Invoice,
    *,
    credit_form=None,
    status: int = 200,
    **settlement_forms,
) -> HttpResponse:
    creditable = invoice.is_issued and invoice.kind == DocumentKind.INVOICE
    credited = credited_amount(invoice) if creditable else Decimal(0)
    context = {
        "venue": venue,
        "invoice": invoice,
        "credit_notes": list(selectors.credit_notes_of(invoice).filter(status=InvoiceStatus.ISSUED)),
        "credited": credited,
        "creditable": creditable and credited < invoice.gross_amount,
        "tab": "invoices",
        "credit_form": credit_form or CreditNoteForm(partial_allowed=_single_rate(invoice) is not None),
        **invoice_settlement(invoice, today=now().astimezone(venue.tz).date(), **settlement_forms),
    }
    return render(request, "web/manage/invoice.html", context, status=status)


@login_required
def manage_invoice(request: HttpRequest, venue_slug: str, pk: int) -> HttpResponse:
    venue = staffed_venue(request, venue_slug)
    return _invoice_page(request, venue, _venue_invoice(venue, pk))


@login_required
@require_POST
def manage_credit_note(request: HttpRequest, venue_slug: str, pk: int) -> HttpResponse:
    venue = staffed_venue(request, venue_slug)
    invoice = _venue_invoice(venue, pk)
    rate = _single_rate(invoice)
    form = CreditNoteForm(request.POST, partial_allowed=rate is not None)
    if not form.is_valid():
        return _invoice_page(request, venue, invoice, credit_form=form, status=FORM_INVALID)
    data = form.cleaned_data
    lines = None
    if data["scope"] == CreditNoteForm.PARTIAL and rate is not None:
        lines = [
            DraftLine(
                description=data["reason"].strip()[:300],
                quantity=Decimal(1),
                unit_net_amount=data["net_amount"],
                vat_rate=rate,
                service_from=invoice.service_from,
                service_to=invoice.service_to,
            )
        ]
    try:
        note = issue_credit_note(invoice, reason=data["reason"].strip(), lines=lines, actor=viewer(request))
    except DomainError as error:
        add_service_error(form, error)
        return _invoice_page(request, venue, invoice, credit_form=form, status=error.status)
    messages.success(request, _("Credit note %(number)s is issued.") % {"number": note.number})
    return redirect("web:manage_invoice", venue_slug=venue.slug, pk=note.pk)


# --- The billing run -------------------------------------------------------------------------------------


@dataclass
class Printed:
    """What a run printed along the way, kept for the page (the first lines, and how many more)."""

    lines: list[str] = field(default_factory=list)
    more: int = 0

    def say(self, line: str) -> None:
        if len(self.lines) < PREVIEW_LINES:
            self.lines.append(line)
        else:
            self.more += 1


@login_required
def manage_billing_run(request: HttpRequest, venue_slug: str) -> HttpResponse:
    """Choose a month, preview what the run would issue (a dry run: nothing written), then confirm. The run
    itself may be repeated: each period is invoiced once, whatever happens."""
    venue = staffed_venue(request, venue_slug)
    today = now().astimezone(venue.tz).date()
    status = 200
    report: RunReport | None = None
    printed = Printed()
    invoices: list[Invoice] = []
    if request.method == "POST":
        form = BillingRunForm(request.POST)
        if form.is_valid():
            period, action = form.cleaned_data["period"], form.cleaned_data["action"]
            dry_run = action != BillingRunForm.RUN
            report = run_billing(period=period, venue=venue, dry_run=dry_run, progress=printed.say)
            if not dry_run:
                invoices = list(
                    Invoice.objects.filter(pk__in=report.invoice_ids, venue=venue)
                    .select_related("buyer_user", "buyer_organisation")
                    .order_by("number")
                )
                messages.success(
                    request,
                    _("Billing run done: %(count)s invoices issued.") % {"count": report.invoices},
                )
        else:
            status = FORM_INVALID
    else:
        form = BillingRunForm(initial={"period": f"{today:%Y-%m}"})
    context = {
        "venue": venue,
        "form": form,
        "report": report,
        "printed": printed,
        "totals": report.venues.get(venue.slug) if report is not None else None,
        "invoices": invoices,
        "tab": "run",
        "invoices_url": reverse("web:manage_invoices", args=[venue.slug]),
    }
    return render(request, "web/manage/billing_run.html", context, status=status)
