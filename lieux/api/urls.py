from lieux.api import (
    budgets,  # noqa: F401 - registers the contributive-budget router on `api`
    contributions,  # noqa: F401 - registers the projects and contributions router on `api`
    interlieux,  # noqa: F401 - registers the door-access router on `api`
    webhooks,  # noqa: F401 - registers the webhook router on `api`
)
from lieux.api.base import api

__all__ = ["api"]
