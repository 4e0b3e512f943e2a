from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EngagementConfig(AppConfig):
    name = "jishi.engagement"
    verbose_name = _("买家互动")
