"""Badge anomalies for a venue's team: the same card seen at two venues within minutes (a copied UID, or a
card lent on), as flagged by the access check (services/check.py) and by offline uploads.

A venue sees the anomalies flagged at its doors and those of the badges it issued, with the other venues
involved, by name. No person's name leaves this module: the issuing venue knows whose card it is.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q

from lieux.interlieux.models import AccessAudit, Badge
from lieux.interlieux.services.check import ANOMALY_WINDOW
from lieux.venues.models import Venue


@dataclass(frozen=True)
class BadgeAnomaly:
    at: datetime
    badge: Badge
    venue_name: str
    allowed: bool
    other_venue_names: tuple[str, ...]


def badge_anomalies(venue: Venue, *, limit: int = 50) -> list[BadgeAnomaly]:
    """The newest anomalies concerning `venue`: flagged at its doors, or on a badge it issued."""
    rows = list(
        AccessAudit.objects.filter(anomaly=True, badge__isnull=False)
        .filter(Q(venue=venue) | Q(badge__issued_by=venue))
        .select_related("venue", "badge")
        .order_by("-at", "-pk")[:limit]
    )
    found = []
    for row in rows:
        others = (
            AccessAudit.objects.filter(
                badge=row.badge, at__gte=row.at - ANOMALY_WINDOW, at__lte=row.at + ANOMALY_WINDOW
            )
            .exclude(venue=row.venue)
            .values_list("venue__name", flat=True)
            .distinct()
        )
        assert row.badge is not None
        found.append(
            BadgeAnomaly(
                at=row.at,
                badge=row.badge,
                venue_name=row.venue.name if row.venue else "",
                allowed=row.allowed,
                other_venue_names=tuple(sorted(name for name in others if name)),
            )
        )
    return found
