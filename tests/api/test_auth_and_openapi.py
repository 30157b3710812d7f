"""Bearer-token authentication, the public directory, and the OpenAPI document and its docs page."""

import json

import pytest

from lieux.accounts.models import ApiToken
from lieux.accounts.services import issue_api_token
from lieux.core.time import now
from tests.api.conftest import ApiClient, assert_error, snapshot
from tests.factories import at, future_day

DAY = future_day()

PROTECTED = [
    ("get", "/bookings"),
    ("post", "/bookings"),
    ("get", "/bookings/1"),
    ("patch", "/bookings/1"),
    ("post", "/bookings/1/cancel"),
    ("post", "/bookings/1/approve"),
    ("post", "/bookings/1/refuse"),
    ("post", "/bookings/1/confirm"),
    ("get", "/resources/la-coroutine/salle-ada/busy"),
]


def booking_body():
    return {
        "resource": "la-coroutine/salle-ada",
        "start": at(DAY, 10).isoformat(),
        "end": at(DAY, 11).isoformat(),
        "title": "Réunion",
    }


def send(client: ApiClient, method: str, path: str):
    if method == "get":
        return client.get(path)
    if method == "patch":
        return client.patch(path, {"title": "x"})
    return client.post(path, booking_body())


@pytest.fixture
def revoked_token(member) -> str:
    token, raw = issue_api_token(email=member.email)
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=now())
    return raw


@pytest.fixture
def inactive_users_token(stranger) -> str:
    raw = issue_api_token(email=stranger.email)[1]
    stranger.is_active = False
    stranger.save(update_fields=["is_active"])
    return raw


@pytest.mark.parametrize(
    "credentials",
    ["none", "unknown", "revoked", "inactive_user", "basic_scheme", "empty_bearer"],
)
@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_without_a_valid_token_the_answer_is_a_json_401(
    member, room, revoked_token, inactive_users_token, credentials, method, path
):
    client = ApiClient()
    if credentials == "unknown":
        client.raw_token = "lc_" + "x" * 43
    elif credentials == "revoked":
        client.raw_token = revoked_token
    elif credentials == "inactive_user":
        client.raw_token = inactive_users_token
    elif credentials == "basic_scheme":
        client.authorization = "Basic bWVtYnJlQGV4YW1wbGUub3JnOnNlY3JldA=="
    elif credentials == "empty_bearer":
        client.authorization = "Bearer "
    before = snapshot()
    response = send(client, method, path)
    assert_error(response, 401, "unauthenticated")
    assert snapshot() == before


def test_a_valid_token_is_accepted(member, room):
    raw = issue_api_token(email=member.email)[1]
    response = ApiClient(raw).get("/bookings")
    assert response.status_code == 200


@pytest.mark.parametrize(
    "path",
    ["/venues", "/venues/la-coroutine", "/resources", f"/availability?date={DAY.isoformat()}"],
)
def test_the_directory_is_public(anonymous, room, path):
    assert anonymous.get(path).status_code == 200


# --- OpenAPI ---------------------------------------------------------------------------------------------

EXPECTED_OPERATIONS = {
    ("get", "/api/v1/venues"),
    ("get", "/api/v1/venues/{slug}"),
    ("get", "/api/v1/resources"),
    ("get", "/api/v1/availability"),
    ("get", "/api/v1/resources/{venue_slug}/{resource_slug}/busy"),
    ("post", "/api/v1/bookings"),
    ("get", "/api/v1/bookings"),
    ("get", "/api/v1/bookings/{booking_id}"),
    ("patch", "/api/v1/bookings/{booking_id}"),
    ("post", "/api/v1/bookings/{booking_id}/cancel"),
    ("post", "/api/v1/bookings/{booking_id}/approve"),
    ("post", "/api/v1/bookings/{booking_id}/refuse"),
    ("post", "/api/v1/bookings/{booking_id}/confirm"),
    ("get", "/api/v1/invoices"),
    ("get", "/api/v1/invoices/{invoice_id}"),
    ("get", "/api/v1/invoices/{invoice_id}/pdf"),
    ("post", "/api/v1/invoices/{invoice_id}/credit-note"),
    ("get", "/api/v1/plans"),
    ("post", "/api/v1/plans"),
    ("get", "/api/v1/plans/{plan_id}"),
    ("get", "/api/v1/subscriptions"),
    ("post", "/api/v1/subscriptions"),
    ("get", "/api/v1/subscriptions/{subscription_id}"),
    ("get", "/api/v1/credits"),
    ("post", "/api/v1/invoices/{invoice_id}/payments"),
    ("get", "/api/v1/payments"),
    ("post", "/api/v1/webhooks/{provider}"),
    ("post", "/api/v1/access/check"),
    ("get", "/api/v1/access/allowlist"),
    ("post", "/api/v1/access/offline-visits"),
    ("get", "/api/v1/budgets"),
    ("get", "/api/v1/budgets/{budget_id}"),
    ("get", "/api/v1/projects"),
    ("post", "/api/v1/projects"),
    ("get", "/api/v1/contributions"),
    ("post", "/api/v1/contributions"),
    ("get", "/api/v1/contributions/{contribution_id}"),
    ("post", "/api/v1/contributions/import"),
    ("post", "/api/v1/contributions/{contribution_id}/review"),
    ("post", "/api/v1/contributions/{contribution_id}/confirm"),
    ("post", "/api/v1/contributions/{contribution_id}/withdraw"),
}
PUBLIC_OPERATIONS = {
    ("get", "/api/v1/venues"),
    ("get", "/api/v1/venues/{slug}"),
    ("get", "/api/v1/resources"),
    ("get", "/api/v1/availability"),
    ("post", "/api/v1/webhooks/{provider}"),  # authenticated by the provider's signature
    ("get", "/api/v1/budgets"),  # transparency: public budgets for all, private ones for their managers
    ("get", "/api/v1/budgets/{budget_id}"),
}
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


@pytest.fixture
def document(anonymous) -> dict:
    response = anonymous.get("/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    return json.loads(response.content)


def test_the_openapi_document_lists_every_operation_documented(document):
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] and document["info"]["version"]
    operations = {
        (method, path): op
        for path, item in document["paths"].items()
        for method, op in item.items()
        if method in HTTP_METHODS
    }
    assert set(operations) == EXPECTED_OPERATIONS
    for key, op in operations.items():
        assert op.get("summary"), key
        assert op.get("description"), key
        assert op.get("tags"), key
        assert "200" in op["responses"] or "201" in op["responses"], key
        assert ("security" in op) == (key not in PUBLIC_OPERATIONS), key
    ids = [op["operationId"] for op in operations.values()]
    assert len(ids) == len(set(ids))


def test_every_path_parameter_is_declared(document):
    for path, item in document["paths"].items():
        for method, op in item.items():
            if method not in HTTP_METHODS:
                continue
            declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            in_template = {part[1:-1] for part in path.split("/") if part.startswith("{")}
            assert declared == in_template, (method, path)


def test_every_reference_in_the_openapi_document_resolves(document):
    def refs(node):
        if isinstance(node, dict):
            if "$ref" in node:
                yield node["$ref"]
            for value in node.values():
                yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    found = list(refs(document))
    assert found
    for ref in found:
        assert ref.startswith("#/"), ref
        target = document
        for part in ref[2:].split("/"):
            target = target[part]
        assert isinstance(target, dict), ref


def test_bearer_auth_is_declared(document):
    schemes = document["components"]["securitySchemes"]
    assert {"type": "http", "scheme": "bearer"}.items() <= schemes["BearerToken"].items()


def test_the_docs_page_renders(anonymous):
    response = anonymous.client.get("/api/v1/docs")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert b"/api/v1/openapi.json" in response.content
