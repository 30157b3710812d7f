"""The Pass Interlieux: who may enter which venue of the network, and the visits it records.

A cross-venue app (ARCHITECTURE.md §4.7): a visit belongs to the host venue that saw it and names the home
venue whose pass let the person in, so the clearing between venues can value it.
"""

from lieux.interlieux.models.access import NetworkAccess
from lieux.interlieux.models.credentials import Badge, PassHolder
from lieux.interlieux.models.devices import AccessAudit, CredentialKind, DoorDevice, OfflinePassage
from lieux.interlieux.models.keys import NetworkKey, RevokedToken, UsedToken
from lieux.interlieux.models.visits import Visit, VisitSource

__all__ = [
    "AccessAudit",
    "Badge",
    "CredentialKind",
    "DoorDevice",
    "NetworkAccess",
    "NetworkKey",
    "OfflinePassage",
    "PassHolder",
    "RevokedToken",
    "UsedToken",
    "Visit",
    "VisitSource",
]
