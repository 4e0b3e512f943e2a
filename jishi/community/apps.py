from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommunityConfig(AppConfig):
    name = "jishi.community"
    verbose_name = _("社群")

    def ready(self) -> None:
        from jishi.orders.pipeline import register_step

        from .offers import GroupPriceStep

        register_step(GroupPriceStep())
