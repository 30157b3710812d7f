"""The HTTP API: one NinjaAPI, bearer-token auth, and every error as `{"detail": …, "code": …}`."""

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer

from lieux.accounts.services import user_for_token
from lieux.core.errors import DomainError


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(
    title="Lieux Communs API",
    version="1",
    description="Venues, resources, availability and bookings of the network. "
    "Authenticate with `Authorization: Bearer <token>` (`lieux token EMAIL` prints one).",
    auth=BearerToken(),
    urls_namespace="api",
)


def error(request: HttpRequest, status: int, detail: str, code: str, **extra) -> HttpResponse:
    return api.create_response(request, {"detail": detail, "code": code, **extra}, status=status)


@api.exception_handler(DomainError)
def on_domain_error(request, exc: DomainError):
    return api.create_response(request, exc.as_dict(), status=exc.status)


@api.exception_handler(NinjaValidationError)
def on_validation_error(request, exc: NinjaValidationError):
    return error(request, 422, "The request is not valid.", "invalid_request", errors=exc.errors)


@api.exception_handler(AuthenticationError)
def on_auth_error(request, exc):
    return error(request, 401, "A valid bearer token is required.", "unauthenticated")


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    return error(request, exc.status_code, str(exc), "http_error")


@api.exception_handler(RequestDataTooBig)
def on_too_big(request, exc):
    return error(request, 413, "The request body is too large.", "body_too_large")


from lieux.api import booking, venues  # noqa: E402,F401 - registers the routers on `api`
