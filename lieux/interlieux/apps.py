from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InterlieuxConfig(AppConfig):
    name = "lieux.interlieux"
    label = "interlieux"
    verbose_name = _("Pass Interlieux")

    def ready(self) -> None:
        from lieux.booking import partners
        from lieux.interlieux import tasks  # noqa: F401 - registers the periodic jobs
        from lieux.interlieux.partner_terms import partner_terms

        # Bookings at host venues get the pass's discount and may spend its credits.
        partners.register(partner_terms)
