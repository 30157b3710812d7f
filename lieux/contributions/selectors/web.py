"""Reads the web pages of contributions need in a shape the other selectors do not give: the budgets a
declaration may ask from, who may open a budget's page, the public transparency figures (contributors as
they agreed to appear, hours by activity and month), payouts and the credit offered in exchange, allocation
rounds, and the years a person may get a certificate for. Read-only.

Public figures count only what the peers accepted (validated, or validated then paid): a declaration
awaiting review or refused is nobody's business outside the collective.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from math import ceil

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from lieux.accounts.models import User
from lieux.contributions.models import (
    Activity,
    ActivityHours,
    Allocation,
    AllocationRound,
    Budget,
    BudgetStatus,
    Contribution,
    ContributionStatus,
    ContributorProfile,
    CreditConversion,
    Payout,
    PersonHours,
    Project,
    ProjectStatus,
    RoundParticipant,
    RoundStatus,
    Visibility,
)
from lieux.contributions.selectors.budgets import (
    managed_budgets_filter,
    managed_venue_ids,
    may_manage_budget,
    owed_ranking,
    owed_to,
)
from lieux.contributions.selectors.projects import is_steward, network_ids
from lieux.core.money import ZERO, cents
from lieux.venues.models import Venue

COUNTED = (ContributionStatus.VALIDATED, ContributionStatus.PAID)


# Declaring -------------------------------------------------------------------------------------------------


def budgets_for_declaring(project: Project, user=None) -> QuerySet[Budget]:
    """Budgets a contribution to `project` may ask money from: open or in deficit (not closed), of its
    network, and covering it (rules.declarations.covers says the same for one budget). Given `user`, only
    those they may know of: public ones, the project's own, and those they manage (a private budget's
    very name is its managers' business)."""
    covering = Q(project=project) | Q(project__isnull=True, venue__isnull=True)
    if project.venue_id is None:
        covering |= Q(project__isnull=True, venue__isnull=False)
    else:
        covering |= Q(project__isnull=True, venue_id=project.venue_id)
    found = Budget.objects.filter(covering, network_id=project.network_id).exclude(status=BudgetStatus.CLOSED)
    if user is not None:
        found = found.filter(Q(is_public=True) | Q(project=project) | managed_budgets_filter(user))
    return found.order_by("name", "pk")


# Budgets ---------------------------------------------------------------------------------------------------

MANAGE, FULL, OWN = "manage", "full", "own"


def budget_access(user, budget: Budget) -> str | None:
    """What `user` may see of a budget's page: MANAGE (everything, and the managers' forms), FULL (its
    figures, sources and payouts), OWN (only what it owes them, on a private budget they contributed to),
    or None (not found for them).

    Managers see everything. A public budget's figures are public anyway: the people of its network and
    its contributors see its page. A private budget's figures are its managers' only; a contributor still
    sees what it owes them, to choose how to be paid."""
    if not getattr(user, "is_authenticated", False):
        return None
    if may_manage_budget(user, budget):
        return MANAGE
    contributed = Contribution.objects.filter(budget=budget, contributor=user).exists()
    if budget.is_public and (
        contributed
        or budget.network_id in network_ids(user)
        or (budget.project is not None and is_steward(user, budget.project))
    ):
        return FULL
    return OWN if contributed else None


def budgets_for(user) -> QuerySet[Budget]:
    """The budgets listed to `user`: the public ones of their networks, those they manage, and those they
    asked money from."""
    if not getattr(user, "is_authenticated", False):
        return Budget.objects.none()
    readable = (
        Q(is_public=True, network_id__in=network_ids(user))
        | managed_budgets_filter(user)
        | Q(pk__in=Contribution.objects.filter(contributor=user, budget__isnull=False).values("budget_id"))
    )
    return (
        Budget.objects.filter(readable)
        .select_related("network", "venue", "project")
        .order_by("-starts_on", "name", "pk")
    )


def budget_payouts(budget: Budget, person: User | None = None) -> QuerySet[Payout]:
    found = Payout.objects.filter(budget=budget)
    if person is not None:
        found = found.filter(person=person)
    return found.select_related("person", "conversion__credit_type__venue").order_by("-paid_on", "-pk")


@dataclass(frozen=True)
class Owed:
    person: User
    amount: Decimal
    structure_name: str  # where euros may be paid instead of the person


@dataclass(frozen=True)
class OwedPage:
    """One page of the people a budget owes, most owed first, among those a search found."""

    rows: list[Owed]
    number: int  # from 1
    found: int  # people the search found; everyone owed when there is no search
    found_total: Decimal
    people: int  # everyone the budget owes
    total: Decimal  # what it owes them all


def people_matching(search: str) -> QuerySet[User]:
    """People whose name or e-mail address holds every word of `search`, whatever the case."""
    found = User.objects.all()
    for word in search.split():
        found = found.filter(
            Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(email__icontains=word)
        )
    return found


def owed_people(budget: Budget, *, search: str = "", page: int = 1, per_page: int = 50) -> OwedPage:
    """A page of who the budget still owes, most owed first, with how many they are and what they are
    owed in all (budgets.owed_ranking reads one PersonOwed row per person): people and profiles are read
    for the rows shown only. A page past the end gives the last one."""
    everyone = owed_ranking(budget)
    people, total = _count_and_total(everyone)
    found_rows = owed_ranking(budget, people_matching(search)) if search.strip() else everyone
    found, found_total = (people, total) if found_rows is everyone else _count_and_total(found_rows)
    number = min(max(page, 1), max(ceil(found / per_page), 1))
    shown = found_rows.values_list("person_id", "amount")[(number - 1) * per_page : number * per_page]
    return OwedPage(_owed_rows(list(shown)), number, found, found_total, people, total)


def _count_and_total(ranking: QuerySet) -> tuple[int, Decimal]:
    row = ranking.aggregate(count=Count("pk"), total=Sum("amount"))
    return row["count"], cents(row["total"] or ZERO)


def _owed_rows(rows: list[tuple[int, Decimal]]) -> list[Owed]:
    ids = [person_id for person_id, _owed in rows]
    people = User.objects.only("first_name", "last_name", "email").in_bulk(ids)
    structures = dict(
        ContributorProfile.objects.filter(person_id__in=ids).values_list("person_id", "structure_name")
    )
    return [Owed(people[pk], cents(owed), structures.get(pk, "")) for pk, owed in rows if pk in people]


def payees(budget: Budget) -> QuerySet[User]:
    """The people a payout in euros may be for: those the budget owes something, each with `owed` and
    `structure_name`. Narrowed to one person, only that person's row is read."""
    structure = ContributorProfile.objects.filter(person=OuterRef("pk")).values("structure_name")[:1]
    return owed_to(budget).annotate(structure_name=Coalesce(Subquery(structure), Value("")))


def payee(budget: Budget, person_id: int) -> Owed | None:
    """What the budget owes this person, to pay them; None when it owes them nothing."""
    person = payees(budget).filter(pk=person_id).first()
    return None if person is None else owed_row(person)


def owed_row(person: User) -> Owed:
    """A person read through `payees`, as a row of what is owed."""
    return Owed(person, person.owed, person.structure_name)  # type: ignore[attr-defined]


def offered_conversions(budget: Budget) -> list[CreditConversion]:
    """The credit the budget's network offers in exchange for euros owed, venue by venue."""
    return list(
        CreditConversion.objects.filter(network_id=budget.network_id, is_active=True)
        .select_related("credit_type__venue")
        .order_by("credit_type__venue__name", "credit_type__name", "pk")
    )


def other_open_budgets(budget: Budget) -> QuerySet[Budget]:
    """Where a deficit may be carried over: the network's other budgets not closed."""
    return (
        Budget.objects.filter(network_id=budget.network_id)
        .exclude(pk=budget.pk)
        .exclude(status=BudgetStatus.CLOSED)
        .order_by("-starts_on", "name")
    )


# Public transparency ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicContributor:
    label: str  # the person's name or pseudonym, as they chose
    hours: Decimal
    contributions: int


@dataclass(frozen=True)
class PublicPeople:
    shown: list[PublicContributor]  # most hours first
    named: int  # all those who agreed to appear, listed or not
    anonymous_people: int  # counted, never named: no consent, or consent withdrawn
    anonymous_hours: Decimal
    anonymous_contributions: int


def public_names(person_ids: Iterable[int] | QuerySet) -> dict[int, str]:
    """How each of these people agreed to be named on public pages: their name or their pseudonym. Those
    without a profile, or hidden, are absent: no consent, no name."""
    rows = (
        ContributorProfile.objects.filter(person_id__in=person_ids)
        .exclude(visibility=Visibility.HIDDEN)
        .values_list(
            "person_id", "visibility", "pseudonym", "person__first_name", "person__last_name", "person__email"
        )
    )
    labels = {}
    for pk, visibility, pseudonym, first_name, last_name, email in rows:
        # As User.get_full_name, or else get_short_name: read as values, the page lists thousands.
        full_name = f"{first_name} {last_name}".strip() or email.split("@")[0]
        label = (pseudonym if visibility == Visibility.PSEUDONYM else full_name).strip()
        if label:
            labels[pk] = label
    return labels


def public_people(scope: str, scope_id: int, *, limit: int | None = None) -> PublicPeople:
    """Who contributed to a project or a budget (models.Scope), as each person agreed to appear
    (ContributorProfile): by name, under a pseudonym, or only counted. No profile means no consent:
    counted, not shown. Read from the PersonHours tally, a row per person; with `limit`, only that many
    of those named are listed, those who gave the most hours."""
    rows = PersonHours.objects.filter(scope=scope, scope_id=scope_id)
    totals = {
        pk: (hours, count) for pk, hours, count in rows.values_list("person_id", "hours", "contributions")
    }
    labels = public_names(rows.values("person_id"))
    shown: list[PublicContributor] = []
    hidden_people, hidden_hours, hidden_count = 0, ZERO, 0
    for pk, (hours, count) in totals.items():
        if pk in labels:
            shown.append(PublicContributor(labels[pk], hours, count))
        else:
            hidden_people += 1
            hidden_hours += hours
            hidden_count += count
    shown.sort(key=lambda row: (-row.hours, row.label.casefold()))
    return PublicPeople(shown[:limit], len(shown), hidden_people, hidden_hours, hidden_count)


@dataclass(frozen=True)
class ActivityMonths:
    months: list[date]  # first days, oldest first, every month of the span even without hours
    activities: list[str]  # most hours first; "" stands for contributions naming no activity
    hours: dict[tuple[date, str], Decimal]  # (month, activity) → hours

    def total(self, month: date) -> Decimal:
        return sum((self.hours.get((month, a), ZERO) for a in self.activities), ZERO)


def _months(first: date, last: date) -> list[date]:
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return months


def hours_by_activity_and_month(scope: str, scope_id: int, *, last_months: int = 24) -> ActivityMonths:
    """A project's or a budget's hours per month and activity over the last `last_months` months that
    have any, read from the ActivityHours tally. A contribution naming several activities shares its hours
    equally between them (as the reports do), so a month's stacked bars add up to its hours; activities of
    the same name (one of the network, one of a budget) make one."""
    rows = [
        row
        for row in ActivityHours.objects.filter(scope=scope, scope_id=scope_id).values_list(
            "month", "activity_key", "hours"
        )
        if row[2]
    ]
    if not rows:
        return ActivityMonths([], [], {})
    names = dict(Activity.objects.filter(pk__in={key for _m, key, _h in rows}).values_list("pk", "name"))
    months = _months(min(m for m, _k, _h in rows), max(m for m, _k, _h in rows))[-last_months:]
    hours: dict[tuple[date, str], Decimal] = defaultdict(lambda: ZERO)
    for month, key, amount in rows:
        if month >= months[0]:
            hours[(month, names.get(key, ""))] += amount
    by_activity: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for (_month, name), amount in hours.items():
        by_activity[name] += amount
    activities = sorted(by_activity, key=lambda name: (-by_activity[name], name == "", name.casefold()))
    return ActivityMonths(months, activities, dict(hours))


def public_budgets(project: Project) -> QuerySet[Budget]:
    return Budget.objects.filter(project=project, is_public=True).order_by("-starts_on", "name")


def public_index(network_id: int) -> tuple[QuerySet[Project], QuerySet[Budget]]:
    projects = (
        Project.objects.filter(network_id=network_id, is_public=True)
        .exclude(status=ProjectStatus.ARCHIVED)
        .select_related("venue")
        .order_by("title", "pk")
    )
    budgets = (
        Budget.objects.filter(network_id=network_id, is_public=True)
        .select_related("venue")
        .order_by("-starts_on", "name")
    )
    return projects, budgets


# Rounds ----------------------------------------------------------------------------------------------------


def rounds_for(user) -> QuerySet[AllocationRound]:
    """Rounds of the networks `user` belongs to (not those in preparation, unless they manage them) and
    those they take part in."""
    if not getattr(user, "is_authenticated", False):
        return AllocationRound.objects.none()
    managed = managed_venue_ids(user)
    managed_networks = set(Venue.objects.filter(pk__in=managed).values_list("network_id", flat=True))
    readable = (
        Q(network_id__in=network_ids(user)) & ~Q(status=RoundStatus.DRAFT)
        | Q(participants__person=user)
        | Q(venue_id__in=managed)
        | Q(venue__isnull=True, network_id__in=managed_networks)
    )
    return (
        AllocationRound.objects.filter(pk__in=AllocationRound.objects.filter(readable).values("pk"))
        .select_related("network", "venue")
        .order_by("-opens_at", "pk")
    )


def participant_of(round_: AllocationRound, user) -> RoundParticipant | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return RoundParticipant.objects.filter(round=round_, person=user).first()


def allocated_totals(round_: AllocationRound) -> dict[int, Decimal]:
    """Round project id → what all participants put on it so far."""
    rows = (
        Allocation.objects.filter(round_project__round=round_)
        .values_list("round_project_id")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    return {pk: total or ZERO for pk, total in rows}


def allocations_of(participant: RoundParticipant | None) -> dict[int, Decimal]:
    if participant is None:
        return {}
    return dict(participant.allocations.values_list("round_project_id", "amount"))


# A person's own ---------------------------------------------------------------------------------------------


def certificate_years(person: User) -> list[int]:
    """Years with at least one validated contribution of `person`, latest first."""
    days = Contribution.objects.filter(contributor=person, status__in=COUNTED).dates("performed_on", "year")
    return sorted({day.year for day in days}, reverse=True)


def profile_of(person: User) -> ContributorProfile | None:
    return ContributorProfile.objects.filter(person=person).first()


def awaiting_my_confirmation(person: User) -> QuerySet[Contribution]:
    return (
        Contribution.objects.filter(contributor=person, status=ContributionStatus.AWAITING_CONFIRMATION)
        .select_related("project", "declared_by", "budget")
        .order_by("-performed_on", "-pk")
    )
