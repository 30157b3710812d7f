from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "lieux.core"
    label = "core"
    verbose_name = "Lieux Communs"
