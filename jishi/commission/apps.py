from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommissionConfig(AppConfig):
    name = "jishi.commission"
    verbose_name = _("佣金")
