"""Projects (chantiers), their stewards, and the activities contributions are filed under.

Creating a project is for the managers of its venue (for a network-wide project, those of any venue of the
network and its admins); changing it also for its stewards. A change of stewards changes who may declare
for others and who reviews: it is audited with who came and who left. `actor=None` is the platform itself
(the CLI, set-up scripts).

Activities: the network's shared ones are added by its managers; a budget's own by the budget's managers
and the stewards of the budget's project.
"""

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_slug
from django.utils.translation import gettext as _

from lieux.accounts.models import User
from lieux.contributions.errors import NotProjectManager, SlugTaken
from lieux.contributions.models import Activity, Budget, Project, ProjectStatus
from lieux.contributions.rules.declarations import MAX_ACTIVITY
from lieux.contributions.selectors import projects as project_selectors
from lieux.contributions.selectors.setup import may_manage_activities
from lieux.core import audit
from lieux.core.db import atomic_with_retry
from lieux.core.errors import ValidationError
from lieux.venues.models import Network, Venue

EDITABLE = ("title", "description", "status", "is_public", "stewards")
MAX_TITLE = 120
MAX_DESCRIPTION = 10_000


def _check_text(value: str, *, field: str, limit: int, required: bool) -> str:
    value = value.strip()
    if required and not value:
        raise ValidationError(_("This field is required."), code="required", field=field)
    if len(value) > limit:
        raise ValidationError(
            _("At most %(limit)s characters.") % {"limit": limit}, code="too_long", field=field
        )
    if "\x00" in value:
        raise ValidationError(_("The text holds control characters."), code="invalid_characters", field=field)
    return value


def _check_status(status: str) -> None:
    if status not in ProjectStatus.values:
        raise ValidationError(_("Not a valid choice."), code="invalid_status", field="status")


def _allowed(actor: Any, *, network_id: int, venue_id: int | None, project: Project | None = None) -> bool:
    if actor is None:
        return True
    if project is not None:
        return project_selectors.may_manage_project(actor, project)
    return project_selectors.may_manage(actor, network_id=network_id, venue_id=venue_id)


def create_project(
    *,
    network: Network,
    slug: str,
    title: str,
    venue: Venue | None = None,
    description: str = "",
    status: str = ProjectStatus.ACTIVE,
    stewards: Iterable[User] = (),
    is_public: bool = True,
    actor: Any = None,
) -> Project:
    slug = slug.strip()
    try:
        validate_slug(slug)
    except DjangoValidationError:
        raise ValidationError(
            _("Use letters, digits, hyphens and underscores."), code="invalid_slug", field="slug"
        ) from None
    if len(slug) > 50:
        raise ValidationError(
            _("At most %(limit)s characters.") % {"limit": 50}, code="too_long", field="slug"
        )
    title = _check_text(title, field="title", limit=MAX_TITLE, required=True)
    description = _check_text(description, field="description", limit=MAX_DESCRIPTION, required=False)
    _check_status(status)
    if venue is not None and venue.network_id != network.pk:
        raise ValidationError(
            _("This venue belongs to another network."), code="venue_elsewhere", field="venue"
        )
    if not _allowed(actor, network_id=network.pk, venue_id=venue.pk if venue else None):
        raise NotProjectManager()
    people = list(dict.fromkeys(stewards))

    def write() -> Project:
        if Project.objects.filter(network=network, slug=slug).exists():
            raise SlugTaken(slug)
        project = Project.objects.create(
            network=network,
            venue=venue,
            slug=slug,
            title=title,
            description=description,
            status=status,
            is_public=is_public,
        )
        project.stewards.set(people)
        audit.record(
            "contributions.project.created",
            project,
            actor=actor,
            venue_id=project.venue_id,
            slug=slug,
            status=status,
            stewards=sorted(p.pk for p in people),
            is_public=is_public,
        )
        return project

    return atomic_with_retry(write)


def update_project(project: Project, *, actor: Any = None, **changes: Any) -> Project:
    """Change what EDITABLE names; `stewards` replaces the whole list."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationError(
            _("These fields cannot be changed: %(fields)s.") % {"fields": ", ".join(sorted(unknown))},
            code="not_editable",
        )
    if not _allowed(actor, network_id=project.network_id, venue_id=project.venue_id, project=project):
        raise NotProjectManager()
    if "title" in changes:
        changes["title"] = _check_text(changes["title"], field="title", limit=MAX_TITLE, required=True)
    if "description" in changes:
        changes["description"] = _check_text(
            changes["description"], field="description", limit=MAX_DESCRIPTION, required=False
        )
    if "status" in changes:
        _check_status(changes["status"])
    new_stewards = changes.pop("stewards", None)

    def write() -> Project:
        current = Project.objects.select_for_update(of=("self",)).get(pk=project.pk)
        before = {field: getattr(current, field) for field in changes}
        for field, value in changes.items():
            setattr(current, field, value)
        changed = [f for f in changes if getattr(current, f) != before[f]]
        if changed:
            current.save(update_fields=changed)
            audit.record(
                "contributions.project.updated",
                current,
                actor=actor,
                venue_id=current.venue_id,
                changes={f: [str(before[f]), str(getattr(current, f))] for f in changed},
            )
        if new_stewards is not None:
            had = set(current.stewards.values_list("pk", flat=True))
            wanted = {p.pk for p in new_stewards}
            if had != wanted:
                current.stewards.set(list(new_stewards))
                audit.record(
                    "contributions.project.stewards_changed",
                    current,
                    actor=actor,
                    venue_id=current.venue_id,
                    added=sorted(wanted - had),
                    removed=sorted(had - wanted),
                )
        return current

    return atomic_with_retry(write)


def clean_activity_name(name: str) -> str:
    """An activity's name with its spaces tidied, or a ValidationError on `name`."""
    name = " ".join(_check_text(name, field="name", limit=MAX_ACTIVITY, required=True).split())
    if any(c in name for c in ",;|") or name.endswith(":") or ": " in name:
        # These separate activities and description in pasted lines.
        raise ValidationError(
            _("An activity's name cannot hold , ; | or a colon followed by a space."),
            code="invalid_activity_name",
            field="name",
        )
    return name


def create_activity(
    *, network: Network, name: str, budget: Budget | None = None, actor: Any = None
) -> Activity:
    """A shared activity of the network (`budget=None`) or a budget's own. The same name again returns the
    existing activity: adding a word twice is not an error."""
    name = clean_activity_name(name)
    if budget is not None and budget.network_id != network.pk:
        raise ValidationError(
            _("This budget belongs to another network."), code="budget_elsewhere", field="budget"
        )
    if not may_manage_activities(actor, network_id=network.pk, budget=budget):
        raise NotProjectManager()

    def write() -> Activity:
        existing = project_selectors.activity_index(network_id=network.pk, budget=budget).get(name.casefold())
        if existing is not None and existing.budget_id == (budget.pk if budget else None):
            return existing
        activity = Activity.objects.create(network=network, budget=budget, name=name)
        audit.record(
            "contributions.activity.created",
            activity,
            actor=actor,
            venue_id=budget.venue_id if budget else None,
            name=name,
            budget=budget.pk if budget else None,
        )
        return activity

    return atomic_with_retry(write)
