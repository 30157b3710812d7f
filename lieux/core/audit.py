"""Writing the audit trail. Call inside the transaction that makes the change."""

from typing import Any

from django.db import models, transaction

from lieux.core.models import AuditEvent
from lieux.core.time import now


def record(
    action: str,
    obj: models.Model,
    *,
    actor: Any = None,
    venue_id: int | None = None,
    **data: Any,
) -> AuditEvent:
    _require_transaction()
    event = entry(action, obj, actor=actor, venue_id=venue_id, **data)
    event.save()
    return event


def entry(
    action: str,
    obj: models.Model,
    *,
    actor: Any = None,
    venue_id: int | None = None,
    **data: Any,
) -> AuditEvent:
    """The audit row `record` writes, not saved yet: for `record_all`."""
    return AuditEvent(
        at=now(),
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        venue_id=venue_id,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        data=data,
    )


def record_all(events: list[AuditEvent]) -> list[AuditEvent]:
    """Write many rows made by `entry` in one statement (a batch of changes in one transaction)."""
    _require_transaction()
    return AuditEvent.objects.bulk_create(events)


def _require_transaction() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record() must run inside the transaction that makes the change")
