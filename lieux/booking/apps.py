from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BookingConfig(AppConfig):
    name = "lieux.booking"
    label = "booking"
    verbose_name = _("Bookings")

    def ready(self) -> None:
        from lieux.booking import tasks  # noqa: F401 - registers the periodic jobs
        from lieux.booking.services import billing, desks

        billing.register()
        desks.register()
