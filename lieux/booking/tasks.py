"""Periodic booking jobs, registered with the worker's schedule when the app loads."""

from lieux.booking.services import desks, expire_holds
from lieux.core.schedule import every


@every(60, "booking.expire_holds")
def expire_stale_holds() -> int:
    return expire_holds()


@every(24 * 3600, "booking.sync_fixed_desks")
def sync_fixed_desks() -> tuple[int, int]:
    return desks.sync_fixed_desks()
