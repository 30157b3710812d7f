from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembershipsConfig(AppConfig):
    name = "lieux.memberships"
    label = "memberships"
    verbose_name = _("Memberships and subscriptions")

    def ready(self) -> None:
        from lieux.memberships import tasks  # noqa: F401 - registers the periodic jobs
