from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "lieux.api"
    label = "api"
