from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GroupbuyConfig(AppConfig):
    name = "jishi.groupbuy"
    verbose_name = _("社区团购")

    def ready(self) -> None:
        from . import batches

        batches.register()
