from django.utils.translation import gettext_lazy as _

from lieux.core.errors import Conflict, DomainError, NotFound, ValidationError

__all__ = ["BookingConflict", "BookingInvalid", "BookingNotFound", "BookingStateError", "DomainError"]


class BookingConflict(Conflict):
    code = "booking_overlap"


class BookingInvalid(ValidationError):
    code = "booking_invalid"


class BookingNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__(_("No such booking."))


class BookingStateError(Conflict):
    code = "booking_state"
