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
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record() must run inside the transaction that makes the change")
    return AuditEvent.objects.create(
        at=now(),
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        venue_id=venue_id,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        data=data,
    )
