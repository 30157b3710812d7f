from lieux.api import (
    interlieux,  # noqa: F401 - registers the door-access router on `api`
    webhooks,  # noqa: F401 - registers the webhook router on `api`
)
from lieux.api.base import api

__all__ = ["api"]
