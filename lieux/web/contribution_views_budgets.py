"""A contributive budget's page: its figures (committed, received, validated, paid, credit, owed, pending,
forecast, envelope left, deficit), its burn-down drawn as an accessible SVG with the same numbers as a
table, its funding sources and receipts, its payouts; what it owes the viewer, with the credit they could
take instead of euros; and the managers' part: the people the budget owes, fifty at a time, most owed
first, searchable by name or e-mail, each with a link to pay them in euros against an invoice; the latest
payouts, all of them in a CSV export for the accounts; the network credit issued at each venue, what the
budget paid the venue for it and a form to pay what is still to settle; the forms of a source, a receipt,
the closing (with the three ways out of a deficit).

Who sees what: selectors.web.budget_access. Every form posts to its own URL and, when the service refuses,
the whole page comes back with that form's error and the error's status; nothing is written."""

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, TypedDict
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from lieux.contributions.models import (
    Budget,
    BudgetStatus,
    CreditConversion,
    FundingReceipt,
    Payout,
    PayoutMethod,
)
from lieux.contributions.rules import ledger as ledger_rules
from lieux.contributions.selectors import budgets as budget_selectors
from lieux.contributions.selectors import web as web_selectors
from lieux.contributions.services import closing as closing_services
from lieux.contributions.services import funding as funding_services
from lieux.contributions.services import payouts as payout_services
from lieux.contributions.services import settlements as settlement_services
from lieux.contributions.services.budgets import ensure_budget_open
from lieux.core.errors import DomainError, NotFound
from lieux.memberships.rules.credits import CREDIT_STEP
from lieux.web import contribution_charts
from lieux.web.contribution_views import forbidden
from lieux.web.forms_billing import add_service_error
from lieux.web.forms_contributions import (
    CloseForm,
    CreditPayoutForm,
    EurosPayoutForm,
    FundingSourceForm,
    ReceiptForm,
    SettleCreditForm,
)
from lieux.web.pages import FORM_INVALID, viewer
from lieux.web.templatetags import lieux_money as money_tags

BURN_DOWN_KEYS = ("envelope_left", "ideal", "granted", "received")
OWED_PER_PAGE = 50
SEARCH_MAX = 100
PAYOUTS_LISTED = 50  # the latest on the page; every payout is in the CSV export


def budget_for(request: HttpRequest, pk: int) -> tuple[Budget, str]:
    budget = Budget.objects.select_related("network", "venue", "project").filter(pk=pk).first()
    access = web_selectors.budget_access(viewer(request), budget) if budget is not None else None
    if budget is None or access is None:
        raise Http404()
    return budget, access


# --- Pictures -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BurnDownView:
    chart: contribution_charts.LineChart
    rows: list[dict[str, Any]]  # the table: one row per step
    step: str
    description: str  # the SVG's <desc>: where the budget stands, in one sentence


def burn_down_view(budget: Budget, figures: ledger_rules.Figures) -> BurnDownView:
    series = budget_selectors.burn_down(budget)
    weekly = series.step == ledger_rules.WEEK
    steps = []
    rows = []
    for point in series.points:
        label = date_format(point.on, "j M" if weekly else "M Y")
        values = {
            "envelope_left": point.envelope_left,
            "ideal": point.ideal,
            "granted": point.granted,
            "received": point.received,
        }
        steps.append((label, values))
        rows.append(
            {
                "on": point.on,
                "committed": point.committed,
                "granted": point.granted,
                "envelope_left": point.envelope_left,
                "received": point.received,
                "ideal": point.ideal,
            }
        )
    chart = contribution_charts.line_chart(steps, keys=BURN_DOWN_KEYS)
    description = _(
        "Envelope of %(committed)s €: %(granted)s € granted, %(remaining)s € left to validate, "
        "%(received)s € received."
    ) % {
        "committed": figures.committed,
        "granted": figures.granted,
        "remaining": figures.remaining,
        "received": figures.received,
    }
    return BurnDownView(chart, rows, series.step, description)


# --- The page -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Offer:
    conversion: CreditConversion
    credits: Decimal  # what the viewer would get for everything owed
    value: Decimal  # those credits in euros
    minimum: Decimal  # the euros a quarter of a credit takes


def offers_for(budget: Budget, owed: Decimal) -> list[Offer]:
    offers = []
    for conversion in web_selectors.offered_conversions(budget):
        rate = conversion.euros_per_credit
        credits = payout_services.credit_quantity(owed, rate)
        offers.append(
            Offer(
                conversion,
                credits,
                payout_services.credit_value(credits, rate),
                payout_services.credit_value(CREDIT_STEP, rate),
            )
        )
    return offers


class PayoutLine(TypedDict):
    """A payout as its table shows it. Formatted here, once per row, and read as a dict: the template
    only prints, which keeps a manager's two hundred payouts a small part of the page's time."""

    paid_on: str
    paid_to: str
    method: str
    credit: str  # what a payout in credit bought: "6,5 × Journées de coworking — Baraka"; "" in euros
    reference: str
    amount: str


def payout_lines(payouts: QuerySet[Payout]) -> list[PayoutLine]:
    rows = payouts.values_list(
        "paid_on",
        "paid_to",
        "person__email",
        "method",
        "credit_quantity",
        "conversion__credit_type__name",
        "conversion__credit_type__venue__name",
        "invoice_reference",
        "amount",
    )
    days: dict[date, str] = {}  # payouts come in batches: a day is formatted once
    lines = []
    for paid_on, paid_to, email, method, quantity, credit_name, venue_name, reference, amount in rows:
        if paid_on not in days:
            days[paid_on] = date_format(paid_on, "j M Y")
        lines.append(
            PayoutLine(
                paid_on=days[paid_on],
                paid_to=paid_to or email,
                method=str(PayoutMethod(method).label),
                credit=f"{money_tags.quantity(quantity)} × {credit_name} — {venue_name}" if quantity else "",
                reference=reference or "—",
                amount=money_tags.euros(amount),
            )
        )
    return lines


def _page(
    request: HttpRequest,
    budget: Budget,
    access: str,
    *,
    bound: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = viewer(request)
    bound = bound or {}
    manager = access == web_selectors.MANAGE
    full = manager or access == web_selectors.FULL
    owed = budget_selectors.person_owed(budget, user.pk)
    context: dict[str, Any] = {
        "budget": budget,
        "full": full,
        "is_manager": manager,
        "owed": owed,
        "my_payouts": payout_lines(web_selectors.budget_payouts(budget, user)),
        "tab": "budgets",
    }
    if owed > 0:
        offers = offers_for(budget, owed)
        context["offers"] = offers
        context["credit_form"] = bound.get("credit") or CreditPayoutForm(conversions=_conversions(budget))
    if full:
        figures = budget_selectors.budget_figures(budget)
        context.update(
            {
                "figures": figures,
                "burn_down": burn_down_view(budget, figures),
                "sources": budget_selectors.funding_sources(budget),
                "receipts": _receipts(budget),
                "open": budget.status != BudgetStatus.CLOSED,
            }
        )
    if manager:
        today = budget_selectors.budget_today(budget)
        sources = budget.sources.filter(amount__gt=0).order_by("committed_on", "pk")
        context.update(
            {
                "payouts": payout_lines(web_selectors.budget_payouts(budget)[:PAYOUTS_LISTED]),
                **_owed_list(request, budget),
                **_euros_payout(request, budget, bound.get("euros"), today),
                **_credit_to_settle(budget, bound.get("settle"), today),
                "source_form": bound.get("source") or FundingSourceForm(initial={"committed_on": today}),
                "receipt_form": bound.get("receipt")
                or ReceiptForm(sources=sources, initial={"received_on": today}),
                "close_form": bound.get("close")
                or CloseForm(
                    next_budgets=web_selectors.other_open_budgets(budget),
                    in_deficit=context["figures"].deficit > 0,
                    initial={"top_up_committed_on": today},
                ),
            }
        )
    return render(request, "web/contributions/budget.html", context, status=status)


def _conversions(budget: Budget):
    return CreditConversion.objects.filter(network_id=budget.network_id, is_active=True).select_related(
        "credit_type__venue"
    )


def _number(value: str | None) -> int | None:
    """A page or a person's id from a query string; None for anything else, huge numbers included."""
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if 0 < number < 2**31 else None


def _owed_list(request: HttpRequest, budget: Budget) -> dict[str, Any]:
    """The page of people owed asked for by ?q= (a search by name or e-mail) and ?page=, with the links
    that keep them: to another page (the search kept), to pay someone or back (the search and page kept)."""
    search = request.GET.get("q", "").strip()[:SEARCH_MAX]
    owed = web_selectors.owed_people(
        budget, search=search, page=_number(request.GET.get("page")) or 1, per_page=OWED_PER_PAGE
    )
    pages = Paginator(range(owed.found), OWED_PER_PAGE)  # the count alone: the rows are cut in SQL
    here = reverse("web:contribution_budget", args=[budget.pk])
    kept = {"q": search} if search else {}
    shown = {**kept, "page": owed.number} if owed.number > 1 else kept
    return {
        "owed_list": owed,
        "owed_search": search,
        "owed_people_count": number_format(owed.people, force_grouping=True),
        "owed_found_count": number_format(owed.found, force_grouping=True),
        "owed_pages": pages,
        "owed_page_range": list(pages.get_elided_page_range(owed.number, on_each_side=2, on_ends=1)),
        "owed_page_link": f"{here}?{urlencode({**kept, 'page': ''})}",
        "owed_pay_link": f"{here}?{urlencode({**shown, 'pay': ''})}",
        "owed_back": f"{here}?{urlencode(shown)}" if shown else here,
    }


def _euros_payout(
    request: HttpRequest, budget: Budget, bound: EurosPayoutForm | None, today: date
) -> dict[str, Any]:
    """The payment in euros to one person: the one whose row's link was followed (?pay=), or the one of a
    refused form. A link to someone the budget owes nothing says so instead of a form."""
    if bound is not None:
        person = bound.cleaned_data.get("person")
        return {"euros_form": bound, "payee": web_selectors.owed_row(person) if person else None}
    asked = _number(request.GET.get("pay"))
    if asked is None:
        return {}
    payee = web_selectors.payee(budget, asked)
    if payee is None:
        return {"payee_unknown": True}
    form = EurosPayoutForm(
        people=web_selectors.payees(budget), initial={"person": payee.person.pk, "paid_on": today}
    )
    return {"euros_form": form, "payee": payee}


@dataclass(frozen=True)
class VenueToSettle:
    """A venue the budget owes credit to, and the form that records paying it."""

    venue: budget_selectors.VenueCredit
    form: SettleCreditForm


def _credit_to_settle(budget: Budget, bound: SettleCreditForm | None, today: date) -> dict[str, Any]:
    """The credit issued at each venue (one grouped query), and a form for each venue with something left
    to settle, its amount prefilled; a refused form comes back as it was sent."""
    venues = budget_selectors.credit_by_venue(budget)
    to_settle: list[VenueToSettle] = []
    for venue in venues:
        if bound is not None and bound.venue_id == venue.venue_id:
            to_settle.append(VenueToSettle(venue, bound))
        elif venue.to_settle > 0:
            initial = {"amount": venue.to_settle, "settled_on": today}
            to_settle.append(VenueToSettle(venue, SettleCreditForm(venue_id=venue.venue_id, initial=initial)))
    return {"venue_credit": venues, "settle_forms": to_settle}


def _receipts(budget: Budget):
    return (
        FundingReceipt.objects.filter(source__budget=budget)
        .select_related("source")
        .order_by("-received_on", "-pk")
    )


@login_required
def budget_list(request: HttpRequest) -> HttpResponse:
    budgets = list(web_selectors.budgets_for(viewer(request))[:300])
    return render(request, "web/contributions/budget_list.html", {"budgets": budgets, "tab": "budgets"})


@login_required
def budget_detail(request: HttpRequest, pk: int) -> HttpResponse:
    budget, access = budget_for(request, pk)
    return _page(request, budget, access)


@login_required
def payouts_csv(request: HttpRequest, pk: int) -> HttpResponse | StreamingHttpResponse:
    """Every payout of the budget, oldest first, for the accounts: a semicolon-separated UTF-8 file with a
    byte order mark and French decimal commas, as spreadsheets in France read it. Streamed: a budget of the
    whole network pays thousands."""
    budget, access = budget_for(request, pk)
    if access != web_selectors.MANAGE:
        return _not_a_manager(request, budget)
    header = [
        _("Paid on"),
        _("Person"),
        _("E-mail"),
        _("Paid to"),
        _("Method"),
        _("Credits"),
        _("Credit"),
        _("Venue"),
        _("Invoice"),
        _("Amount (€)"),
    ]
    rows = (
        web_selectors.budget_payouts(budget)
        .order_by("paid_on", "pk")
        .values_list(
            "paid_on",
            "person__first_name",
            "person__last_name",
            "person__email",
            "paid_to",
            "method",
            "credit_quantity",
            "conversion__credit_type__name",
            "conversion__credit_type__venue__name",
            "invoice_reference",
            "amount",
        )
    )

    def lines():
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";")
        writer.writerow(header)
        yield "\ufeff" + out.getvalue()
        for (
            paid_on,
            first,
            last,
            email,
            paid_to,
            method,
            quantity,
            credit,
            venue,
            reference,
            amount,
        ) in rows.iterator(chunk_size=2000):
            out.seek(0)
            out.truncate()
            writer.writerow(
                [
                    paid_on.isoformat(),
                    f"{first} {last}".strip(),
                    email,
                    paid_to,
                    PayoutMethod(method).label,
                    _decimal_comma(quantity),
                    credit or "",
                    venue or "",
                    reference,
                    _decimal_comma(amount),
                ]
            )
            yield out.getvalue()

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="retributions-{budget.slug}.csv"'
    return response


def _decimal_comma(value: Decimal | None) -> str:
    return "" if value is None else str(value).replace(".", ",")


# --- The forms ----------------------------------------------------------------------------------------


def _not_a_manager(request: HttpRequest, budget: Budget) -> HttpResponse:
    return forbidden(
        request,
        _("Only the budget's managers may do this."),
        back=reverse("web:contribution_budget", args=[budget.pk]),
    )


def _done(request: HttpRequest, budget: Budget, message: str) -> HttpResponse:
    messages.success(request, message)
    return redirect("web:contribution_budget", pk=budget.pk)


def _refused(request, budget, access, name, form, error: DomainError) -> HttpResponse:
    if isinstance(error, NotFound):
        raise Http404() from error
    add_service_error(form, error)
    return _page(request, budget, access, bound={name: form}, status=error.status)


def _submitted(
    request: HttpRequest,
    budget: Budget,
    access: str,
    name: str,
    form: forms.Form,
    act: Callable[[dict[str, Any]], str],
) -> HttpResponse:
    """Every form of the page: a bad form, or a service that refuses, brings the whole page back with that
    form's errors and nothing written; `act` does the work with the cleaned data and says what was done."""
    if not form.is_valid():
        return _page(request, budget, access, bound={name: form}, status=FORM_INVALID)
    try:
        message = act(form.cleaned_data)
    except DomainError as error:
        return _refused(request, budget, access, name, form, error)
    return _done(request, budget, message)


def _for_managers(request: HttpRequest, pk: int) -> tuple[Budget, str, HttpResponse | None]:
    """The budget, what the viewer may see of it, and the refusal to give when they do not manage it."""
    budget, access = budget_for(request, pk)
    return budget, access, None if access == web_selectors.MANAGE else _not_a_manager(request, budget)


@login_required
@require_POST
def add_source(request: HttpRequest, pk: int) -> HttpResponse:
    budget, access, refusal = _for_managers(request, pk)
    if refusal is not None:
        return refusal

    def act(data: dict[str, Any]) -> str:
        source = funding_services.add_funding_source(
            budget=budget,
            name=data["name"],
            kind=data["kind"],
            amount=data["amount"],
            committed_on=data["committed_on"],
            funder=data.get("funder", ""),
            actor=viewer(request),
        )
        return _("The funding source %(name)s is added.") % {"name": source.name}

    return _submitted(request, budget, access, "source", FundingSourceForm(request.POST), act)


@login_required
@require_POST
def add_receipt(request: HttpRequest, pk: int) -> HttpResponse:
    budget, access, refusal = _for_managers(request, pk)
    if refusal is not None:
        return refusal

    def act(data: dict[str, Any]) -> str:
        funding_services.record_receipt(
            source=data["source"],
            amount=data["amount"],
            received_on=data["received_on"],
            reference=data.get("reference", ""),
            actor=viewer(request),
        )
        return _("The receipt is recorded.")

    form = ReceiptForm(request.POST, sources=budget.sources.filter(amount__gt=0))
    return _submitted(request, budget, access, "receipt", form, act)


@login_required
@require_POST
def pay_euros(request: HttpRequest, pk: int) -> HttpResponse:
    budget, access, refusal = _for_managers(request, pk)
    if refusal is not None:
        return refusal

    def act(data: dict[str, Any]) -> str:
        payout = payout_services.pay_in_euros(
            budget=budget,
            person=data["person"],
            invoice_reference=data["invoice_reference"],
            paid_on=data["paid_on"],
            to_structure=data["to_structure"],
            actor=viewer(request),
        )
        return _("Payment of %(amount)s € to %(name)s recorded.") % {
            "amount": payout.amount,
            "name": payout.paid_to,
        }

    form = EurosPayoutForm(request.POST, people=web_selectors.payees(budget))
    return _submitted(request, budget, access, "euros", form, act)


@login_required
@require_POST
def settle_credit(request: HttpRequest, pk: int, venue_pk: int) -> HttpResponse:
    """A manager records that the budget paid a venue, against its invoice, for the credit it honours."""
    budget, access, refusal = _for_managers(request, pk)
    if refusal is not None:
        return refusal
    venue = budget_selectors.venue_with_credit(budget, venue_pk)
    if venue is None:
        raise Http404()

    def act(data: dict[str, Any]) -> str:
        settlement = settlement_services.settle_credit(
            budget=budget,
            venue=venue,
            amount=data["amount"],
            reference=data["reference"],
            settled_on=data["settled_on"],
            actor=viewer(request),
        )
        return _("Payment of %(amount)s € to %(venue)s recorded for the credit it honours.") % {
            "amount": settlement.amount,
            "venue": venue.name,
        }

    form = SettleCreditForm(request.POST, venue_id=venue.pk)
    return _submitted(request, budget, access, "settle", form, act)


@login_required
@require_POST
def pay_credit(request: HttpRequest, pk: int) -> HttpResponse:
    """The contributor's own choice: everything the budget owes them, as booking credit at a venue."""
    budget, access = budget_for(request, pk)

    def act(data: dict[str, Any]) -> str:
        payout = payout_services.pay_in_credit(
            budget=budget,
            person=viewer(request),
            conversion=data["conversion"],
            request_key=request.POST.get("request_key") or None,
            actor=viewer(request),
        )
        return _("%(credits)s credits granted at %(venue)s (%(amount)s €).") % {
            "credits": payout.credit_quantity,
            "venue": data["conversion"].credit_type.venue.name,
            "amount": payout.amount,
        }

    form = CreditPayoutForm(request.POST, conversions=_conversions(budget))
    return _submitted(request, budget, access, "credit", form, act)


@login_required
@require_POST
def close(request: HttpRequest, pk: int) -> HttpResponse:
    budget, access, refusal = _for_managers(request, pk)
    if refusal is not None:
        return refusal
    figures = budget_selectors.budget_figures(budget)

    def act(data: dict[str, Any]) -> str:
        method = data.get("method") or None
        top_up = None
        if method == "top_up":
            top_up = closing_services.TopUp(
                name=data["top_up_name"],
                amount=data["top_up_amount"],
                committed_on=data["top_up_committed_on"],
                kind=data.get("top_up_kind") or "other",
                funder=data.get("top_up_funder", ""),
            )
        ensure_budget_open(budget)
        closing_services.close_budget(
            budget=budget,
            method=method,
            next_budget=data.get("next_budget") if method == "carry_over" else None,
            top_up=top_up,
            actor=viewer(request),
        )
        return _("The budget is closed.")

    form = CloseForm(
        request.POST, next_budgets=web_selectors.other_open_budgets(budget), in_deficit=figures.deficit > 0
    )
    return _submitted(request, budget, access, "close", form, act)
