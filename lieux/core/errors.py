"""Domain errors: raised by services, mapped to HTTP statuses by the API and to form errors by the web UI.

Each carries a stable machine `code` and a translatable human `message`; `extra` holds structured details
(the conflicting slot of a refused booking, the field at fault…).
"""

from typing import Any


class DomainError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message: Any, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(str(message))
        self.message = message
        if code:
            self.code = code
        self.extra = extra

    def as_dict(self) -> dict[str, Any]:
        return {"detail": str(self.message), "code": self.code, **self.extra}


class ValidationError(DomainError):
    status = 422
    code = "invalid"


class NotFound(DomainError):
    """Also raised for objects that exist but belong to another venue: no enumeration across tenants."""

    status = 404
    code = "not_found"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class Conflict(DomainError):
    status = 409
    code = "conflict"
