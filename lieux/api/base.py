"""The HTTP API: one NinjaAPI, bearer-token auth, and every error as `{"detail": …, "code": …}`."""

import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, cast

from django.core.exceptions import RequestDataTooBig
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer

from lieux.accounts.models import User
from lieux.accounts.services import user_for_token
from lieux.core.errors import DomainError, ValidationError

logger = logging.getLogger(__name__)


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(
    title="Lieux Communs API",
    version="1",
    description="Venues, resources, availability and bookings of the network.\n\n"
    "- **Authentication**: `Authorization: Bearer <token>` (`lieux token EMAIL` prints one). The directory "
    "(venues, resources, availability) is public; free/busy and bookings need a token.\n"
    "- **Resources** are named `<venue-slug>/<resource-slug>` (their `ref`), in requests and answers.\n"
    "- **Times** are ISO 8601 with a UTC offset; a time without one is refused (`naive_datetime`). Answers "
    "give them in the venue's own offset.\n"
    '- **Errors** are JSON `{"detail": …, "code": …}`: 400 `malformed_json`, 401 `unauthenticated`, '
    "404 (also for what belongs to someone else), 409 `booking_overlap` with the `conflict` slot, "
    "413 `body_too_large`, 422 for invalid input (`invalid_request` lists the fields at fault).\n"
    "- **Lists** of bookings are paginated with `limit`/`offset` and give `count`, `next` and `previous`.",
    auth=BearerToken(),
    urls_namespace="api",
)


def error(request: HttpRequest, status: int, detail: Any, code: str, **extra: Any) -> HttpResponse:
    return api.create_response(request, {"detail": str(detail), "code": code, **extra}, status=status)


@api.exception_handler(DomainError)
def on_domain_error(request, exc: DomainError):
    return api.create_response(request, exc.as_dict(), status=exc.status)


@api.exception_handler(NinjaValidationError)
def on_validation_error(request, exc: NinjaValidationError):
    return error(request, 422, _("The request is not valid."), "invalid_request", errors=exc.errors)


@api.exception_handler(AuthenticationError)
def on_auth_error(request, exc):
    return error(request, 401, _("A valid bearer token is required."), "unauthenticated")


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    # django-ninja turns a body it cannot parse into HttpError(400) chained to the parser's exception.
    if exc.status_code == 400 and isinstance(exc.__cause__, ValueError | RecursionError):
        return error(request, 400, _("The request body is not valid JSON."), "malformed_json")
    return error(request, exc.status_code, str(exc), "http_error")


@api.exception_handler(RequestDataTooBig)
def on_too_big(request, exc):
    return error(request, 413, _("The request body is too large."), "body_too_large")


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return error(request, 404, _("Not found."), "not_found")


@api.exception_handler(Exception)
def on_unexpected(request, exc):
    """A bug, never bad input: logged with its traceback, answered in the API's own error shape."""
    logger.exception("Unhandled error on %s %s", request.method, request.path)
    return error(request, 500, _("Internal error; it has been logged."), "server_error")


def caller(request: HttpRequest) -> User:
    """The person whose bearer token authenticated the request (ninja stores it as `request.auth`)."""
    return cast(Any, request).auth


def require_aware(*moments: datetime | None) -> None:
    """The API takes instants, not wall times: a datetime without an offset is refused, whatever the
    service would make of it (a series would otherwise expand in the server's own time zone)."""
    if any(m is not None and m.tzinfo is None for m in moments):
        raise ValidationError(_("Dates must include a time zone offset."), code="naive_datetime")


DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


def paginate(
    request: HttpRequest,
    queryset: QuerySet,
    *,
    limit: int,
    offset: int,
    serialize: Callable[[Any], dict[str, Any]],
) -> dict[str, Any]:
    """One page as {count, next, previous, results}. `next`/`previous` are the request's own path and
    query with another offset: relative, so they stay right behind any proxy."""
    count = queryset.count()
    rows: Iterable[Any] = queryset[offset : offset + limit] if offset < count else []

    def page_at(at: int) -> str:
        query = request.GET.copy()
        query["limit"] = str(limit)
        query["offset"] = str(at)
        return f"{request.path}?{query.urlencode()}"

    return {
        "count": count,
        "next": page_at(offset + limit) if offset + limit < count else None,
        "previous": page_at(max(0, offset - limit)) if offset > 0 else None,
        "results": [serialize(row) for row in rows],
    }


from lieux.api import billing, booking, memberships, venues  # noqa: E402,F401 - registers the routers on `api`
