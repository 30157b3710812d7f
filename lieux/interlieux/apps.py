from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InterlieuxConfig(AppConfig):
    name = "lieux.interlieux"
    label = "interlieux"
    verbose_name = _("Pass Interlieux")
