"""Recorded Stripe payloads (tests/fixtures/stripe), signed with the library's own signing code, and a
local stand-in for the library's HTTP client: no test reaches Stripe."""

import json
import urllib.parse
from pathlib import Path
from typing import Any

import stripe

from lieux.billing.models.payments import PaymentAttempt

FIXTURES = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "stripe"
SECRET_KEY = "sk_test_lieux_local"
WEBHOOK_SECRET = "whsec_lieux_local_test_secret"
INTENT = "pi_3SYk2vLcRt8mQe1d0ZpN4uXa"
CHARGE = "ch_3SYk2vLcRt8mQe1d0kY7hTbe"


def configure(settings) -> None:
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET


def recorded(name: str, attempt: PaymentAttempt, **changes: Any) -> bytes:
    """A recorded event about `attempt` (its metadata filled in), with top-level fields changed."""
    text = (FIXTURES / f"{name}.json").read_text()
    text = (
        text.replace("{attempt}", attempt.idempotency_key)
        .replace("{invoice_id}", str(attempt.invoice_id))
        .replace("{invoice_number}", attempt.invoice.number or "")
    )
    if changes:
        event = json.loads(text)
        event.update(changes)
        text = json.dumps(event, indent=2)
    return text.encode()


def signed(body: bytes, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> dict[str, str]:
    """The `Stripe-Signature` header Stripe would send, computed by the library itself."""
    header = stripe.WebhookSignature.generate_signature_header(body.decode(), secret, timestamp)
    return {"Stripe-Signature": header}


class FakeStripeHTTP(stripe.HTTPClient):
    """Answers the library's requests locally and keeps them; `before_answer` runs on each request (to look
    at the database at the moment Stripe is called, or to fail like a dropped connection)."""

    name = "fake"

    def __init__(self, *, status: int = 200, before_answer=None) -> None:
        super().__init__()
        self.requests: list[dict[str, Any]] = []
        self.status = status
        self.before_answer = before_answer

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        self.requests.append(
            {
                "method": method,
                "url": url,
                "headers": dict(headers or {}),
                "form": dict(urllib.parse.parse_qsl(post_data or "")),
            }
        )
        if self.before_answer:
            self.before_answer(self)
        form = self.requests[-1]["form"]
        answer = (FIXTURES / "checkout_session.json").read_text()
        answer = answer.replace("{attempt}", form.get("metadata[attempt]", "")).replace(
            "{invoice_id}", form.get("metadata[invoice_id]", "")
        )
        answer = answer.replace("{invoice_number}", form.get("metadata[invoice_number]", ""))
        return answer, self.status, {"Request-Id": f"req_local_{len(self.requests)}"}

    def close(self):
        pass
