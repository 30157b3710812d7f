"""Signed QR tokens, verified with public keys only."""

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from lieux.interlieux import rules, tokens

T0 = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
KEY = Ed25519PrivateKey.generate()
OTHER = Ed25519PrivateKey.generate()


def issue(private=KEY, key_id="k1", network_id=1, at=T0):
    return tokens.issue(
        private_key=private, key_id=key_id, network_id=network_id, person_public_id="abc", issued_at=at
    )


def verify(token, *, keys=None, network_id=1, at=T0 + timedelta(seconds=30)):
    return tokens.verify(token, public_keys=keys or {"k1": KEY.public_key()}, network_id=network_id, at=at)


def reason_of(token, **kwargs) -> str:
    with pytest.raises(tokens.TokenError) as caught:
        verify(token, **kwargs)
    return caught.value.reason


def test_a_token_verifies_with_the_public_key_alone_and_carries_no_email():
    token, claims = issue()
    assert verify(token) == claims
    assert claims.expires_at - claims.issued_at == tokens.TOKEN_LIFETIME
    payload = tokens.b64decode(token.split(".")[1]).decode()
    assert "@" not in payload and '"p":"abc"' in payload


def test_expired_and_not_yet_valid_tokens_are_refused():
    token, _ = issue()
    assert reason_of(token, at=T0 + tokens.TOKEN_LIFETIME) == rules.EXPIRED_TOKEN
    assert reason_of(token, at=T0 - tokens.CLOCK_SKEW - timedelta(seconds=1)) == rules.EXPIRED_TOKEN
    assert verify(token, at=T0 - tokens.CLOCK_SKEW + timedelta(seconds=1))


def test_a_token_of_another_network_is_refused_as_such():
    token, _ = issue(private=OTHER, network_id=2)
    assert reason_of(token) == rules.WRONG_NETWORK


def test_a_token_signed_by_another_key_or_tampered_with_is_refused():
    forged, _ = issue(private=OTHER)
    assert reason_of(forged) == rules.BAD_TOKEN
    token, _ = issue()
    prefix, payload, signature = token.split(".")
    changed = tokens.b64encode(tokens.b64decode(payload).replace(b'"abc"', b'"abd"'))
    assert reason_of(f"{prefix}.{changed}.{signature}") == rules.BAD_TOKEN
    unknown_key, _ = issue(key_id="k9")
    assert reason_of(unknown_key) == rules.BAD_TOKEN


def test_a_retired_key_still_verifies_what_it_signed():
    token, _ = issue(key_id="old")
    assert verify(token, keys={"old": KEY.public_key(), "k1": OTHER.public_key()})


@given(st.text(max_size=500))
def test_garbage_is_a_bad_token_never_an_exception(text):
    with pytest.raises(tokens.TokenError) as caught:
        verify("LC1." + text)
    assert caught.value.reason in (rules.BAD_TOKEN, rules.WRONG_NETWORK, rules.EXPIRED_TOKEN)


def test_signed_documents_verify_and_detect_changes():
    document = {"venue": "baraka", "entries": [{"person": "abc"}]}
    signature = tokens.sign_document(document, private_key=KEY)
    assert tokens.verify_document(document, signature, public_key=KEY.public_key())
    document["entries"].append({"person": "intrus"})
    assert not tokens.verify_document(document, signature, public_key=KEY.public_key())
