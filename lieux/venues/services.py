"""Venue writes done by a venue's own staff."""

from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _

from lieux.core import audit
from lieux.core.db import atomic_with_retry
from lieux.core.errors import NotFound, ValidationError
from lieux.venues import selectors
from lieux.venues.models import Resource

RULE_FIELDS = (
    "min_duration",
    "max_duration",
    "granularity_minutes",
    "max_advance_days",
    "cancellation_deadline",
    "buffer_before",
    "buffer_after",
    "approval_required",
    "bookable_by",
    "is_active",
)


def _plain(value: Any) -> Any:
    """A JSON-friendly form of a rule value for the audit trail."""
    if isinstance(value, timedelta):
        return int(value.total_seconds())
    return value


def update_resource_rules(*, actor, resource: Resource, **changes: Any) -> Resource:
    """Change the booking rules of a resource (durations, step, advance window, deadline, buffers,
    approval, who may book, whether it is bookable at all). Only the staff of its venue may; anyone else
    is told the resource does not exist. Invalid values raise ValidationError with the fields at fault
    and change nothing. Bookings already made keep their slot: the rules apply to the next booking."""
    unknown = sorted(set(changes) - set(RULE_FIELDS))
    if unknown:
        raise ValidationError(
            _("These are not booking rules: %(fields)s.") % {"fields": ", ".join(unknown)},
            code="unknown_rule",
            fields=unknown,
        )
    if not selectors.is_staff_of(actor, resource.venue_id):
        raise NotFound(_("No such resource."), code="unknown_resource")

    def write() -> Resource:
        current = Resource.objects.select_for_update().get(pk=resource.pk)
        before = {name: getattr(current, name) for name in changes}
        for name, value in changes.items():
            setattr(current, name, value)
        changed = [name for name in changes if before[name] != getattr(current, name)]
        if not changed:
            return current
        try:
            current.full_clean()
        except DjangoValidationError as error:
            raise ValidationError(
                " ".join(error.messages), code="invalid_rules", errors=error.message_dict
            ) from error
        current.save(update_fields=changed)
        audit.record(
            "venues.resource.rules_changed",
            current,
            actor=actor,
            venue_id=current.venue_id,
            before={name: _plain(before[name]) for name in changed},
            after={name: _plain(getattr(current, name)) for name in changed},
        )
        return current

    updated = atomic_with_retry(write)
    for name in RULE_FIELDS:
        setattr(resource, name, getattr(updated, name))
    return updated
