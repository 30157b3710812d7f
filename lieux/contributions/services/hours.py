"""Keeping the hours tallies of the public pages (ActivityHours, PersonHours) in step with the counted
contributions.

A contribution enters the count once, when it becomes validated (`count_validated`, in the validation's
own transaction, services.review), and never leaves it: a paid contribution stays counted and nothing
un-validates. The rows are added to by core.db.add_to_totals, so concurrent validations in one project
never lose an addition. `rebuild` recomputes a scope's rows from its contributions (after a bulk load or
a repair); `recount` gives them as they should be and `stored` as they are, for checks.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence

from django.db.models import Q

from lieux.contributions.models import ActivityHours, Contribution, PersonHours
from lieux.contributions.rules import hours as rules
from lieux.contributions.selectors.web import COUNTED
from lieux.core.db import add_to_totals

ACTIVITY_KEY = ("scope", "scope_id", "month", "activity_key")
PERSON_KEY = ("scope", "scope_id", "person_id")


def _counted(contribution: Contribution, activity_ids: Sequence[int]) -> rules.Counted:
    return rules.Counted(
        project_id=contribution.project_id,
        budget_id=contribution.budget_id,
        person_id=contribution.contributor_id,
        performed_on=contribution.performed_on,
        hours=contribution.hours,
        activity_ids=activity_ids,
    )


def count_validated(contribution: Contribution) -> None:
    """Add a contribution that has just become validated to the tallies of its project and budget."""
    activity_ids = list(contribution.activities.values_list("pk", flat=True))
    found = rules.tally([_counted(contribution, activity_ids)])
    add_to_totals(
        ActivityHours,
        key=ACTIVITY_KEY,
        added=("hours",),
        rows=[(*key, hours) for key, hours in found.activities.items()],
    )
    add_to_totals(
        PersonHours,
        key=PERSON_KEY,
        added=("hours", "contributions"),
        rows=[(*key, hours, count) for key, (hours, count) in found.people.items()],
    )


def _scope_filter(scope: str, scope_id: int) -> Q:
    return Q(project_id=scope_id) if scope == rules.PROJECT else Q(budget_id=scope_id)


def counted_in(contributions: Q) -> list[rules.Counted]:
    """The counted contributions matching `contributions`, with their activities."""
    found = Contribution.objects.filter(contributions, status__in=COUNTED)
    links: dict[int, list[int]] = defaultdict(list)
    through = Contribution.activities.through
    for contribution_id, activity_id in through.objects.filter(contribution__in=found).values_list(
        "contribution_id", "activity_id"
    ):
        links[contribution_id].append(activity_id)
    return [
        _counted(contribution, links.get(contribution.pk, []))
        for contribution in found.only(
            "project_id", "budget_id", "contributor_id", "performed_on", "hours"
        ).order_by()
    ]


def recount(scope: str, scope_id: int) -> rules.Tally:
    """A scope's tally rows as its contributions say they should be."""
    found = rules.tally(counted_in(_scope_filter(scope, scope_id)))
    return rules.Tally(
        activities={k: v for k, v in found.activities.items() if k[:2] == (scope, scope_id)},
        people={k: v for k, v in found.people.items() if k[:2] == (scope, scope_id)},
    )


def stored(scope: str, scope_id: int) -> rules.Tally:
    """A scope's tally rows as they are, to compare with `recount`."""
    activities = ActivityHours.objects.filter(scope=scope, scope_id=scope_id)
    people = PersonHours.objects.filter(scope=scope, scope_id=scope_id)
    return rules.Tally(
        activities={
            (scope, scope_id, month, key): hours
            for month, key, hours in activities.values_list("month", "activity_key", "hours")
        },
        people={
            (scope, scope_id, person_id): (hours, count)
            for person_id, hours, count in people.values_list("person_id", "hours", "contributions")
        },
    )


def _write(found: rules.Tally) -> int:
    ActivityHours.objects.bulk_create(
        ActivityHours(scope=scope, scope_id=scope_id, month=month, activity_key=key, hours=hours)
        for (scope, scope_id, month, key), hours in found.activities.items()
    )
    PersonHours.objects.bulk_create(
        PersonHours(scope=scope, scope_id=scope_id, person_id=person_id, hours=hours, contributions=count)
        for (scope, scope_id, person_id), (hours, count) in found.people.items()
    )
    return len(found.activities) + len(found.people)


def rebuild(scopes: Iterable[tuple[str, int]]) -> int:
    """Recompute these scopes' rows from their contributions; the caller holds a transaction. Returns how
    many rows they have."""
    written = 0
    for scope, scope_id in scopes:
        ActivityHours.objects.filter(scope=scope, scope_id=scope_id).delete()
        PersonHours.objects.filter(scope=scope, scope_id=scope_id).delete()
        written += _write(recount(scope, scope_id))
    return written
