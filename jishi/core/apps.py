from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "jishi.core"
    verbose_name = _("核心")

    def ready(self) -> None:
        # Every app's event subscribers register on import.
        from django.utils.module_loading import autodiscover_modules

        autodiscover_modules("handlers")
        autodiscover_modules("ledger_checks")  # each app's part of check-ledger
        from . import checks  # noqa: F401 - registers the production settings check
