"""Reads about declared contributions and their reviews.

Who reads a contribution: the contributor, the person who declared it, and the people of the project's
network (a role at any of its venues, its admins) and the project's stewards, because review is done by
peers of the collective. Public pages show only what contributors agreed to (ContributorProfile); they
are built elsewhere.
"""

from django.db.models import Q, QuerySet

from lieux.contributions.errors import ContributionNotFound
from lieux.contributions.models import Contribution, Review, Verdict
from lieux.contributions.selectors.projects import network_ids


def visible_contributions(user) -> QuerySet[Contribution]:
    if not getattr(user, "is_authenticated", False):
        return Contribution.objects.none()
    readable = (
        Q(contributor=user)
        | Q(declared_by=user)
        | Q(project__network_id__in=network_ids(user))
        | Q(project__in=user.stewarded_projects.values("pk"))
    )
    return Contribution.objects.filter(readable)


def contributions(
    user,
    *,
    project_id: int | None = None,
    budget_id: int | None = None,
    status: str | None = None,
    mine: bool = False,
    to_review: bool = False,
) -> QuerySet[Contribution]:
    """The contributions `user` may read, newest first. `mine`: those they made; `to_review`: those
    submitted for review that they have not validated yet (whether they may decide is the service's
    question, under the budget's rules)."""
    found = visible_contributions(user)
    if project_id is not None:
        found = found.filter(project_id=project_id)
    if budget_id is not None:
        found = found.filter(budget_id=budget_id)
    if status:
        found = found.filter(status=status)
    if mine:
        found = found.filter(contributor=user)
    if to_review:
        found = (
            found.filter(status="submitted")
            .exclude(contributor=user)
            .exclude(declared_by=user)
            .exclude(reviews__reviewer=user, reviews__verdict=Verdict.VALIDATE)
        )
    return (
        found.select_related("project", "project__venue", "budget", "contributor", "declared_by")
        .prefetch_related("activities")
        .order_by("-performed_on", "-pk")
    )


def contribution_for(user, contribution_id: int) -> Contribution:
    found = (
        visible_contributions(user)
        .filter(pk=contribution_id)
        .select_related(
            "project", "project__network", "project__venue", "budget", "contributor", "declared_by"
        )
        .prefetch_related("activities")
        .first()
    )
    if found is None:
        raise ContributionNotFound()
    return found


def reviews_of(contribution: Contribution) -> QuerySet[Review]:
    return (
        Review.objects.filter(contribution=contribution)
        .select_related("reviewer")
        .order_by("created_at", "pk")
    )


def validations_of(contribution: Contribution) -> set[int]:
    return set(
        Review.objects.filter(contribution=contribution, verdict=Verdict.VALIDATE).values_list(
            "reviewer_id", flat=True
        )
    )
