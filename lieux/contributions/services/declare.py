"""Declaring a contribution, one at a time, and what its contributor does with it afterwards.

- A person declares what they did: the request is `submitted` for review at once.
- A steward of the project may declare for someone else: the request is `awaiting` until that person
  confirms it (then `submitted`) or declines it (then `withdrawn`); until then it counts for nothing.
- The contributor may withdraw a request until it is decided (validated or refused); the steward who
  declared it may withdraw it while it awaits confirmation.

The rules of a declaration (day, budget period, amount, hours) are in rules/declarations.py; the checks
that need the database (rights, activities, the budget's network) are here, and shared with the bulk
import through `Context`.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files import File
from django.core.validators import URLValidator
from django.utils import timezone
from django.utils.translation import gettext as _

from lieux.accounts.models import User
from lieux.contributions.errors import (
    ContributionStateError,
    NotSteward,
    NotYourContribution,
    ProjectClosed,
    ProjectNotFound,
    declaration_invalid,
)
from lieux.contributions.errors_budgets import BudgetClosed, BudgetNotFound
from lieux.contributions.models import (
    Activity,
    Budget,
    BudgetStatus,
    Contribution,
    ContributionKind,
    ContributionStatus,
    Project,
    ProjectStatus,
)
from lieux.contributions.rules import declarations as rules
from lieux.contributions.selectors import projects as project_selectors
from lieux.contributions.services.budgets import lock_budget
from lieux.core import audit
from lieux.core.db import atomic_with_retry
from lieux.core.time import now

MAX_LINK = 200
_url = URLValidator(schemes=["http", "https"])


def project_today(project: Project) -> date:
    """Today at the project's venue (the network's default zone for a network-wide project)."""
    tz = project.venue.tz if project.venue is not None else ZoneInfo(timezone.get_default_timezone_name())
    return now().astimezone(tz).date()


def budget_facts(budget: Budget | None) -> rules.BudgetFacts | None:
    if budget is None:
        return None
    return rules.BudgetFacts(
        starts_on=budget.starts_on,
        ends_on=budget.ends_on,
        closed=budget.status == BudgetStatus.CLOSED,
        budget_project_id=budget.project_id,
        budget_venue_id=budget.venue_id,
    )


def to_decimal(value: Any, code: str) -> Decimal | None:
    """User input (Decimal, int, or text with a comma or a point) to a Decimal; refuses floats, whose
    binary value is never exactly the euros a person typed."""
    if value is None or value == "":
        return None
    if isinstance(value, float | bool):
        raise declaration_invalid(code, {"value": value})
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        raise declaration_invalid(code, {"value": str(value)[:40]}) from None
    if not number.is_finite():
        raise declaration_invalid(code, {"value": str(value)[:40]})
    return number


def link_problem(link: str) -> rules.Problem | None:
    if not link:
        return None
    try:
        _url(link)
    except DjangoValidationError:
        return rules.Problem("invalid_evidence", "evidence_url")
    return None if len(link) <= MAX_LINK else rules.Problem("invalid_evidence", "evidence_url")


def text_problem(text: str) -> rules.Problem | None:
    # PostgreSQL text holds neither NUL nor lone surrogates: refused here as input, not as a 500.
    if "\x00" in text or any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        return rules.Problem("invalid_characters", "description")
    return None


@dataclass(frozen=True)
class Context:
    """What every declaration on (project, budget) by `actor` is checked against, read once."""

    actor: User
    project: Project
    budget: Budget | None
    facts: rules.BudgetFacts | None
    today: date
    actor_is_steward: bool


def context_for(*, actor: User, project: Project, budget: Budget | None) -> Context:
    """Checks that hold for the whole declaration (or import) and the facts its lines are checked against.
    Raises the domain error when the project or the budget cannot take declarations at all."""
    if not getattr(actor, "is_authenticated", False):
        raise ProjectNotFound()
    steward = project_selectors.is_steward(actor, project)
    if not steward and not project_selectors.may_see_project(actor, project):
        raise ProjectNotFound()
    if project.status == ProjectStatus.ARCHIVED:
        raise ProjectClosed()
    facts = budget_facts(budget)
    if budget is not None and facts is not None:
        if budget.network_id != project.network_id:
            raise BudgetNotFound()
        if budget.status == BudgetStatus.CLOSED:
            raise BudgetClosed()
        if not rules.covers(facts, project_id=project.pk, project_venue_id=project.venue_id):
            raise declaration_invalid("budget_not_for_project", field="budget")
    return Context(
        actor=actor,
        project=project,
        budget=budget,
        facts=facts,
        today=project_today(project),
        actor_is_steward=steward,
    )


def first_problem(
    context: Context,
    *,
    contributor: User,
    performed_on: date,
    description: str,
    hours: Decimal | None,
    amount_asked: Decimal | None,
    kind: str,
    activities: Iterable[Activity],
    link: str,
) -> rules.Problem | None:
    """The first rule a declaration breaks, or None. Shared by single declarations and imports."""
    if contributor.pk != context.actor.pk and not context.actor_is_steward:
        return rules.Problem("not_steward", "contributor")
    if kind not in ContributionKind.values:
        return rules.Problem("invalid_kind", "kind", {"value": kind})
    budget_id = context.budget.pk if context.budget is not None else None
    for activity in activities:
        if activity.network_id != context.project.network_id or activity.budget_id not in (None, budget_id):
            return rules.Problem("unknown_activity", "activities", {"value": activity.name})
    problems = rules.declaration_problems(
        performed_on=performed_on,
        today=context.today,
        description=description,
        hours=hours,
        amount_asked=amount_asked,
        budget=context.facts,
        project_id=context.project.pk,
        project_venue_id=context.project.venue_id,
    )
    return (problems[0] if problems else None) or text_problem(description) or link_problem(link)


def initial_status(context: Context, contributor: User) -> str:
    if contributor.pk == context.actor.pk:
        return ContributionStatus.SUBMITTED
    return ContributionStatus.AWAITING_CONFIRMATION


def audit_data(contribution: Contribution) -> dict[str, Any]:
    return {
        "project": contribution.project_id,
        "budget": contribution.budget_id,
        "contributor": contribution.contributor_id,
        "declared_by": contribution.declared_by_id,
        "status": contribution.status,
        "performed_on": contribution.performed_on.isoformat(),
        "hours": None if contribution.hours is None else str(contribution.hours),
        "amount_asked": None if contribution.amount_asked is None else str(contribution.amount_asked),
    }


def declare_contribution(
    *,
    actor: User,
    project: Project,
    performed_on: date,
    description: str,
    contributor: User | None = None,
    hours: Decimal | str | int | None = None,
    kind: str = ContributionKind.TIME,
    activities: Iterable[Activity] = (),
    budget: Budget | None = None,
    amount_asked: Decimal | str | int | None = None,
    evidence_url: str = "",
    evidence_file: File | None = None,
) -> Contribution:
    """Declare a contribution to `project` by `contributor` (default: the actor), asking `amount_asked`
    euros from `budget` when given. Refused input writes nothing."""
    contributor = contributor or actor
    context = context_for(actor=actor, project=project, budget=budget)
    activities = list(dict.fromkeys(activities))
    hours_value = to_decimal(hours, "invalid_hours")
    amount_value = to_decimal(amount_asked, "invalid_amount")
    description = description.strip()
    evidence_url = evidence_url.strip()
    problem = first_problem(
        context,
        contributor=contributor,
        performed_on=performed_on,
        description=description,
        hours=hours_value,
        amount_asked=amount_value,
        kind=kind,
        activities=activities,
        link=evidence_url,
    )
    if problem is not None:
        if problem.code == "not_steward":
            raise NotSteward()
        raise declaration_invalid(problem.code, problem.params, field=problem.field)

    def write() -> Contribution:
        if budget is not None:
            # Closing holds this lock while it settles the budget: no request slips in as it closes.
            locked = lock_budget(budget)
            if locked.status == BudgetStatus.CLOSED:
                raise BudgetClosed()
        contribution = Contribution(
            project=project,
            budget=budget,
            contributor=contributor,
            declared_by=actor,
            performed_on=performed_on,
            hours=hours_value,
            kind=kind,
            description=description,
            evidence_url=evidence_url,
            amount_asked=amount_value,
            status=initial_status(context, contributor),
        )
        if evidence_file is not None:
            contribution.evidence_file = evidence_file  # type: ignore[assignment]
        contribution.save()
        contribution.activities.set(activities)
        audit.record(
            "contributions.contribution.declared",
            contribution,
            actor=actor,
            venue_id=project.venue_id,
            activities=[a.pk for a in activities],
            **audit_data(contribution),
        )
        return contribution

    return atomic_with_retry(write)


# After the declaration ------------------------------------------------------------------------------------


def _change_status(
    contribution: Contribution,
    *,
    actor: User,
    allowed_from: tuple[str, ...],
    may: Any,
    to: str,
    action: str,
    reason: str = "",
) -> Contribution:
    def write() -> Contribution:
        current = Contribution.objects.select_for_update(of=("self",)).get(pk=contribution.pk)
        if not may(current):
            raise NotYourContribution()
        if current.status not in allowed_from:
            raise ContributionStateError(
                _("This contribution is %(status)s: it cannot change this way.")
                % {"status": ContributionStatus(current.status).label.lower()}
            )
        if to == ContributionStatus.SUBMITTED and current.budget_id is not None:
            budget = Budget.objects.only("status").get(pk=current.budget_id)
            if budget.status == BudgetStatus.CLOSED:
                raise BudgetClosed()
        before = current.status
        current.status = to
        current.save(update_fields=["status"])
        audit.record(
            action,
            current,
            actor=actor,
            venue_id=current.project.venue_id,
            before=before,
            after=to,
            reason=reason.strip()[:300],
        )
        return current

    return atomic_with_retry(write)


def confirm_contribution(*, contribution: Contribution, actor: User) -> Contribution:
    """The contributor agrees with what a steward declared for them: it goes to review."""
    return _change_status(
        contribution,
        actor=actor,
        allowed_from=(ContributionStatus.AWAITING_CONFIRMATION,),
        may=lambda c: c.contributor_id == actor.pk,
        to=ContributionStatus.SUBMITTED,
        action="contributions.contribution.confirmed",
    )


def decline_contribution(*, contribution: Contribution, actor: User, reason: str = "") -> Contribution:
    """The contributor disagrees with what a steward declared for them: it is withdrawn."""
    return _change_status(
        contribution,
        actor=actor,
        allowed_from=(ContributionStatus.AWAITING_CONFIRMATION,),
        may=lambda c: c.contributor_id == actor.pk,
        to=ContributionStatus.WITHDRAWN,
        action="contributions.contribution.declined",
        reason=reason,
    )


def withdraw_contribution(*, contribution: Contribution, actor: User, reason: str = "") -> Contribution:
    """The contributor takes back a request not decided yet; the steward who declared it for them may take
    it back while it awaits their confirmation."""

    def may(current: Contribution) -> bool:
        if current.contributor_id == actor.pk:
            return True
        return (
            current.declared_by_id == actor.pk and current.status == ContributionStatus.AWAITING_CONFIRMATION
        )

    return _change_status(
        contribution,
        actor=actor,
        allowed_from=(ContributionStatus.AWAITING_CONFIRMATION, ContributionStatus.SUBMITTED),
        may=may,
        to=ContributionStatus.WITHDRAWN,
        action="contributions.contribution.withdrawn",
        reason=reason,
    )
