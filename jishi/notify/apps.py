from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "jishi.notify"
    verbose_name = _("会员触达")

    def ready(self) -> None:
        from . import handlers  # noqa: F401  (outbox subscribers register on import)
