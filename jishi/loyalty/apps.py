from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoyaltyConfig(AppConfig):
    name = "jishi.loyalty"
    verbose_name = _("会员积分")

    def ready(self) -> None:
        from . import steps

        steps.register()
