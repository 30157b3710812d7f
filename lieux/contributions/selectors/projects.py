"""Reads about projects and activities, and who may do what with them.

Projects are cross-venue rows when they have no venue (ARCHITECTURE.md §4.7). A public project is readable
by anyone; a private one by the people of its network (a role at any of its venues, or its admins) and its
stewards. Managing a project (creating it, changing it) is for the managers of its venue, or for a
network-wide project the managers of any venue of the network and its admins (the same people who manage
the budgets), and for its stewards.
"""

from django.db.models import Q, QuerySet

from lieux.contributions.models import Activity, Budget, Project, ProjectStatus
from lieux.contributions.selectors.budgets import managed_venue_ids
from lieux.venues.models import Network, Venue, VenueRole


def network_ids(user) -> set[int]:
    """Networks `user` belongs to: a role at one of their venues, or their admin."""
    if not getattr(user, "is_authenticated", False):
        return set()
    if user.is_superuser:
        return set(Network.objects.values_list("pk", flat=True))
    ids = set(VenueRole.objects.filter(user=user).values_list("venue__network_id", flat=True))
    ids |= set(user.administered_networks.values_list("pk", flat=True))
    return ids


def is_network_member(user, network_id: int) -> bool:
    return network_id in network_ids(user)


def is_steward(user, project: Project) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return project.stewards.filter(pk=user.pk).exists()


def may_manage(user, *, network_id: int, venue_id: int | None) -> bool:
    """Whether `user` runs this venue (or, with no venue, this network): its managers and the network's
    admins."""
    venue_ids = managed_venue_ids(user)
    if venue_id is not None:
        return venue_id in venue_ids
    return Venue.objects.filter(pk__in=venue_ids, network_id=network_id).exists()


def may_manage_project(user, project: Project) -> bool:
    return may_manage(user, network_id=project.network_id, venue_id=project.venue_id) or is_steward(
        user, project
    )


def visible_projects(user) -> QuerySet[Project]:
    readable = Q(is_public=True)
    if getattr(user, "is_authenticated", False):
        readable |= Q(network_id__in=network_ids(user)) | Q(stewards=user)
    return Project.objects.filter(pk__in=Project.objects.filter(readable).values("pk"))


def may_see_project(user, project: Project) -> bool:
    return visible_projects(user).filter(pk=project.pk).exists()


def projects(
    user,
    *,
    network: Network | None = None,
    venue: Venue | None = None,
    network_wide: bool = False,
    status: str | None = None,
    public_only: bool = False,
    stewarded: bool = False,
) -> QuerySet[Project]:
    """The projects `user` may read, by title. `venue`: that venue's own projects; `network_wide`: those
    of the whole network only; `stewarded`: those `user` looks after."""
    found = visible_projects(user)
    if network is not None:
        found = found.filter(network=network)
    if venue is not None:
        found = found.filter(venue=venue)
    elif network_wide:
        found = found.filter(venue__isnull=True)
    if status:
        found = found.filter(status=status)
    if public_only:
        found = found.filter(is_public=True)
    if stewarded:
        found = found.filter(stewards=user)
    return found.select_related("network", "venue").prefetch_related("stewards").order_by("title", "pk")


def public_projects(network: Network, *, venue: Venue | None = None) -> QuerySet[Project]:
    """What the transparency pages list: public projects that are not archived."""
    found = Project.objects.filter(network=network, is_public=True).exclude(status=ProjectStatus.ARCHIVED)
    if venue is not None:
        found = found.filter(venue=venue)
    return found.select_related("venue").order_by("title", "pk")


def project_by_slug(network: Network, slug: str) -> Project | None:
    return Project.objects.filter(network=network, slug=slug).select_related("network", "venue").first()


# Activities -----------------------------------------------------------------------------------------------


def activities_for(*, network_id: int, budget: Budget | None = None) -> QuerySet[Activity]:
    """The activities a contribution may name: the network's shared ones and, with a budget, its own."""
    scope = Q(budget__isnull=True)
    if budget is not None:
        scope |= Q(budget=budget)
    return Activity.objects.filter(scope, network_id=network_id).order_by("name", "pk")


def activity_index(*, network_id: int, budget: Budget | None = None) -> dict[str, Activity]:
    """Activities by their name compared without case; a budget's own word wins over a shared one of the
    same name."""
    index: dict[str, Activity] = {}
    for activity in activities_for(network_id=network_id, budget=budget):
        key = " ".join(activity.name.split()).casefold()
        if key not in index or activity.budget_id is not None:
            index[key] = activity
    return index
