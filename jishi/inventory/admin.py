from __future__ import annotations

from django.contrib import admin

from jishi.core.console import ConsoleAdmin

from .models import Location, StockItem, StockMove


@admin.register(Location)
class LocationAdmin(ConsoleAdmin):
    console_group = "catalog"
    console_icon = "warehouse"
    console_order = 60

    list_display = ("code", "name", "kind", "is_default")


@admin.register(StockItem)
class StockItemAdmin(ConsoleAdmin):
    console_group = "catalog"
    console_icon = "inventory"
    console_order = 40

    list_display = ("sku", "location", "on_hand", "reserved")
    list_filter = ("location",)
    search_fields = ("sku__product__name", "sku__barcode")
    readonly_fields = ("sku", "location", "on_hand", "reserved")

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(StockMove)
class StockMoveAdmin(ConsoleAdmin):
    console_group = "catalog"
    console_icon = "swap_vert"
    console_order = 50

    list_display = ("created_at", "sku", "location", "kind", "quantity", "reference")
    list_filter = ("kind",)
