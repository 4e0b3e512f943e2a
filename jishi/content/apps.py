from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContentConfig(AppConfig):
    name = "jishi.content"
    verbose_name = _("内容")

    def ready(self) -> None:
        from jishi.orders.pipeline import register_step

        from .attribution import AttributionStep

        register_step(AttributionStep())
