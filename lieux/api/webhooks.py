"""Webhooks from online payment providers: POST /webhooks/{provider}.

No bearer token: the provider's signature over the raw body is the authentication, and it is checked
before anything is read or written. The answer is what the provider needs to decide whether to deliver
again: 200 once the event is stored (also for a delivery already stored, `duplicate`), 400 for a bad
signature or a body that is not an event, 404 for a provider no one configured, 503 when it is known but
its secrets are not set.
"""

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import Field

from lieux.api.base import api
from lieux.api.schemas import ErrorOut, Slug
from lieux.billing.services.online import handle_event

router = Router(tags=["Webhooks"])


class WebhookOut(Schema):
    outcome: str = Field(
        description="`applied`, `duplicate`, `stale` (older than what is known), `pending` (waits for its "
        "payment), `ignored`, or `error:<code>` when the event was kept but could not be applied."
    )


@router.post(
    "/webhooks/{provider}",
    response={200: WebhookOut, 400: ErrorOut, 404: ErrorOut, 503: ErrorOut},
    auth=None,
    summary="Receive a payment provider's webhook",
    description="Signed by the provider (Stripe: the `Stripe-Signature` header over the raw body). Each "
    "event is applied once, whatever the number and the order of its deliveries. 400 `bad_signature` or "
    "`malformed_event` writes nothing.",
)
def receive_webhook(request: HttpRequest, provider: Slug):
    return {"outcome": handle_event(provider, request.body, request.headers)}


api.add_router("", router)
