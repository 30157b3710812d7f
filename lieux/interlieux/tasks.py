"""Periodic Pass Interlieux jobs run by `lieux worker`: thin wrappers around services."""

from lieux.core.schedule import every
from lieux.interlieux.services.purge import purge


# Daily: spent QR tokens pile up one per entry, and the retention of the door's log is counted in months.
@every(24 * 3600, "interlieux.purge")
def purge_expired_records() -> str:
    return purge().summary()
