"""The network's Ed25519 keys: create, rotate, sign with the current one, verify with any still valid.

The private key is stored encrypted with a key derived from the installation's SECRET_KEY (HKDF-SHA256,
then Fernet). Changing SECRET_KEY therefore makes the stored private keys unreadable: run
`lieux interlieux keygen` afterwards, which retires them and creates a new pair.
"""

import base64
import functools
import secrets
import time
from collections.abc import Iterator, Mapping
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
    # Forgotten now and once committed, so that a scan reading the old rows in between keeps nothing stale.
    _key_rows.pop(network.pk, None)
    transaction.on_commit(lambda: _key_rows.pop(network.pk, None))
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


# --- The door check's copy of the public keys -------------------------------------------------------------

# Keys are read at each QR code scanned and change once in a long while. A process keeps a network's rows
# this long, and reads them again at once for a key id it does not know (a key created since). A retired
# key stays valid RETIRED_KEY_GRACE after its retirement, far longer than this: the copy never accepts a
# signature the database would refuse, as validity is judged on the rows' own dates at each check.
KEYS_CACHE_SECONDS = 60.0
_key_rows: dict[int, tuple[float, list[tuple[NetworkKey, Ed25519PublicKey]]]] = {}


def _rows(network_id: int, *, fresh: bool = False) -> list[tuple[NetworkKey, Ed25519PublicKey]]:
    at = time.monotonic()
    hit = _key_rows.get(network_id)
    if hit is not None and hit[0] > at and not fresh:
        return hit[1]
    rows = [(k, public_key_of(k)) for k in NetworkKey.objects.filter(network_id=network_id)]
    _key_rows[network_id] = (at + KEYS_CACHE_SECONDS, rows)
    return rows


def forget_keys() -> None:
    """Drop this process's copies of every network's keys."""
    _key_rows.clear()


class CachedPublicKeys(Mapping[str, Ed25519PublicKey]):
    """`public_keys(network_id, at)` from this process's copy, read again for an unknown key id."""

    def __init__(self, network_id: int, at: datetime) -> None:
        self.network_id = network_id
        self.at = at

    def _valid(self, fresh: bool = False) -> dict[str, Ed25519PublicKey]:
        return {
            k.key_id: public
            for k, public in _rows(self.network_id, fresh=fresh)
            if k.retired_at is None or (k.valid_until is not None and self.at < k.valid_until)
        }

    def __getitem__(self, key_id: str) -> Ed25519PublicKey:
        keys = self._valid()
        if key_id not in keys and not any(k.key_id == key_id for k, _ in _rows(self.network_id)):
            keys = self._valid(fresh=True)
        return keys[key_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._valid())

    def __len__(self) -> int:
        return len(self._valid())
