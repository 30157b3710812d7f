"""Stripe: a hosted Checkout Session per payment attempt (card and SEPA debit, in euros), and webhook
events verified with the library's own signature check.

The session carries the attempt's idempotency key as `Idempotency-Key`, so a call replayed after a crash
or a timeout returns the session Stripe already made instead of a second one. The same key travels in the
metadata of the session and of its payment intent: events name the attempt they are about.

HTTP goes through the library's `HTTPClient`; `default_http_client` is None in production (the library
picks its own) and tests put a local fake there, so no test touches the network.
"""

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import stripe
from django.conf import settings
from django.utils.translation import gettext as _

from lieux.billing.providers import (
    BadSignature,
    Checkout,
    MalformedEvent,
    ProviderDisabled,
    ProviderError,
    ProviderEventData,
    StartRequest,
)
from lieux.core.money import to_minor_units

NAME = "stripe"
SIGNATURE_HEADER = "Stripe-Signature"
# Older signatures are refused, so a captured delivery cannot be replayed later (Stripe's own default).
TOLERANCE_SECONDS = 300
PAYMENT_METHOD_TYPES = ["card", "sepa_debit"]
NETWORK_RETRIES = 2

default_http_client: stripe.HTTPClient | None = None


class StripeProvider:
    name = NAME

    def __init__(
        self, *, secret_key: str, webhook_secret: str, http_client: stripe.HTTPClient | None = None
    ) -> None:
        self.secret_key = secret_key
        self.webhook_secret = webhook_secret
        self.http_client = http_client

    @classmethod
    def from_settings(cls) -> "StripeProvider":
        secret_key = getattr(settings, "STRIPE_SECRET_KEY", "")
        webhook_secret = getattr(settings, "STRIPE_WEBHOOK_SECRET", "")
        if not secret_key or not webhook_secret:
            raise ProviderDisabled(
                _(
                    "Online payment by Stripe is not configured: set STRIPE_SECRET_KEY and "
                    "STRIPE_WEBHOOK_SECRET."
                )
            )
        return cls(secret_key=secret_key, webhook_secret=webhook_secret, http_client=default_http_client)

    def _client(self) -> stripe.StripeClient:
        return stripe.StripeClient(
            self.secret_key, http_client=self.http_client, max_network_retries=NETWORK_RETRIES
        )

    def start_payment(self, invoice: Any, *, attempt: StartRequest, return_url: str) -> Checkout:
        metadata = {
            "invoice_id": str(invoice.pk),
            "invoice_number": invoice.number or "",
            "venue": invoice.venue.slug,
            "attempt": attempt.idempotency_key,
        }
        label = _("Invoice %(number)s — %(venue)s") % {"number": invoice.number, "venue": invoice.venue.name}
        params: dict[str, Any] = {
            "mode": "payment",
            "payment_method_types": PAYMENT_METHOD_TYPES,
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": "eur",
                        "unit_amount": to_minor_units(attempt.amount),
                        "product_data": {"name": label},
                    },
                }
            ],
            "client_reference_id": str(invoice.pk),
            "success_url": return_url,
            "cancel_url": return_url,
            "metadata": metadata,
            "payment_intent_data": {"metadata": metadata, "description": label},
        }
        email = getattr(invoice.buyer_user, "email", "") if invoice.buyer_user_id else ""
        if email:
            params["customer_email"] = email
        try:
            session = self._client().v1.checkout.sessions.create(
                params=params,  # type: ignore[arg-type]  # a plain dict: the TypedDict is for editors
                options={"idempotency_key": attempt.idempotency_key},
            )
        except stripe.StripeError as error:
            raise ProviderError(
                _("Stripe refused the payment: %(error)s") % {"error": error.user_message or str(error)}
            ) from error
        return Checkout(reference=session.id, url=session.url or "")

    def parse_event(self, body: bytes, headers: Mapping[str, str]) -> ProviderEventData:
        header = headers.get(SIGNATURE_HEADER) or ""
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedEvent(_("The event is not UTF-8 text.")) from None
        try:
            stripe.WebhookSignature.verify_header(text, header, self.webhook_secret, TOLERANCE_SECONDS)
        except stripe.SignatureVerificationError:
            raise BadSignature(_("The webhook signature does not match.")) from None
        return read_event(text)


def from_settings() -> StripeProvider:
    """The registry's factory: the provider as the settings configure it."""
    return StripeProvider.from_settings()


def read_event(text: str) -> ProviderEventData:
    """The fields the books need from a (verified) Stripe event, checked for shape."""
    try:
        event = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise MalformedEvent(_("The event is not valid JSON.")) from None
    if not isinstance(event, dict) or event.get("object") != "event":
        raise MalformedEvent(_("The body is not a Stripe event."))
    event_id, event_type, created = event.get("id"), event.get("type"), event.get("created")
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not (isinstance(event_id, str) and event_id and len(event_id) <= 140):
        raise MalformedEvent(_("The event has no usable id."))
    if not (isinstance(event_type, str) and event_type and len(event_type) <= 80):
        raise MalformedEvent(_("The event has no usable type."))
    if not isinstance(obj, dict):
        raise MalformedEvent(_("The event carries no object."))
    occurred_at = None
    if isinstance(created, int) and not isinstance(created, bool):
        try:
            occurred_at = datetime.fromtimestamp(created, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise MalformedEvent(_("The event date is out of range.")) from None
    return ProviderEventData(
        event_id=event_id, event_type=event_type, occurred_at=occurred_at, payload=event, object=obj
    )
