from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InventoryConfig(AppConfig):
    name = "jishi.inventory"
    verbose_name = _("库存")

    def ready(self) -> None:
        from jishi.catalog.availability import register_stock_provider

        from .services import sellable

        register_stock_provider(sellable)
