"""Online payment providers behind one small interface, so billing speaks of attempts and events, never of
one provider's API.

A provider does two things: open a payment for an invoice (`start_payment`, given the attempt already
written with its idempotency key) and read a webhook it sent (`parse_event`, which verifies the signature
before anything else and raises `BadSignature` when it does not hold). What an event means for the books
is decided by `lieux.billing.services.online`, the same way for every provider.

Providers are found by name in a registry: `PAYMENT_PROVIDERS` in the settings maps a name to the dotted
path of a factory (a class or function taking no argument, reading its own settings); the default registry
holds Stripe.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from lieux.core.errors import DomainError, NotFound, ValidationError

DEFAULT_PROVIDERS = {"stripe": "lieux.billing.providers.stripe.from_settings"}


class BadSignature(ValidationError):
    """A webhook whose signature is missing, wrong or too old: it is not read any further."""

    status = 400
    code = "bad_signature"


class MalformedEvent(ValidationError):
    status = 400
    code = "malformed_event"


class ProviderDisabled(DomainError):
    """The provider is known but its credentials are not configured."""

    status = 503
    code = "provider_disabled"


class ProviderError(DomainError):
    """The provider refused a call or could not be reached."""

    status = 502
    code = "provider_error"


@dataclass(frozen=True)
class Checkout:
    """Where the payer goes next: a hosted page (`url`) or a secret for an embedded form."""

    reference: str
    url: str = ""
    client_secret: str = ""


@dataclass(frozen=True)
class ProviderEventData:
    """A verified webhook event, reduced to what the books need; `payload` keeps the whole event."""

    event_id: str
    event_type: str
    occurred_at: datetime | None
    payload: dict[str, Any]
    # The provider object the event is about (a payment intent, a charge, a dispute, a session).
    object: dict[str, Any] = field(default_factory=dict)


class StartRequest(Protocol):
    """What a provider is told about the attempt it opens (a `PaymentAttempt` satisfies it)."""

    idempotency_key: str
    attempt_no: int
    amount: Decimal


class Provider(Protocol):
    name: str

    def start_payment(self, invoice: Any, *, attempt: StartRequest, return_url: str) -> Checkout: ...

    def parse_event(self, body: bytes, headers: Mapping[str, str]) -> ProviderEventData: ...


def registry() -> dict[str, str]:
    return dict(getattr(settings, "PAYMENT_PROVIDERS", None) or DEFAULT_PROVIDERS)


def get_provider(name: str) -> Provider:
    """The configured provider called `name`; NotFound for a name no one registered, ProviderDisabled when
    its credentials are missing (raised by the provider's own factory)."""
    path = registry().get(name)
    if path is None:
        raise NotFound(_("No payment provider is called %(name)r.") % {"name": name}, code="unknown_provider")
    factory: Callable[[], Provider] = import_string(path)
    return factory()


def is_enabled(name: str) -> bool:
    """Whether members may be offered to pay through `name`: registered and configured."""
    try:
        get_provider(name)
    except (NotFound, ProviderDisabled):
        return False
    return True
