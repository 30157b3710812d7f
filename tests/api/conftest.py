"""An API client that speaks JSON with a bearer token, and the people and resources the API tests need
beyond the shared fixtures."""

import json

import pytest
from django.test import Client

from lieux.accounts.services import issue_api_token


class ApiClient:
    """The Django test client, with `Authorization: Bearer …` and JSON bodies."""

    def __init__(self, raw_token: str | None = None) -> None:
        self.client = Client()
        self.raw_token = raw_token
        self.authorization: str | None = None  # a whole header value, to try other schemes

    def _headers(self) -> dict[str, str]:
        if self.authorization is not None:
            return {"HTTP_AUTHORIZATION": self.authorization}
        return {"HTTP_AUTHORIZATION": f"Bearer {self.raw_token}"} if self.raw_token else {}

    def get(self, path: str, params: dict | None = None):
        return self.client.get(f"/api/v1{path}", params or {}, **self._headers())

    def post(self, path: str, body=None, *, raw: bytes | str | None = None):
        data = raw if raw is not None else ("" if body is None else json.dumps(body))
        return self.client.post(
            f"/api/v1{path}", data=data, content_type="application/json", **self._headers()
        )

    def patch(self, path: str, body=None, *, raw: bytes | str | None = None):
        data = raw if raw is not None else json.dumps(body or {})
        return self.client.patch(
            f"/api/v1{path}", data=data, content_type="application/json", **self._headers()
        )


def client_for(user) -> ApiClient:
    return ApiClient(issue_api_token(email=user.email, label="tests")[1])


@pytest.fixture
def anonymous(db) -> ApiClient:
    return ApiClient()


@pytest.fixture
def as_member(member) -> ApiClient:
    return client_for(member)


@pytest.fixture
def as_manager(manager) -> ApiClient:
    return client_for(manager)


@pytest.fixture
def as_other_manager(other_manager) -> ApiClient:
    return client_for(other_manager)


@pytest.fixture
def as_other_member(other_member) -> ApiClient:
    return client_for(other_member)


@pytest.fixture
def other_room(other_venue):
    from tests.factories import ResourceFactory

    return ResourceFactory(venue=other_venue, name="Salle Baraka", slug="salle-baraka")


def assert_error(response, status: int, code: str) -> dict:
    """Every API error is JSON with a human `detail` and a machine `code`."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code, body
    assert isinstance(body["detail"], str) and body["detail"]
    return body


def snapshot() -> tuple[int, int, int]:
    """What a refused request must leave untouched: bookings, occupied slots, audit rows."""
    from lieux.booking.models import Booking, Occupancy
    from lieux.core.models import AuditEvent

    return Booking.objects.count(), Occupancy.objects.count(), AuditEvent.objects.count()
