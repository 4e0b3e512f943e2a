from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommunityConfig(AppConfig):
    name = "jishi.community"
    verbose_name = _("社群")

    def ready(self) -> None:
        from jishi.core.ledger import register_check
        from jishi.orders.pipeline import register_step

        from .offers import GroupPriceStep
        from .red_packets import check_red_packets

        register_check(check_red_packets)
        register_step(GroupPriceStep())
