from lieux.api import webhooks  # noqa: F401 - registers the webhook router on `api`
from lieux.api.base import api

__all__ = ["api"]
