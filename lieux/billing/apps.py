from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "lieux.billing"
    label = "billing"
    verbose_name = _("Invoicing")

    def ready(self) -> None:
        from lieux.billing import tasks  # noqa: F401 - registers the periodic jobs
