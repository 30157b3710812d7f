"""The network's clearing page: visits per month, the month's visit matrix as a heat map, net balances over
time, the month's statement with its key, what each pair of venues owes for visits and for credits used at
a partner, transfers and invoices; network admins compute and close a month.
Its key page lists the versions of the clearing key and lets network admins record a new vote, through the
same service as `lieux clearing key`.

Who sees what (kept simple on purpose): a network admin sees everything. A venue's manager sees the rows
and columns of the matrix that involve their venue in full, and for the other venues only their totals; of
the statement, their own venue's line, pairs and transfers, and the network totals. Anybody else gets a
404."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from lieux.core.errors import DomainError
from lieux.core.money import ZERO
from lieux.core.time import now
from lieux.interlieux.clearing import selectors
from lieux.interlieux.clearing.models import ClearingKey, ClearingStatement, SettlementLine
from lieux.interlieux.clearing.services.close import close_month
from lieux.interlieux.clearing.services.explain import (
    PairParts,
    pair_parts,
    recompute,
    stored_cells,
    venue_names,
)
from lieux.interlieux.clearing.services.keys import vote_key
from lieux.interlieux.clearing.services.run import run_clearing
from lieux.venues.models import Network, Venue
from lieux.web import access, charts
from lieux.web.clearing_charts import heat_level, signed_column_chart
from lieux.web.forms_billing import add_service_error
from lieux.web.forms_interlieux import ClearingKeyForm
from lieux.web.pages import FORM_INVALID, viewer

MONTHS_SHOWN = 12


@dataclass(frozen=True)
class HeatCell:
    host: Venue
    value: int | None  # None: hidden from this viewer
    level: int


@dataclass(frozen=True)
class HeatRow:
    home: Venue
    cells: list[HeatCell | None]  # None on the diagonal (a venue's own members are not cleared)
    total: int


@dataclass(frozen=True)
class PairRow:
    payer: str
    payee: str
    parts: PairParts


def _pair_rows(
    statement: ClearingStatement, parts: list[PairParts], *, visible: set[int] | None
) -> list[PairRow]:
    """The pairs the viewer may see (`visible` None: all), with the names the statement stored, by name."""
    names = venue_names(statement)
    rows = [
        PairRow(names.get(p.payer, f"#{p.payer}"), names.get(p.payee, f"#{p.payee}"), p)
        for p in parts
        if visible is None or p.payer in visible or p.payee in visible
    ]
    return sorted(rows, key=lambda row: (row.payer, row.payee))


def _month_from(request: HttpRequest) -> date:
    text = request.GET.get("mois", "")
    try:
        year, month = (int(part) for part in text.split("-"))
        return date(year, month, 1)
    except ValueError:
        # By default the month just over: the one a network closes.
        return (timezone.localdate(now()).replace(day=1) - timedelta(days=1)).replace(day=1)


def _shift(month: date, months: int) -> date:
    for _step in range(abs(months)):
        month = (
            (month + timedelta(days=32)).replace(day=1)
            if months > 0
            else (month - timedelta(days=1)).replace(day=1)
        )
    return month


def _viewer_scope(request: HttpRequest, network: Network) -> tuple[bool, set[int]]:
    user = viewer(request)
    admin = selectors.is_network_admin(user, network)
    managed = selectors.managed_venue_ids(user, network)
    if not admin and not managed:
        raise Http404()
    return admin, managed


def _heat_rows(venues: list[Venue], view: selectors.MatrixView) -> list[HeatRow]:
    rows = []
    for home in venues:
        cells: list[HeatCell | None] = []
        for host in venues:
            if home.pk == host.pk:
                cells.append(None)
                continue
            value = view.cells[(home.pk, host.pk)]
            cells.append(HeatCell(host, value, heat_level(value, view.highest)))
        rows.append(HeatRow(home, cells, view.row_totals.get(home.pk, 0)))
    return rows


def _visits_chart(network: Network, venue: Venue | None, month: date) -> tuple[charts.ColumnChart, list]:
    months = selectors.visits_per_month(network, venue=venue, last=month, months=MONTHS_SHOWN)
    values = [
        (
            date_format(m.month, "M"),
            _("%(month)s: %(visits)s visits, of which %(cross)s by members of other venues")
            % {"month": date_format(m.month, "F Y"), "visits": m.visits, "cross": m.cross},
            Decimal(m.visits),
            Decimal(m.cross),
        )
        for m in months
    ]
    return charts.column_chart(values), months


def _balance_chart(network: Network, venue: Venue | None, month: date):
    """Net balance of `venue` per month, from the statements; for the whole network, the amount
    transferred per month (balances of a network sum to zero)."""
    first = _shift(month, -(MONTHS_SHOWN - 1))
    statements = {
        s.month: s for s in selectors.statements(network).filter(month__gte=first, month__lte=month)
    }
    nets: dict[date, Decimal] = {}
    if venue is not None:
        nets = dict(
            SettlementLine.objects.filter(statement__in=list(statements.values()), venue=venue).values_list(
                "statement__month", "net"
            )
        )
    values = []
    rows = []
    current = first
    while current <= month:
        statement = statements.get(current)
        if venue is not None:
            amount = nets.get(current, ZERO)
        else:
            amount = statement.cleared_amount if statement else ZERO
        title = _("%(month)s: %(amount)s €") % {"month": date_format(current, "F Y"), "amount": amount}
        if statement is None:
            title = _("%(month)s: no statement") % {"month": date_format(current, "F Y")}
        values.append((date_format(current, "M"), title, amount))
        rows.append((current, statement, amount))
        current = _shift(current, 1)
    return signed_column_chart(values), rows


@login_required
def network_clearing(request: HttpRequest, network_slug: str) -> HttpResponse:
    network = get_object_or_404(Network, slug=network_slug)
    admin, managed = _viewer_scope(request, network)
    venues = selectors.network_venues(network)
    month = _month_from(request)
    statement = selectors.statement_for(network, month)
    cells = stored_cells(statement) if statement else selectors.visit_matrix(network, month)
    view = selectors.matrix_view(venues, cells, visible=None if admin else managed)

    by_slug = {v.slug: v for v in venues}
    chosen = by_slug.get(request.GET.get("lieu", ""))
    if chosen is not None and not admin and chosen.pk not in managed:
        chosen = None
    if chosen is None and not admin:
        chosen = next(v for v in venues if v.pk in managed)
    visits_chart, visit_months = _visits_chart(network, chosen, month)
    balance_chart, balance_rows = _balance_chart(network, chosen, month)

    lines: list[SettlementLine] = []
    transfers = []
    pairs: list[PairRow] = []
    credit_bookings, credits_amount = 0, ZERO
    consistent = None
    if statement is not None:
        lines = list(statement.lines.select_related("venue").order_by("venue__name"))
        transfers = list(
            statement.transfers.select_related("debtor", "creditor", "invoice").order_by("-amount")
        )
        if not admin:
            lines = [line for line in lines if line.venue_id in managed]
            transfers = [t for t in transfers if t.debtor_id in managed or t.creditor_id in managed]
        result = recompute(statement)
        consistent = result.matches
        pairs = _pair_rows(statement, pair_parts(result), visible=None if admin else managed)
        credit_bookings = sum(c.bookings for c in result.credits)
        credits_amount = sum((c.amount for c in result.credits), ZERO)
    context = {
        "network": network,
        "month": month,
        "previous_month": _shift(month, -1),
        "next_month": _shift(month, 1),
        "is_admin": admin,
        "managed": managed,
        "venues": venues,
        "chart_venue": chosen,
        "chart_venues": venues if admin else [v for v in venues if v.pk in managed],
        "matrix": view,
        "heat_rows": _heat_rows(venues, view),
        "column_totals": [view.column_totals.get(v.pk, 0) for v in venues],
        "visits_chart": visits_chart,
        "visit_months": visit_months,
        "balance_chart": balance_chart,
        "balance_rows": balance_rows,
        "statement": statement,
        "lines": lines,
        "transfers": transfers,
        "pairs": pairs,
        "credit_bookings": credit_bookings,
        "credits_amount": credits_amount,
        "staffed": access.staffed_ids(request),
        "consistent": consistent,
        "past_statements": list(selectors.statements(network)[:MONTHS_SHOWN]),
        "key_in_force": selectors.current_key(network, month),
    }
    return render(request, "web/manage/clearing.html", context)


@login_required
def network_clearing_key(request: HttpRequest, network_slug: str) -> HttpResponse:
    """The versions of the network's clearing key; network admins record a new vote here. A venue's
    managers read the versions (the key values their visits) but cannot vote one alone."""
    network = get_object_or_404(Network, slug=network_slug)
    admin, _managed = _viewer_scope(request, network)
    keys = list(
        ClearingKey.objects.filter(network=network).annotate(used=Count("statements")).order_by("-version")
    )
    status = 200
    form = None
    if admin:
        if request.method == "POST":
            form = ClearingKeyForm(request.POST)
            if form.is_valid():
                try:
                    key = vote_key(network=network, actor=viewer(request), **form.values())
                except DomainError as error:
                    add_service_error(form, error)
                    status = error.status
                else:
                    messages.success(
                        request,
                        _("Key v%(version)s recorded. It values the visits of %(month)s onwards.")
                        % {"version": key.version, "month": date_format(key.voted_on, "F Y")},
                    )
                    return redirect("web:network_clearing_key", network_slug=network.slug)
            else:
                status = FORM_INVALID
        else:
            latest = keys[0] if keys else None
            form = ClearingKeyForm(
                initial={**ClearingKeyForm.initial_from(latest), "voted_on": timezone.localdate(now())}
            )
    elif request.method == "POST":
        raise Http404()
    context = {"network": network, "is_admin": admin, "keys": keys, "form": form}
    return render(request, "web/manage/clearing_key.html", context, status=status)


@login_required
@require_POST
def network_clearing_action(request: HttpRequest, network_slug: str) -> HttpResponse:
    """Compute (or recompute) a month, or close it: network admins only."""
    network = get_object_or_404(Network, slug=network_slug)
    admin, _managed = _viewer_scope(request, network)
    if not admin:
        raise Http404()
    try:
        year, number = (int(part) for part in request.POST.get("month", "").split("-"))
        month = date(year, number, 1)
    except ValueError:
        messages.error(request, _("Say which month, YYYY-MM."))
        return redirect(reverse("web:network_clearing", args=[network.slug]))
    action = request.POST.get("action")
    try:
        if action == "close":
            statement = ClearingStatement.objects.filter(network=network, month=month).first()
            if statement is None:
                raise Http404()
            close_month(statement, actor=viewer(request))
            messages.success(request, _("The month is closed and its invoices are issued."))
        else:
            run_clearing(network, month, actor=viewer(request))
            messages.success(request, _("The month's statement is computed (draft)."))
    except DomainError as error:
        messages.error(request, str(error.message))
    return redirect(reverse("web:network_clearing", args=[network.slug]) + f"?mois={month:%Y-%m}")
