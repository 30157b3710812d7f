"""Contributive budgets: their figures and burn-down, for transparency pages and treasurers.

Public budgets are readable without an account: a budget's transparency page is public and its figures
name nobody. A private budget is visible only to those who manage it (its venue's managers; for a
network-wide budget, the managers of the network's venues and its admins), with their bearer token; to
anyone else it does not exist (404). A token that is sent must be valid (401 otherwise).
"""

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.errors import AuthenticationError
from pydantic import Field

from lieux.accounts.models import User
from lieux.accounts.services import user_for_token
from lieux.api.base import api
from lieux.api.schemas import DbId, ErrorOut, Slug, ValidationErrorOut
from lieux.contributions.errors_budgets import BudgetNotFound
from lieux.contributions.models import Budget, BudgetStatus
from lieux.contributions.rules.ledger import BurnDown, Figures
from lieux.contributions.selectors import budgets as selectors

router = Router(tags=["Contributive budgets"])

ERRORS = {401: ErrorOut, 404: ErrorOut, 422: ValidationErrorOut}


def viewer(request: HttpRequest) -> User | None:
    """The person behind an optional bearer token: None without one, 401 for one that is not valid."""
    header = request.headers.get("Authorization")
    if not header:
        return None
    scheme, _sep, token = header.partition(" ")
    user = user_for_token(token.strip()) if scheme == "Bearer" and token.strip() else None
    if user is None:
        raise AuthenticationError()
    return user


class BudgetSummaryOut(Schema):
    id: int
    slug: str
    name: str
    network: str = Field(description="The network's slug.")
    venue: str | None = Field(description="The venue's slug; null for a budget of the whole network.")
    project: str | None = Field(description="The project's slug; null for a budget open to every project.")
    starts_on: date
    ends_on: date
    status: str = Field(description="`open`, `deficit` or `closed`.")
    is_public: bool


class RulesOut(Schema):
    validators: str = Field(description="Who validates: `stewards`, `members` or `managers`.")
    validations_required: int
    overrun: str = Field(description="`refuse` (the envelope is a hard limit) or `deficit` (allowed).")
    hourly_value: str = Field(description="What an hour is worth in reports for funders, in euros.")
    closed_with: str | None = Field(description="`pro_rata`, `carry_over`, `top_up`, or null.")


class FiguresOut(Schema):
    committed: str = Field(description="Promised by the funding sources, in euros (decimal string).")
    received: str = Field(description="Cash that reached the budget.")
    validated: str = Field(description="Every validated request, before reductions at closing.")
    reduced: str = Field(description="Taken back by a pro-rata closing.")
    granted: str = Field(description="validated − reduced.")
    paid_euros: str = Field(
        description="Paid to people in euros (credit settled with venues is not counted)."
    )
    credit_issued: str = Field(description="Paid in network credit, in euros: all of it, settled or not.")
    credit_settled: str = Field(description="Of that credit, what the budget paid the venues that honour it.")
    credit_to_settle: str = Field(description="credit_issued − credit_settled: still owed to those venues.")
    owed: str = Field(description="granted − paid in euros − paid in credit.")
    pending_count: int = Field(description="Requests submitted, awaiting review.")
    pending_amount: str = Field(description="What those requests ask.")
    remaining: str = Field(description="committed − granted: the envelope left (negative in deficit).")
    deficit: str
    cash: str = Field(description="received − paid in euros − credit settled: what can be paid now.")
    to_receive: str = Field(description="committed − received.")
    forecast: str = Field(description="granted + pending: if every pending request were validated.")
    forecast_remaining: str
    forecast_over: bool = Field(description="The pending requests would pass the envelope.")
    state: str


class SourceOut(Schema):
    name: str
    kind: str
    funder: str
    committed: str
    received: str
    committed_on: date


class PointOut(Schema):
    on: date = Field(description="Last day of the step.")
    committed: str | None = Field(description="Cumulative; null for steps that have not started.")
    granted: str | None
    envelope_left: str | None
    received: str | None
    ideal: str = Field(description="The envelope left had it been spent evenly over the period.")


class BurnDownOut(Schema):
    step: str = Field(description="`week` or `month`.")
    points: list[PointOut]


class BudgetOut(BudgetSummaryOut):
    description: str
    rules: RulesOut
    figures: FiguresOut
    sources: list[SourceOut]
    burn_down: BurnDownOut


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def summary(budget: Budget) -> dict:
    return {
        "id": budget.pk,
        "slug": budget.slug,
        "name": budget.name,
        "network": budget.network.slug,
        "venue": budget.venue.slug if budget.venue is not None else None,
        "project": budget.project.slug if budget.project is not None else None,
        "starts_on": budget.starts_on,
        "ends_on": budget.ends_on,
        "status": budget.status,
        "is_public": budget.is_public,
    }


def figures_out(figures: Figures) -> dict:
    out: dict = {
        name: _money(getattr(figures, name))
        for name in (
            "committed",
            "received",
            "validated",
            "reduced",
            "granted",
            "paid_euros",
            "credit_issued",
            "credit_settled",
            "credit_to_settle",
            "owed",
            "pending_amount",
            "remaining",
            "deficit",
            "cash",
            "to_receive",
            "forecast",
            "forecast_remaining",
        )
    }
    out |= {"pending_count": figures.pending_count, "forecast_over": figures.forecast_over}
    return out | {"state": figures.state}


def burn_down_out(series: BurnDown) -> dict:
    return {
        "step": series.step,
        "points": [
            {
                "on": p.on,
                "committed": _money(p.committed),
                "granted": _money(p.granted),
                "envelope_left": _money(p.envelope_left),
                "received": _money(p.received),
                "ideal": _money(p.ideal),
            }
            for p in series.points
        ],
    }


@router.get(
    "/budgets",
    response={200: list[BudgetSummaryOut], **ERRORS},
    auth=None,
    summary="List contributive budgets",
    description="Public budgets, and with a bearer token the private ones the caller manages; newest "
    "period first. Filter by `network`, `venue` or `project` slug and by `status`. Public.",
)
def list_budgets(
    request: HttpRequest,
    network: Slug | None = None,
    venue: Slug | None = None,
    project: Slug | None = None,
    status: BudgetStatus | None = None,
):
    found = selectors.visible_budgets(viewer(request))
    if network:
        found = found.filter(network__slug=network)
    if venue:
        found = found.filter(venue__slug=venue)
    if project:
        found = found.filter(project__slug=project)
    if status:
        found = found.filter(status=status)
    return [summary(b) for b in found.order_by("-starts_on", "name", "pk")]


@router.get(
    "/budgets/{budget_id}",
    response={200: BudgetOut, **ERRORS},
    auth=None,
    summary="One contributive budget with its figures and burn-down",
    description="The budget's rules, its figures (committed, received, validated, paid in euros and in "
    "credit, owed, pending requests, forecast, envelope left, deficit, cash available to pay), its funding "
    "sources and its burn-down series by week or month (`step`, default: weeks up to about six months, "
    "months beyond). Public for a public budget; 404 `unknown_budget` otherwise.",
)
def get_budget(
    request: HttpRequest,
    budget_id: DbId,
    step: Annotated[Literal["week", "month"] | None, Query()] = None,
):
    budget = Budget.objects.select_related("network", "venue", "project").filter(pk=budget_id).first()
    if budget is None or not selectors.may_see_budget(viewer(request), budget):
        raise BudgetNotFound()
    return summary(budget) | {
        "description": budget.description,
        "rules": {
            "validators": budget.validators,
            "validations_required": budget.validations_required,
            "overrun": budget.overrun,
            "hourly_value": _money(budget.hourly_value),
            "closed_with": budget.closed_with or None,
        },
        "figures": figures_out(selectors.budget_figures(budget)),
        "sources": [
            {
                "name": source.name,
                "kind": source.kind,
                "funder": source.funder,
                "committed": _money(source.amount),
                "received": _money(received),
                "committed_on": source.committed_on,
            }
            for source, received in selectors.funding_sources(budget)
        ],
        "burn_down": burn_down_out(selectors.burn_down(budget, step)),
    }


api.add_router("", router)
