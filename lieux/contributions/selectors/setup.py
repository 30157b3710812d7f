"""Reads of the set-up pages: who may change the words contributions are filed under and the credit offered
for payouts, and what the set-up forms may offer to choose from.

- The network's **shared activities** are changed by those who run the network: the managers of any of its
  venues and its admins (the people who manage network-wide budgets). A **budget's own activities** by the
  budget's managers and the stewards of the budget's project.
- **Credit offered for payouts** (CreditConversion) is a network's row, but it commits one venue to honour
  the credit: only those who manage that venue (its managers, the network's admins) may offer it, change
  its rate or withdraw it. The network's other managers see it.
"""

from django.db.models import Count, Q, QuerySet

from lieux.contributions.models import (
    Activity,
    AllocationRound,
    Budget,
    CreditConversion,
    Project,
    ProjectStatus,
    RoundProject,
)
from lieux.contributions.selectors.budgets import managed_venue_ids, may_manage, may_manage_budget
from lieux.contributions.selectors.projects import is_steward, visible_projects
from lieux.memberships.models import CreditType
from lieux.venues.models import Network, Venue


def managed_venues(user) -> QuerySet[Venue]:
    return Venue.objects.filter(pk__in=managed_venue_ids(user)).select_related("network").order_by("name")


def setup_network(user) -> Network | None:
    """The network whose set-up `user` may reach: that of the first venue they run (one installation
    serves one network), or None when they run none."""
    first = managed_venues(user).first()
    return first.network if first is not None else None


# Activities ----------------------------------------------------------------------------------------------


def may_manage_activities(user, *, network_id: int, budget: Budget | None) -> bool:
    """Whether `user` may add, rename or remove the shared activities of the network (`budget=None`) or
    a budget's own. `None` is the platform itself."""
    if user is None:
        return True
    if budget is None:
        return may_manage(user, network_id=network_id, venue_id=None)
    return may_manage_budget(user, budget) or (
        budget.project is not None and is_steward(user, budget.project)
    )


def activities_in_scope(*, network_id: int, budget: Budget | None) -> QuerySet[Activity]:
    """The network's shared activities (`budget=None`) or a budget's own only, each with `uses`: how many
    contributions name it."""
    scope = Q(budget=budget) if budget is not None else Q(budget__isnull=True)
    return (
        Activity.objects.filter(scope, network_id=network_id)
        .annotate(uses=Count("contributions"))
        .order_by("name", "pk")
    )


# Credit offered for payouts ----------------------------------------------------------------------------


def may_offer_credit(user, credit_type: CreditType) -> bool:
    venue = credit_type.venue
    return may_manage(user, network_id=venue.network_id, venue_id=venue.pk)


def credit_offers(network: Network) -> QuerySet[CreditConversion]:
    """Every conversion of the network, offered or withdrawn, venue by venue."""
    return (
        CreditConversion.objects.filter(network=network)
        .select_related("credit_type__venue")
        .order_by("credit_type__venue__name", "credit_type__name", "pk")
    )


def offerable_credit_types(user, network: Network) -> QuerySet[CreditType]:
    """Credit types of the venues of `network` that `user` runs and that the network does not offer yet."""
    taken = CreditConversion.objects.filter(network=network).values("credit_type_id")
    return (
        CreditType.objects.filter(venue_id__in=managed_venue_ids(user), venue__network=network)
        .exclude(pk__in=taken)
        .select_related("venue")
        .order_by("venue__name", "name", "pk")
    )


# Budgets and rounds ------------------------------------------------------------------------------------


def projects_for_budget(user, network: Network) -> QuerySet[Project]:
    """Projects a new budget may be for: those of the network `user` may read, not archived."""
    return (
        visible_projects(user)
        .filter(network=network)
        .exclude(status=ProjectStatus.ARCHIVED)
        .select_related("venue")
        .order_by("title", "pk")
    )


def projects_for_round(round_: AllocationRound) -> QuerySet[Project]:
    """Projects that may still be proposed in a round: of its network, not archived, not proposed yet; for
    a venue's round, that venue's projects and the network-wide ones (its participants are that venue's
    people)."""
    found = Project.objects.filter(network_id=round_.network_id).exclude(status=ProjectStatus.ARCHIVED)
    if round_.venue_id is not None:
        found = found.filter(Q(venue_id=round_.venue_id) | Q(venue__isnull=True))
    proposed = RoundProject.objects.filter(round=round_).values("project_id")
    return found.exclude(pk__in=proposed).select_related("venue").order_by("title", "pk")


def round_proposals(round_: AllocationRound) -> QuerySet[RoundProject]:
    return round_.projects.select_related("project", "project__venue").order_by("project__title", "pk")
