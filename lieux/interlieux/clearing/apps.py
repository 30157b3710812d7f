from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClearingConfig(AppConfig):
    """The monthly clearing between the venues of a network, nested in `interlieux` whose visits it values."""

    name = "lieux.interlieux.clearing"
    label = "clearing"
    verbose_name = _("Clearing between venues")
