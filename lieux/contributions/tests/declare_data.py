"""Helpers of the declaration, import and review tests (their fixtures are in conftest.py)."""

from lieux.contributions.models import Contribution
from lieux.core.models import AuditEvent


def counts() -> tuple[int, int]:
    """What a refused use case must leave as it was: contributions and audit rows."""
    return Contribution.objects.count(), AuditEvent.objects.count()
