"""Test data for contributions: projects, activities, budgets and their funding, written directly so that
each use case's tests start from a known state without going through the others."""

from datetime import date
from decimal import Decimal

from lieux.accounts.models import User
from lieux.contributions.models import Activity, Budget, Overrun, Project, Validators
from lieux.venues.models import Network, Venue


def project(
    network: Network, slug: str = "jardin", *, venue: Venue | None = None, stewards=(), **fields
) -> Project:
    fields.setdefault("title", slug.replace("-", " ").capitalize())
    made = Project.objects.create(network=network, venue=venue, slug=slug, **fields)
    made.stewards.set(list(stewards))
    return made


def activities(network: Network, *names: str, budget: Budget | None = None) -> list[Activity]:
    return [Activity.objects.get_or_create(network=network, budget=budget, name=name)[0] for name in names]


def budget(
    network: Network,
    slug: str = "fabrique-2026",
    *,
    project: Project | None = None,
    venue: Venue | None = None,
    validators: str = Validators.STEWARDS,
    validations_required: int = 1,
    overrun: str = Overrun.DEFICIT,
    starts_on: date = date(2026, 1, 1),
    ends_on: date = date(2026, 12, 31),
    **fields,
) -> Budget:
    fields.setdefault("name", slug.replace("-", " ").capitalize())
    return Budget.objects.create(
        network=network,
        venue=venue,
        project=project,
        slug=slug,
        validators=validators,
        validations_required=validations_required,
        overrun=overrun,
        starts_on=starts_on,
        ends_on=ends_on,
        **fields,
    )


def euros(value: str | int) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"))


__all__ = ["User", "activities", "budget", "euros", "project"]
