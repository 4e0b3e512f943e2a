from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RetailConfig(AppConfig):
    name = "jishi.retail"
    verbose_name = _("新零售")

    def ready(self) -> None:
        from . import counter, handlers, steps  # noqa: F401

        steps.register()
        counter.register()
