"""The funder's report: what a budget (or the whole network) turned into over a period, in totals only.

Hours contributed by activity, by venue and by month, valued at an hourly rate (the budget's
`hourly_value`, or one given for the report); euros paid to contributors; network credit issued (its euro
value and its quantity per credit type); how many contributions and distinct contributors. Names never
appear: the report goes outside the network, and consent to be named covers the public pages only.

What counts:
- contributions validated by the peers (validated, or validated then paid) done within the period —
  those of the budget, or of every project of the network for a network report;
- payouts made within the period (their `paid_on`), from the budget or from every budget of the network.
A contribution linked to several activities shares its hours equally between them (rules.split_hours), so
the hours by activity add up to the total; without an activity it counts under « Sans activité précisée ».

Speed: three reads whatever the number of contributions (their figures, their activity links, the payouts
grouped in the database), folded in Python so the shares stay exact.
"""

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Count, Max, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from lieux.contributions.models import (
    Activity,
    Budget,
    Contribution,
    FundingSource,
    Payout,
    PayoutMethod,
    SourceKind,
)
from lieux.contributions.reports import charts, formats, rules
from lieux.contributions.reports.certificate import COUNTED_STATUSES, NO_ACTIVITY
from lieux.contributions.reports.pdf import render_pdf
from lieux.core.errors import ValidationError
from lieux.core.time import now
from lieux.venues.models import Network, Venue

MAX_MONTHS = 120
MAX_HOURLY_VALUE = Decimal("10000")


@dataclass(frozen=True)
class HoursRow:
    label: str
    hours: Decimal
    value: Decimal
    contributions: int  # contributions with hours in this row (one with two activities is in both)


@dataclass(frozen=True)
class MonthRow:
    month: date
    hours: Decimal
    value: Decimal
    contributions: int


@dataclass(frozen=True)
class CreditRow:
    credit_type: str
    venue: str
    euros: Decimal
    quantity: Decimal
    payouts: int


@dataclass(frozen=True)
class SourceRow:
    name: str
    funder: str
    kind: str
    amount: Decimal


@dataclass(frozen=True)
class FunderReport:
    network: Network
    budget: Budget | None
    start: date
    end: date
    hourly_value: Decimal
    contributions: int
    contributors: int
    without_hours: int  # validated contributions with no duration (a tool lent…): counted, not valued
    total_hours: Decimal
    total_value: Decimal
    granted: Decimal  # what the collective validated for these contributions, in euros
    by_activity: list[HoursRow]
    by_venue: list[HoursRow]
    by_month: list[MonthRow]
    euros_paid: Decimal
    euros_payouts: int
    credit_euros: Decimal
    credit_payouts: int
    credit: list[CreditRow]
    sources: list[SourceRow]
    generated_at: datetime

    @property
    def scope(self) -> str:
        if self.budget is not None:
            return f"Budget « {self.budget.name} »"
        return f"Réseau {self.network.name}"


def check_period(start: date, end: date) -> None:
    if end < start:
        raise ValidationError(_("The period ends before it starts."), code="invalid_period")
    if len(rules.months_between(start, end)) > MAX_MONTHS:
        raise ValidationError(
            _("A report covers at most %(months)s months.") % {"months": MAX_MONTHS}, code="invalid_period"
        )


def check_hourly_value(value: Decimal) -> Decimal:
    try:
        quantized = value.quantize(rules.CENT)
    except InvalidOperation:
        quantized = Decimal(-1)
    if not value.is_finite() or quantized <= 0 or quantized >= MAX_HOURLY_VALUE:
        raise ValidationError(
            _("The hourly value is an amount in euros above 0 and below %(max)s.")
            % {"max": MAX_HOURLY_VALUE},
            code="invalid_hourly_value",
        )
    return quantized


def default_hourly_value() -> Decimal:
    """A network report has no budget to take the rate from: the rate budgets start with."""
    field = Budget._meta.get_field("hourly_value")
    return Decimal(field.get_default())


def _payouts(
    *, network: Network, budget: Budget | None, start: date, end: date
) -> tuple[Decimal, int, list[CreditRow]]:
    """Euros paid (total, count) and credit issued per credit type, by the payouts of the period: two
    grouped reads."""
    payouts = Payout.objects.filter(paid_on__gte=start, paid_on__lte=end)
    payouts = payouts.filter(budget=budget) if budget is not None else payouts.filter(budget__network=network)
    euros = payouts.filter(method=PayoutMethod.EUROS).aggregate(total=Sum("amount"), count=Count("pk"))
    credit = (
        payouts.filter(method=PayoutMethod.CREDIT)
        .values("conversion__credit_type_id")
        .annotate(
            name=Max("conversion__credit_type__name"),
            venue=Max("conversion__credit_type__venue__name"),
            euros=Sum("amount"),
            quantity=Sum("credit_quantity"),
            count=Count("pk"),
        )
        .order_by("venue", "name")
    )
    rows = [
        CreditRow(
            credit_type=row["name"],
            venue=row["venue"],
            euros=row["euros"],
            quantity=row["quantity"],
            payouts=row["count"],
        )
        for row in credit
    ]
    return euros["total"] or rules.ZERO, euros["count"], rows


def funder_report(
    *,
    network: Network,
    start: date,
    end: date,
    budget: Budget | None = None,
    hourly_value: Decimal | None = None,
) -> FunderReport:
    """The report for `budget` (or the whole `network`) over [start, end], both days included."""
    check_period(start, end)
    if budget is not None and budget.network_id != network.pk:
        raise ValidationError(_("This budget belongs to another network."), code="wrong_network")
    rate = check_hourly_value(
        hourly_value
        if hourly_value is not None
        else (budget.hourly_value if budget is not None else default_hourly_value())
    )

    scope = Q(budget=budget) if budget is not None else Q(project__network=network)
    counted = Contribution.objects.filter(
        scope, status__in=COUNTED_STATUSES, performed_on__gte=start, performed_on__lte=end
    )
    figures = list(
        counted.values_list(
            "pk", "hours", "contributor_id", "performed_on", "project__venue_id", "amount_granted"
        )
    )
    links: dict[int, list[int]] = defaultdict(list)
    for contribution_id, activity_id in Contribution.activities.through.objects.filter(
        contribution__in=counted.values("pk")
    ).values_list("contribution_id", "activity_id"):
        links[contribution_id].append(activity_id)
    activity_names = dict(
        Activity.objects.filter(pk__in={a for ids in links.values() for a in ids}).values_list("pk", "name")
    )
    venue_names = dict(
        Venue.objects.filter(pk__in={f[4] for f in figures if f[4] is not None}).values_list("pk", "name")
    )

    by_activity: dict[str, Decimal] = defaultdict(Decimal)
    activity_counts: dict[str, int] = defaultdict(int)
    by_venue: dict[int | None, Decimal] = defaultdict(Decimal)
    venue_counts: dict[int | None, int] = defaultdict(int)
    by_month: dict[date, Decimal] = defaultdict(Decimal)
    month_counts: dict[date, int] = defaultdict(int)
    contributors = set()
    granted = rules.ZERO
    without_hours = 0
    network_projects = f"Projets du réseau {network.name}"
    for pk, hours, contributor_id, performed_on, venue_id, amount_granted in figures:
        contributors.add(contributor_id)
        granted += amount_granted or 0
        if hours is None:
            without_hours += 1
            continue
        # Activities in a stable order (name, then id) so the leftover hundredths always go the same way.
        names = sorted((activity_names[a], a) for a in links.get(pk, ())) or [(NO_ACTIVITY, 0)]
        for (name, _id), share in zip(names, rules.split_hours(hours, len(names)), strict=True):
            by_activity[name] += share
            activity_counts[name] += 1
        by_venue[venue_id] += hours
        venue_counts[venue_id] += 1
        month = performed_on.replace(day=1)
        by_month[month] += hours
        month_counts[month] += 1

    def rows(hours: dict[str, Decimal], counts: dict[str, int]) -> list[HoursRow]:
        ordered = sorted(hours.items(), key=lambda item: (-item[1], item[0]))
        return [HoursRow(label, h, rules.valued(h, rate), counts[label]) for label, h in ordered]

    # Keyed by venue until here: two venues may share a name.
    venue_rows = [
        HoursRow(
            venue_names[venue_id] if venue_id is not None else network_projects,
            h,
            rules.valued(h, rate),
            venue_counts[venue_id],
        )
        for venue_id, h in sorted(
            by_venue.items(),
            key=lambda item: (-item[1], venue_names.get(item[0], "") if item[0] is not None else ""),
        )
    ]

    total_hours = rules.total(list(by_venue.values()))

    euros_paid, euros_payouts, credit_rows = _payouts(network=network, budget=budget, start=start, end=end)
    sources = (
        [
            SourceRow(name=source.name, funder=source.funder, kind=source.kind, amount=source.amount)
            for source in FundingSource.objects.filter(budget=budget).order_by("committed_on", "pk")
        ]
        if budget is not None
        else []
    )

    return FunderReport(
        network=network,
        budget=budget,
        start=start,
        end=end,
        hourly_value=rate,
        contributions=len(figures),
        contributors=len(contributors),
        without_hours=without_hours,
        total_hours=total_hours,
        total_value=rules.valued(total_hours, rate),
        granted=granted,
        by_activity=rows(by_activity, activity_counts),
        by_venue=venue_rows,
        by_month=[
            MonthRow(m, by_month[m], rules.valued(by_month[m], rate), month_counts[m])
            for m in rules.months_between(start, end)
        ],
        euros_paid=euros_paid,
        euros_payouts=euros_payouts,
        credit_euros=rules.total([row.euros for row in credit_rows]),
        credit_payouts=sum(row.payouts for row in credit_rows),
        credit=credit_rows,
        sources=sources,
        generated_at=now(),
    )


# CSV ---------------------------------------------------------------------------------------------------

CSV_HEADERS = ("Rubrique", "Libellé", "Indicateur", "Valeur", "Unité")


def csv_rows(report: FunderReport) -> list[list[str]]:
    """The report as long rows (section, label, measure, value, unit): one figure per row, which a
    spreadsheet's pivot table turns into any layout, and which never needs a name."""
    summary = "Synthèse"
    whole = report.scope
    rows = [
        [summary, whole, "Début de la période", formats.day(report.start), ""],
        [summary, whole, "Fin de la période", formats.day(report.end), ""],
        [summary, whole, "Valeur horaire", formats.cell(report.hourly_value), "€/h"],
        [summary, whole, "Heures", formats.cell(report.total_hours), "h"],
        [summary, whole, "Valorisation", formats.cell(report.total_value), "€"],
        [summary, whole, "Contributions", str(report.contributions), "contributions"],
        [summary, whole, "Contributions sans durée", str(report.without_hours), "contributions"],
        [summary, whole, "Contributeurs distincts", str(report.contributors), "personnes"],
        [summary, whole, "Montants validés", formats.cell(report.granted), "€"],
        [summary, whole, "Rétribué en euros", formats.cell(report.euros_paid), "€"],
        [summary, whole, "Rétributions en euros", str(report.euros_payouts), "rétributions"],
        [summary, whole, "Crédit émis", formats.cell(report.credit_euros), "€"],
        [summary, whole, "Rétributions en crédit", str(report.credit_payouts), "rétributions"],
    ]
    for section, hours_rows in (("Par activité", report.by_activity), ("Par lieu", report.by_venue)):
        for row in hours_rows:
            rows.append([section, row.label, "Heures", formats.cell(row.hours), "h"])
            rows.append([section, row.label, "Valorisation", formats.cell(row.value), "€"])
            rows.append([section, row.label, "Contributions", str(row.contributions), "contributions"])
    for month in report.by_month:
        label = month.month.strftime("%Y-%m")
        rows.append(["Par mois", label, "Heures", formats.cell(month.hours), "h"])
        rows.append(["Par mois", label, "Valorisation", formats.cell(month.value), "€"])
        rows.append(["Par mois", label, "Contributions", str(month.contributions), "contributions"])
    for credit in report.credit:
        label = f"{credit.credit_type} ({credit.venue})"
        rows.append(["Crédit émis", label, "Montant", formats.cell(credit.euros), "€"])
        rows.append(["Crédit émis", label, "Quantité", formats.cell(credit.quantity), "crédits"])
        rows.append(["Crédit émis", label, "Rétributions", str(credit.payouts), "rétributions"])
    for source in report.sources:
        label = f"{source.name} ({source.funder})" if source.funder else source.name
        rows.append(["Financement", label, "Montant engagé", formats.cell(source.amount), "€"])
    return rows


def funder_csv(report: FunderReport) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADERS)
    # Labels are names people typed (activities, venues, credit types, funders): never formulas.
    writer.writerows([section, formats.text_cell(label), *rest] for section, label, *rest in csv_rows(report))
    return out.getvalue().encode("utf-8-sig")


# PDF ---------------------------------------------------------------------------------------------------


def _hours_rows(rows: list[HoursRow], total: Decimal) -> list[dict[str, str]]:
    return [
        {
            "label": row.label,
            "hours": formats.hours(row.hours),
            "value": formats.euros(row.value),
            "contributions": formats.number(row.contributions),
            # The width of the row's bar, in percent of the total.
            "share": f"{float(row.hours / total) * 100:.1f}" if total else "0",
        }
        for row in rows
    ]


def context_of(report: FunderReport) -> dict[str, Any]:
    several_years = report.start.year != report.end.year
    chart = charts.bar_chart(
        [
            (
                formats.month(m.month).rstrip(".") if not several_years else m.month.strftime("%m/%y"),
                f"{formats.month_name(m.month)} : {formats.hours(m.hours)}",
                m.hours,
            )
            for m in report.by_month
        ]
    )
    budget = report.budget
    with_kinds = dict(SourceKind.choices)
    return {
        "network": report.network.name,
        "scope": report.scope,
        "budget": budget.name if budget else "",
        "budget_period": (
            f"du {formats.long_day(budget.starts_on)} au {formats.long_day(budget.ends_on)}" if budget else ""
        ),
        "start": formats.long_day(report.start),
        "end": formats.long_day(report.end),
        "hourly_value": formats.euros(report.hourly_value),
        "total_hours": formats.hours(report.total_hours),
        "total_value": formats.euros(report.total_value),
        "contributions": formats.number(report.contributions),
        "contributors": formats.number(report.contributors),
        "without_hours": report.without_hours,
        "granted": formats.euros(report.granted),
        "euros_paid": formats.euros(report.euros_paid),
        "euros_payouts": report.euros_payouts,
        "credit_euros": formats.euros(report.credit_euros),
        "credit_payouts": report.credit_payouts,
        "credit": [
            {
                "type": row.credit_type,
                "venue": row.venue,
                "euros": formats.euros(row.euros),
                "quantity": formats.number(row.quantity),
            }
            for row in report.credit
        ],
        "by_activity": _hours_rows(report.by_activity, report.total_hours),
        "by_venue": _hours_rows(report.by_venue, report.total_hours),
        "months": [
            {
                "name": formats.month_name(m.month),
                "hours": formats.hours(m.hours),
                "value": formats.euros(m.value),
                "contributions": formats.number(m.contributions),
            }
            for m in report.by_month
        ],
        "chart": chart,
        "chart_ticks": [(tick.y, formats.number(tick.value)) for tick in chart.ticks],
        "sources": [
            {
                "name": s.name,
                "funder": s.funder,
                "kind": with_kinds.get(s.kind, s.kind),
                "amount": formats.euros(s.amount),
            }
            for s in report.sources
        ],
        "generated_on": formats.long_day(timezone.localdate(report.generated_at)),
    }


def funder_pdf(report: FunderReport) -> bytes:
    return render_pdf("contributions/funder_report.html", context_of(report))


def file_name(report: FunderReport, extension: str) -> str:
    scope = report.budget.slug if report.budget else report.network.slug
    return f"rapport-{scope}-{report.start:%Y%m%d}-{report.end:%Y%m%d}.{extension}"
