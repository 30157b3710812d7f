from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "lieux.demo"
    label = "demo"
