"""Periodic booking jobs, registered with the worker's schedule when the app loads."""

from lieux.booking.services import expire_holds
from lieux.core.schedule import every


@every(60, "booking.expire_holds")
def expire_stale_holds() -> int:
    return expire_holds()
