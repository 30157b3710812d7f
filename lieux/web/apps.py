from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "lieux.web"
    label = "web"
