"""Signed member QR tokens and signed documents. Pure: keys and instants come in as arguments.

A token is `LC1.<payload>.<signature>`, both parts base64url without padding; the payload is compact JSON
`{"n": network id, "k": key id, "p": person public id, "j": unique id, "i": issued, "e": expires}` (Unix
seconds) and the signature is Ed25519 over the ASCII bytes `LC1.<payload>`. A door holding the network's
public keys verifies it without asking the server; the server alone refuses a replay (UsedToken) or a
revoked token (RevokedToken), and the allow-list hands the revocations to offline doors.
"""

import base64
import binascii
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from lieux.interlieux import rules

PREFIX = "LC1"
# Short enough that a screenshot is useless by the time it is sent on; the member page rotates the code
# every minute, so a door clock a little late still accepts it.
TOKEN_LIFETIME = timedelta(minutes=3)
# Door clocks drift: a token "issued" slightly in the future is accepted within this margin.
CLOCK_SKEW = timedelta(seconds=60)
MAX_TOKEN_LENGTH = 400
_TOKEN_SHAPE = re.compile(r"^LC1\.[A-Za-z0-9_-]{10,300}\.[A-Za-z0-9_-]{86}$")


class TokenError(Exception):
    """A token refused, with one of the reason codes of rules (bad_token, expired_token, wrong_network)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Claims:
    network_id: int
    key_id: str
    person_public_id: str
    jti: str
    issued_at: datetime
    expires_at: datetime


def b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def looks_like_token(credential: str) -> bool:
    return credential.startswith(PREFIX + ".")


def new_jti() -> str:
    return secrets.token_urlsafe(12)


def issue(
    *,
    private_key: Ed25519PrivateKey,
    key_id: str,
    network_id: int,
    person_public_id: str,
    issued_at: datetime,
    lifetime: timedelta = TOKEN_LIFETIME,
    jti: str | None = None,
) -> tuple[str, Claims]:
    claims = Claims(
        network_id=network_id,
        key_id=key_id,
        person_public_id=person_public_id,
        jti=jti or new_jti(),
        issued_at=issued_at.replace(microsecond=0),
        expires_at=(issued_at + lifetime).replace(microsecond=0),
    )
    payload = {
        "n": claims.network_id,
        "k": claims.key_id,
        "p": claims.person_public_id,
        "j": claims.jti,
        "i": int(claims.issued_at.timestamp()),
        "e": int(claims.expires_at.timestamp()),
    }
    body = f"{PREFIX}.{b64encode(json.dumps(payload, separators=(',', ':')).encode())}"
    return f"{body}.{b64encode(private_key.sign(body.encode('ascii')))}", claims


def verify(
    token: str,
    *,
    public_keys: Mapping[str, Ed25519PublicKey],
    network_id: int,
    at: datetime,
) -> Claims:
    """The token's claims if it is well formed, signed by one of `public_keys` and within its lifetime at
    `at`; else TokenError. A signature from a key this network does not know is `wrong_network` when the
    payload names another network, `bad_token` otherwise (a forgery says nothing of where it comes from)."""
    if len(token) > MAX_TOKEN_LENGTH or not _TOKEN_SHAPE.match(token):
        raise TokenError(rules.BAD_TOKEN)
    body, _, signature_text = token.rpartition(".")
    try:
        payload = json.loads(b64decode(body.split(".", 1)[1]))
        signature = b64decode(signature_text)
        claims = _claims(payload)
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError, OverflowError):
        raise TokenError(rules.BAD_TOKEN) from None
    if claims.network_id != network_id:
        raise TokenError(rules.WRONG_NETWORK)
    key = public_keys.get(claims.key_id)
    if key is None:
        raise TokenError(rules.BAD_TOKEN)
    try:
        key.verify(signature, body.encode("ascii"))
    except InvalidSignature:
        raise TokenError(rules.BAD_TOKEN) from None
    if claims.expires_at <= claims.issued_at:
        raise TokenError(rules.BAD_TOKEN)
    if at >= claims.expires_at or at + CLOCK_SKEW < claims.issued_at:
        raise TokenError(rules.EXPIRED_TOKEN)
    return claims


def _claims(payload: Any) -> Claims:
    if not isinstance(payload, dict):
        raise ValueError("payload")
    values = (payload["n"], payload["k"], payload["p"], payload["j"], payload["i"], payload["e"])
    n, k, p, j, i, e = values
    if not (
        isinstance(n, int)
        and all(isinstance(x, str) and 0 < len(x) <= 32 for x in (k, p, j))
        and isinstance(i, int)
        and isinstance(e, int)
    ):
        raise ValueError("payload")
    return Claims(
        network_id=n,
        key_id=k,
        person_public_id=p,
        jti=j,
        issued_at=datetime.fromtimestamp(i, UTC),
        expires_at=datetime.fromtimestamp(e, UTC),
    )


# --- Signed documents (the offline allow-list) -----------------------------------------------------------


def canonical_json(document: Any) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign_document(document: Any, *, private_key: Ed25519PrivateKey) -> str:
    """Ed25519 over the canonical JSON (sorted keys, no spaces, UTF-8) of `document`."""
    return b64encode(private_key.sign(canonical_json(document)))


def verify_document(document: Any, signature: str, *, public_key: Ed25519PublicKey) -> bool:
    try:
        public_key.verify(b64decode(signature), canonical_json(document))
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True
