from lieux.api.base import api

__all__ = ["api"]
