from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RebateConfig(AppConfig):
    name = "jishi.rebate"
    verbose_name = _("导购返佣")
