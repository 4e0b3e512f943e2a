from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DistributionConfig(AppConfig):
    name = "jishi.distribution"
    verbose_name = _("分销")

    def ready(self) -> None:
        from . import steps

        steps.register()
