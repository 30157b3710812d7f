"""Door devices of the Pass Interlieux: the access check, the offline allow-list and offline passages.

A door authenticates as itself, `Authorization: Device <token>` (the token printed once when the device
was registered), never with a person's bearer token; the device names its venue. Each device may send 20
requests a second (a sliding window counted in each server process); beyond that the answer is 429
`rate_limited`. A refused credential is a 200 with `allowed: false` and a reason code, and writes nothing
but its audit row.
"""

from typing import Annotated, Any, cast

from annotated_types import Len
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.errors import AuthenticationError
from ninja.security import APIKeyHeader
from pydantic import AfterValidator, Field

from lieux.api.base import api, require_aware
from lieux.api.schemas import ErrorOut, Input, Instant, Slug, ValidationErrorOut, _no_nul
from lieux.core.errors import DomainError
from lieux.core.time import now
from lieux.interlieux import ratelimit
from lieux.interlieux.models import DoorDevice
from lieux.interlieux.services.allowlist import build_allowlist
from lieux.interlieux.services.check import check_access
from lieux.interlieux.services.devices import DeviceRevoked, device_for_token, door_for_token
from lieux.interlieux.services.keys import valid_keys
from lieux.interlieux.services.offline import OfflinePassageIn, upload_offline_passages

router = Router(tags=["Door access (Pass Interlieux)"])


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"


class DeviceToken(APIKeyHeader):
    """`Authorization: Device <token>`: a door device of one venue, its row read from the database."""

    param_name = "Authorization"

    def find(self, token: str) -> DoorDevice | None:
        return device_for_token(token)

    def authenticate(self, request: HttpRequest, key: str | None) -> DoorDevice | None:
        scheme, _sep, token = (key or "").partition(" ")
        if scheme != "Device" or not token.strip():
            return None
        device = self.find(token.strip())
        if device is None:
            return None
        if not ratelimit.DEVICE_LIMIT.allow(str(device.pk)):
            raise RateLimited(_("Too many requests from this device; slow down."))
        return device


class CheckingDeviceToken(DeviceToken):
    """The same for the access check, the device's row kept a minute by the server process: the check
    writes nothing for a device revoked meanwhile and answers 401 (`check.record_check`)."""

    def find(self, token: str) -> DoorDevice | None:
        return door_for_token(token)


def door(request: HttpRequest) -> DoorDevice:
    return cast(Any, request).auth


ERRORS = {401: ErrorOut, 422: ValidationErrorOut, 429: ErrorOut}

Credential = Annotated[
    str,
    Len(1, 400),
    AfterValidator(_no_nul),
    Field(description="A badge UID as the reader gives it (hexadecimal) or a member's QR token (`LC1.…`)."),
]


class CheckIn(Input):
    credential: Credential
    venue: Slug | None = Field(
        default=None, description="Optional: the venue the door believes it is at; another venue is refused."
    )


class CheckOut(Schema):
    allowed: bool
    reason: str = Field(
        description="`ok_member`, `ok_pass`, `ok_staff`; refusals: `no_subscription`, `past_due`, "
        "`outside_hours`, `outside_pass_hours`, `venue_closed`, `quota_reached`, `not_in_pass`, "
        "`revoked_badge`, `unknown_credential`, `bad_token`, `expired_token`, `replayed_token`, "
        "`revoked_token`, `wrong_network`, `wrong_venue_device`."
    )
    explanation: str = Field(description="The decision in words, in the language of the request.")
    display_name: str = Field(description="A first name at a partner venue; empty for unknown credentials.")
    passages_today: int | None = Field(default=None, description="Passages of this person here today.")


@router.post(
    "/access/check",
    response={200: CheckOut, **ERRORS},
    auth=CheckingDeviceToken(),
    summary="Check a badge or a QR code at the door",
    description="Decides, records the day's visit (one per person, venue and day; a re-scan only moves "
    "its last passage) and an audit row. Answer within the door's budget; fall back to the allow-list "
    "when it does not come.",
)
def access_check(request: HttpRequest, payload: CheckIn):
    try:
        result = check_access(device=door(request), credential=payload.credential, venue_slug=payload.venue)
    except DeviceRevoked:
        raise AuthenticationError() from None
    return {
        "allowed": result.allowed,
        "reason": result.decision.reason,
        "explanation": result.decision.explanation,
        "display_name": result.display_name,
        "passages_today": result.visit.passages if result.visit is not None else None,
    }


class AllowlistOut(Schema):
    snapshot: dict[str, Any] = Field(
        description="`format`, `network`, `venue`, `generated_at`, `valid_until`, `timezone`, "
        "`opening_hours` (weekday → [[HH:MM, HH:MM]]), `closed_today`, `revoked_tokens` (jti) and "
        "`entries`: `person` (public id, as in QR tokens), `badges` (SHA-256 of `lieux-badge:<UID>`), "
        "`right` (`kind` member|pass|staff, and for a pass `weekdays`, `hours`, `days_left_this_month`)."
    )
    key_id: str = Field(description="The network key that signed; its public key verifies `signature`.")
    signature: str = Field(
        description="Ed25519 over the canonical JSON of `snapshot` (sorted keys, no spaces), base64url."
    )
    public_keys: dict[str, str] = Field(description="Key id → raw Ed25519 public key (hex) valid now.")


@router.get(
    "/access/allowlist",
    response={200: AllowlistOut, **ERRORS},
    auth=DeviceToken(),
    summary="Signed allow-list of the device's venue, for offline operation",
    description="Who may enter the device's venue, with minimal data (no names), signed by the network. "
    "Valid 24 hours; fetch again every few minutes while online.",
)
def access_allowlist(request: HttpRequest):
    device = door(request)
    at = now()
    document = build_allowlist(venue=device.venue, at=at)
    document["public_keys"] = {k.key_id: k.public_key for k in valid_keys(device.venue.network_id, at)}
    return document


class PassageIn(Input):
    id: Annotated[str, Len(1, 64), AfterValidator(_no_nul)] = Field(
        description="The device's own id for this passage; the same id uploaded again is a duplicate."
    )
    credential: Credential
    at: Instant


class OfflineIn(Input):
    passages: Annotated[list[PassageIn], Len(1, 500)]


class PassageOut(Schema):
    id: str
    outcome: str = Field(
        description="`recorded`, `duplicate`, `too_old`, `in_future`, or the refusal reason when the "
        "credential names no one (`unknown_credential`, `bad_token`…)."
    )
    reason: str = Field(description="The server's own decision for that instant.")


class OfflineOut(Schema):
    results: list[PassageOut]


@router.post(
    "/access/offline-visits",
    response={200: OfflineOut, **ERRORS},
    auth=DeviceToken(),
    summary="Upload passages recorded while offline",
    description="Idempotent: each passage is kept once by its device-side `id`, and visits stay one per "
    "person, venue and day. Passages older than 7 days are refused (`too_old`).",
)
def access_offline_visits(request: HttpRequest, payload: OfflineIn):
    require_aware(*(p.at for p in payload.passages))
    try:
        outcomes = upload_offline_passages(
            device=door(request),
            passages=[
                OfflinePassageIn(passage_id=p.id, credential=p.credential, seen_at=p.at)
                for p in payload.passages
            ],
        )
    except DeviceRevoked:  # revoked during the upload: the passages recorded before it stay recorded
        raise AuthenticationError() from None
    return {"results": [{"id": o.passage_id, "outcome": o.outcome, "reason": o.reason} for o in outcomes]}


api.add_router("", router)
