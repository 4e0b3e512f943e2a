from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "jishi.demo"
    verbose_name = "Demo"
