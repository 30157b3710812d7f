"""Public transparency pages, readable without logging in: the network's public projects and budgets, a
project's contributors and hours by activity month by month, a budget's figures and burn-down.

Only what the peers validated counts, and people appear only as they agreed (ContributorProfile): under
their name, under a pseudonym, or merely counted among the anonymous. A project or budget that is not
public is a 404, as if it did not exist."""

from datetime import date
from decimal import Decimal

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from lieux.contributions.models import Budget, Project, Scope
from lieux.contributions.selectors import budgets as budget_selectors
from lieux.contributions.selectors import web as web_selectors
from lieux.venues.models import Network
from lieux.web import contribution_charts
from lieux.web.contribution_views_budgets import burn_down_view


def _network(slug: str) -> Network:
    return get_object_or_404(Network, slug=slug)


def activity_chart(months: web_selectors.ActivityMonths) -> contribution_charts.StackedChart | None:
    if not months.months:
        return None
    no_activity = _("No activity given")
    labels = [(m, date_format(m, "M"), date_format(m, "F Y")) for m in months.months]
    activities = [(name, name or no_activity) for name in months.activities]
    return contribution_charts.stacked_chart(
        labels,
        activities,
        months.hours,
        segment_title=_("%(month)s — %(activity)s: %(hours)s"),
    )


def activity_rows(months: web_selectors.ActivityMonths) -> list[tuple[date, list[Decimal], Decimal]]:
    """The chart's numbers as table rows: a month, its hours per activity (in the legend's order), its
    total."""
    return [
        (m, [months.hours.get((m, a), Decimal(0)) for a in months.activities], months.total(m))
        for m in months.months
    ]


# Contributors listed on a public page unless all are asked for (?people=all): a budget of the whole network
# may have thousands, and the page must stay light for everyone who only looks at it.
PEOPLE_LISTED = 100


def _people_context(request: HttpRequest, scope: str, scope_id: int) -> dict:
    months = web_selectors.hours_by_activity_and_month(scope, scope_id)
    chart = activity_chart(months)
    everyone = request.GET.get("people") == "all"
    return {
        "people": web_selectors.public_people(scope, scope_id, limit=None if everyone else PEOPLE_LISTED),
        "activity_chart": chart,
        "activity_names": [name or _("No activity given") for name in months.activities],
        "activity_colours": [item.colour for item in chart.legend] if chart else [],
        "activity_rows": activity_rows(months),
    }


def transparency(request: HttpRequest, network_slug: str) -> HttpResponse:
    network = _network(network_slug)
    projects, budgets = web_selectors.public_index(network.pk)
    context = {"network": network, "projects": list(projects), "budgets": list(budgets)}
    return render(request, "web/contributions/public_index.html", context)


def public_project(request: HttpRequest, network_slug: str, slug: str) -> HttpResponse:
    network = _network(network_slug)
    project = (
        Project.objects.filter(network=network, slug=slug, is_public=True).select_related("venue").first()
    )
    if project is None:
        raise Http404()
    context = {
        "network": network,
        "project": project,
        # Stewards too appear only as they agreed.
        "stewards": sorted(
            web_selectors.public_names(list(project.stewards.values_list("pk", flat=True))).values()
        ),
        "budgets": list(web_selectors.public_budgets(project)),
        **_people_context(request, Scope.PROJECT, project.pk),
    }
    return render(request, "web/contributions/public_project.html", context)


def public_budget(request: HttpRequest, network_slug: str, slug: str) -> HttpResponse:
    network = _network(network_slug)
    budget = (
        Budget.objects.filter(network=network, slug=slug, is_public=True)
        .select_related("venue", "project", "network")
        .first()
    )
    if budget is None:
        raise Http404()
    figures = budget_selectors.budget_figures(budget)
    context = {
        "network": network,
        "budget": budget,
        "figures": figures,
        "burn_down": burn_down_view(budget, figures),
        "sources": budget_selectors.funding_sources(budget),
        **_people_context(request, Scope.BUDGET, budget.pk),
    }
    return render(request, "web/contributions/public_budget.html", context)
