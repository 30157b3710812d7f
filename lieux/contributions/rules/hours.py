"""What counted contributions add to the hours tallies of the public pages (models.ActivityHours and
models.PersonHours). Pure: services.hours writes what `tally` returns, for one contribution at its
validation or for all of them when rebuilding, so both ways give the same rows."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from lieux.contributions.reports.rules import split_hours
from lieux.core.money import ZERO

PROJECT, BUDGET = "project", "budget"  # models.Scope
NO_ACTIVITY = 0  # the activity key of hours whose contribution names no activity


@dataclass(frozen=True)
class Counted:
    """A validated (or paid) contribution, as much of it as the tallies need."""

    project_id: int
    budget_id: int | None
    person_id: int
    performed_on: date
    hours: Decimal | None
    activity_ids: Sequence[int]


@dataclass
class Tally:
    # (scope, scope id, month, activity key) → hours
    activities: dict[tuple[str, int, date, int], Decimal] = field(default_factory=dict)
    # (scope, scope id, person id) → (hours, contributions)
    people: dict[tuple[str, int, int], tuple[Decimal, int]] = field(default_factory=dict)


def scopes(contribution: Counted) -> list[tuple[str, int]]:
    """A contribution counts on its project's page and, when it asks money from one, on its budget's."""
    found = [(PROJECT, contribution.project_id)]
    if contribution.budget_id is not None:
        found.append((BUDGET, contribution.budget_id))
    return found


def hour_shares(hours: Decimal, activity_ids: Sequence[int]) -> list[tuple[int, Decimal]]:
    """The contribution's hours shared equally between its activities, in the order of their keys (stable
    when an activity is renamed), the leftover hundredths to the first; all of it to NO_ACTIVITY when it
    names none."""
    keys = sorted(set(activity_ids)) or [NO_ACTIVITY]
    return list(zip(keys, split_hours(hours, len(keys)), strict=True))


def tally(contributions: Iterable[Counted]) -> Tally:
    """What these contributions add, summed per row of each tally."""
    found = Tally()
    for contribution in contributions:
        hours = contribution.hours or ZERO
        month = contribution.performed_on.replace(day=1)
        for scope, scope_id in scopes(contribution):
            if contribution.hours:
                for activity, share in hour_shares(contribution.hours, contribution.activity_ids):
                    row = (scope, scope_id, month, activity)
                    found.activities[row] = found.activities.get(row, ZERO) + share
            person = (scope, scope_id, contribution.person_id)
            total, count = found.people.get(person, (ZERO, 0))
            found.people[person] = (total + hours, count + 1)
    return found
