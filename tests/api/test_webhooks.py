"""POST /api/v1/webhooks/stripe: no token, the signature is the authentication; 400 JSON for what is not
a signed event (nothing written), 200 for an event stored, also when it was stored before."""

from decimal import Decimal

import pytest
from django.test import Client

from lieux.billing.models import Payment
from lieux.billing.models.payments import PaymentAttempt, ProviderEvent
from lieux.billing.providers import stripe as stripe_provider
from lieux.billing.services.online import start_online_payment
from lieux.billing.tests.stripe_data import FakeStripeHTTP, configure, recorded, signed
from tests.invoice_data import invoice

URL = "/api/v1/webhooks/stripe"


@pytest.fixture
def attempt(venue, member, settings, monkeypatch) -> PaymentAttempt:
    configure(settings)
    monkeypatch.setattr(stripe_provider, "default_http_client", FakeStripeHTTP())
    bill = invoice(venue, buyer=member)
    start_online_payment(bill, return_url="https://lieux.example.org/")
    return PaymentAttempt.objects.get(invoice=bill)


@pytest.fixture
def client() -> Client:
    # The provider posts without a CSRF token or a session: the endpoint must not need either.
    return Client(enforce_csrf_checks=True)


def post(client: Client, body: bytes, headers: dict[str, str]):
    meta = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}
    return client.post(URL, data=body, content_type="application/json", **meta)


def test_a_signed_event_is_applied_and_a_second_delivery_answers_duplicate(client, attempt):
    body = recorded("payment_intent.succeeded", attempt)

    first = post(client, body, signed(body))
    again = post(client, body, signed(body))

    assert (first.status_code, first.json()) == (200, {"outcome": "applied"})
    assert (again.status_code, again.json()) == (200, {"outcome": "duplicate"})
    assert Payment.objects.get().amount == Decimal("120.00")
    assert ProviderEvent.objects.count() == 1


@pytest.mark.parametrize(
    ("make", "code"),
    [
        pytest.param(
            lambda body: (body, signed(body, secret="whsec_wrong")), "bad_signature", id="wrong-secret"
        ),
        pytest.param(lambda body: (body, {}), "bad_signature", id="unsigned"),
        pytest.param(lambda body: (body, signed(body, timestamp=1)), "bad_signature", id="expired"),
        pytest.param(lambda body: (b"{oops", signed(b"{oops")), "malformed_event", id="not-json"),
        pytest.param(
            lambda body: (b"\xff", {"Stripe-Signature": "t=1,v1=0"}), "malformed_event", id="binary"
        ),
        pytest.param(lambda body: (b'{"a": 1}', signed(b'{"a": 1}')), "malformed_event", id="not-an-event"),
    ],
)
def test_what_is_not_a_signed_event_is_a_400_and_writes_nothing(client, attempt, make, code):
    body, headers = make(recorded("payment_intent.succeeded", attempt))
    response = post(client, body, headers)
    assert response.status_code == 400
    assert response.json()["code"] == code and response.json()["detail"]
    assert not ProviderEvent.objects.exists() and not Payment.objects.exists()


def test_an_unknown_or_unconfigured_provider_is_refused_in_json(client, attempt, settings):
    body = recorded("payment_intent.succeeded", attempt)
    unknown = client.post("/api/v1/webhooks/paypal", data=body, content_type="application/json")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "unknown_provider")
    settings.STRIPE_WEBHOOK_SECRET = ""
    disabled = post(client, body, signed(body))
    assert (disabled.status_code, disabled.json()["code"]) == (503, "provider_disabled")
    assert not ProviderEvent.objects.exists()


def test_the_webhook_is_in_the_openapi_schema_without_a_token(client, db):
    schema = client.get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/webhooks/{provider}"]["post"]
    assert "security" not in operation or operation["security"] == [] or operation["security"] == [{}]
    assert set(operation["responses"]) >= {"200", "400"}
