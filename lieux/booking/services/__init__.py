"""Booking use cases, one module each. Views, API and CLI call these and nothing else to write."""

from lieux.booking.services.cancel import cancel_booking
from lieux.booking.services.create import create_booking
from lieux.booking.services.holds import confirm_hold, expire_holds
from lieux.booking.services.move import move_booking
from lieux.booking.services.review import approve_booking, refuse_booking
from lieux.booking.services.series import SeriesResult, create_series

__all__ = [
    "SeriesResult",
    "approve_booking",
    "cancel_booking",
    "confirm_hold",
    "create_booking",
    "create_series",
    "expire_holds",
    "move_booking",
    "refuse_booking",
]
