from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketingConfig(AppConfig):
    name = "jishi.marketing"
    verbose_name = _("营销活动")

    def ready(self) -> None:
        from . import bargains, flash, groups, steps  # noqa: F401 - the modules register their committers

        steps.register()
