from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommunityConfig(AppConfig):
    name = "jishi.community"
    verbose_name = _("社群")

    def ready(self) -> None:
        from jishi.marketing.coupons import register_audience
        from jishi.orders.pipeline import register_step

        from .offers import GROUP_AUDIENCE, GroupPriceStep, member_templates

        register_step(GroupPriceStep())
        register_audience(GROUP_AUDIENCE, member_templates)
