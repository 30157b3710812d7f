"""What makes a declared contribution acceptable. Pure: the services gather the facts and word the problems
(lieux.contributions.errors.problem_message).

Policies:

- **After the fact.** A contribution is declared once done: its day may not be after today (the project's
  local day).
- **Budget period, with a grace for late declarations.** When a budget is asked for money, the day must lie
  within the budget's period (first and last days included). Declaring after the period has ended is
  allowed for as long as the budget is not closed: people write things down late, and closing is the
  collective's explicit "no more" (a closed budget takes nothing).
- **The budget must cover the project**: a budget for one project takes only that project's requests; a
  venue's budget takes its own projects and the network-wide ones, never another venue's.
- **An amount needs a budget**, is in euros and cents, and is not negative; zero means "nothing asked".
- **Hours are optional**; when given they are more than zero, at most `MAX_HOURS`.
"""

import dataclasses
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

MAX_HOURS = Decimal("9999.99")
MAX_AMOUNT = Decimal("9999999999.99")
MAX_DESCRIPTION = 5000
MAX_ACTIVITY = 80
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Problem:
    """One broken rule: a stable code, what the message needs, and the field at fault."""

    code: str
    field: str = ""
    params: dict[str, Any] = dataclasses.field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class BudgetFacts:
    starts_on: date
    ends_on: date
    closed: bool
    budget_project_id: int | None
    budget_venue_id: int | None


def covers(budget: BudgetFacts, *, project_id: int, project_venue_id: int | None) -> bool:
    """Whether a budget may be asked for money for a project's contribution."""
    if budget.budget_project_id is not None:
        return budget.budget_project_id == project_id
    if budget.budget_venue_id is not None:
        return project_venue_id is None or project_venue_id == budget.budget_venue_id
    return True


def hours_problem(hours: Decimal | None) -> Problem | None:
    if hours is None:
        return None
    if not hours.is_finite() or hours <= 0:
        return Problem("hours_not_positive", "hours")
    if hours > MAX_HOURS or hours != hours.quantize(CENT):
        return Problem("hours_too_many", "hours", {"limit": MAX_HOURS})
    return None


def amount_problem(amount: Decimal | None, *, has_budget: bool) -> Problem | None:
    if amount is None:
        return None
    if not amount.is_finite() or amount != amount.quantize(CENT):
        return Problem("invalid_amount", "amount_asked", {"value": amount})
    if amount < 0:
        return Problem("amount_negative", "amount_asked")
    if amount > MAX_AMOUNT:
        return Problem("amount_too_large", "amount_asked")
    if not has_budget and amount > 0:
        return Problem("amount_needs_budget", "budget")
    return None


def date_problem(performed_on: date, *, today: date, budget: BudgetFacts | None) -> Problem | None:
    if performed_on > today:
        return Problem("in_future", "performed_on", {"date": performed_on})
    if budget is None:
        return None
    period = {"date": performed_on, "starts_on": budget.starts_on, "ends_on": budget.ends_on}
    if performed_on < budget.starts_on:
        return Problem("before_budget", "performed_on", period)
    if performed_on > budget.ends_on:
        return Problem("after_budget", "performed_on", period)
    return None


def description_problem(description: str) -> Problem | None:
    if not description.strip():
        return Problem("missing_description", "description")
    if len(description) > MAX_DESCRIPTION:
        return Problem("description_too_long", "description", {"limit": MAX_DESCRIPTION})
    return None


def declaration_problems(
    *,
    performed_on: date,
    today: date,
    description: str,
    hours: Decimal | None,
    amount_asked: Decimal | None,
    budget: BudgetFacts | None,
    project_id: int,
    project_venue_id: int | None,
) -> list[Problem]:
    """Every rule the declaration breaks, in the order a person would fix them."""
    found: list[Problem] = []
    if budget is not None:
        if budget.closed:
            found.append(Problem("budget_closed", "budget"))
        elif not covers(budget, project_id=project_id, project_venue_id=project_venue_id):
            found.append(Problem("budget_not_for_project", "budget"))
    checks = (
        date_problem(performed_on, today=today, budget=budget),
        hours_problem(hours),
        amount_problem(amount_asked, has_budget=budget is not None),
        description_problem(description),
    )
    found.extend(p for p in checks if p is not None)
    return found
