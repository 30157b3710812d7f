"""Forgetting what the Pass Interlieux no longer needs: spent and revoked QR tokens once they have
expired, the door's access checks and offline passages after their retention. Visits stay: the clearing
between venues and each person's history are built on them.

Idempotent and safe to run at any time: what it deletes can no longer change a decision. Deletes in
batches, each its own short transaction, so doors keep scanning while a large backlog goes.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Model, QuerySet

from lieux.core.time import now
from lieux.interlieux.models import AccessAudit, OfflinePassage, RevokedToken, UsedToken
from lieux.interlieux.services.offline import MAX_AGE, MAX_AHEAD
from lieux.memberships.rules.periods import add_months

# A used token refuses a replay until the token expires (tokens.verify has no grace after expiry); the
# margin covers the clocks of several servers drifting apart.
TOKEN_MARGIN = timedelta(hours=1)
# An offline passage is what refuses the same passage uploaded again, which the server accepts while the
# passage is younger than offline.MAX_AGE: it is never forgotten sooner, whatever the setting says.
OFFLINE_FLOOR = MAX_AGE + MAX_AHEAD + timedelta(days=1)
BATCH = 5000


@dataclass(frozen=True)
class PurgeReport:
    used_tokens: int
    revoked_tokens: int
    access_checks: int
    offline_passages: int

    def summary(self) -> str:
        return (
            f"{self.used_tokens} used tokens, {self.revoked_tokens} revoked tokens, "
            f"{self.access_checks} access checks, {self.offline_passages} offline passages"
        )


def audit_cutoff(at: datetime, months: int) -> datetime:
    """`months` calendar months before `at` (31 March − 1 month = 28 or 29 February)."""
    return datetime.combine(add_months(at.date(), -months), at.timetz())


def offline_cutoff(at: datetime, days: int) -> datetime:
    return at - max(timedelta(days=days), OFFLINE_FLOOR)


def purge(
    *,
    at: datetime | None = None,
    audit_months: int | None = None,
    offline_days: int | None = None,
    dry_run: bool = False,
) -> PurgeReport:
    """Delete (or with `dry_run` only count) what is past its retention at `at` (default now). Retentions
    default to the settings LIEUX_ACCESS_AUDIT_RETENTION_MONTHS and LIEUX_OFFLINE_PASSAGE_RETENTION_DAYS."""
    at = at or now()
    months = settings.LIEUX_ACCESS_AUDIT_RETENTION_MONTHS if audit_months is None else audit_months
    days = settings.LIEUX_OFFLINE_PASSAGE_RETENTION_DAYS if offline_days is None else offline_days
    targets: list[QuerySet] = [
        UsedToken.objects.filter(expires_at__lt=at - TOKEN_MARGIN),
        RevokedToken.objects.filter(expires_at__lt=at - TOKEN_MARGIN),
        AccessAudit.objects.filter(at__lt=audit_cutoff(at, max(months, 1))),
        OfflinePassage.objects.filter(seen_at__lt=offline_cutoff(at, days)),
    ]
    counts = [queryset.count() if dry_run else _delete(queryset) for queryset in targets]
    return PurgeReport(*counts)


def _delete(queryset: QuerySet) -> int:
    model: type[Model] = queryset.model
    deleted = 0
    while True:
        ids = list(queryset.order_by("pk").values_list("pk", flat=True)[:BATCH])
        if not ids:
            return deleted
        with transaction.atomic():
            deleted += model._default_manager.filter(pk__in=ids).delete()[0]
