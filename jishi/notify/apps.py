from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "jishi.notify"
    verbose_name = _("会员触达")

    def ready(self) -> None:
        from . import campaigns, handlers, mail_receipts  # noqa: F401  (subscribers and the campaign renderer register on import)
