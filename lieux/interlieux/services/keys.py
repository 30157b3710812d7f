"""The network's Ed25519 keys: create, rotate, sign with the current one, verify with any still valid.

The private key is stored encrypted with a key derived from the installation's SECRET_KEY (HKDF-SHA256,
then Fernet). Changing SECRET_KEY therefore makes the stored private keys unreadable: run
`lieux interlieux keygen` afterwards, which retires them and creates a new pair.
"""

import base64
import functools
import secrets
from datetime import datetime, timedelta

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from lieux.core import audit
from lieux.core.errors import Conflict
from lieux.core.time import now
from lieux.interlieux.models import NetworkKey
from lieux.venues.models import Network

# A retired key keeps verifying this long: longer than any token it signed (minutes) and than any
# allow-list it signed (ALLOWLIST_VALIDITY, a day).
RETIRED_KEY_GRACE = timedelta(hours=26)


def _fernet() -> Fernet:
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"lieux.interlieux.network-key"
    ).derive(settings.SECRET_KEY.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def _raw_public(key: Ed25519PublicKey) -> str:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def create_network_key(*, network: Network, actor=None, at: datetime | None = None) -> NetworkKey:
    """A new signing key for the network; the previous one is retired and keeps verifying for
    RETIRED_KEY_GRACE."""
    at = at or now()
    private = Ed25519PrivateKey.generate()
    raw_private = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    with transaction.atomic():
        # Lock the network row: two rotations at once would leave two "current" keys.
        Network.objects.select_for_update().filter(pk=network.pk).first()
        NetworkKey.objects.filter(network=network, retired_at__isnull=True).update(
            retired_at=at, valid_until=at + RETIRED_KEY_GRACE
        )
        key = NetworkKey.objects.create(
            network=network,
            key_id=secrets.token_hex(4),
            public_key=_raw_public(private.public_key()),
            encrypted_private_key=_fernet().encrypt(raw_private).decode("ascii"),
            created_at=at,
        )
        audit.record("interlieux.network_key.created", key, actor=actor, key_id=key.key_id)
    return key


def current_key(network: Network) -> NetworkKey:
    key = NetworkKey.objects.filter(network=network, retired_at__isnull=True).order_by("-created_at").first()
    if key is None:
        raise Conflict(
            _("The network has no signing key yet: run “lieux interlieux keygen”."), code="no_network_key"
        )
    return key


@functools.lru_cache(maxsize=16)
def _private_key(key_id: str, encrypted: str, secret_key: str) -> Ed25519PrivateKey:
    try:
        raw = _fernet().decrypt(encrypted.encode("ascii"))
    except InvalidToken:
        raise Conflict(
            _("The network's signing key cannot be read: run “lieux interlieux keygen”."),
            code="unreadable_network_key",
        ) from None
    return Ed25519PrivateKey.from_private_bytes(raw)


def signing_key(network: Network) -> tuple[NetworkKey, Ed25519PrivateKey]:
    key = current_key(network)
    return key, _private_key(key.key_id, key.encrypted_private_key, settings.SECRET_KEY)


def public_key_of(key: NetworkKey) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(bytes.fromhex(key.public_key))


def valid_keys(network_id: int, at: datetime) -> list[NetworkKey]:
    """The keys whose signatures are accepted at `at`: the current one and the retired ones in grace."""
    keys = NetworkKey.objects.filter(network_id=network_id)
    return [k for k in keys if k.retired_at is None or (k.valid_until is not None and at < k.valid_until)]


def public_keys(network_id: int, at: datetime) -> dict[str, Ed25519PublicKey]:
    return {k.key_id: public_key_of(k) for k in valid_keys(network_id, at)}
