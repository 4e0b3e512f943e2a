from __future__ import annotations

from django.contrib import admin

from .models import Location, StockItem, StockMove


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "is_default")


@admin.register(StockItem)
class StockItemAdmin(admin.ModelAdmin):
    list_display = ("sku", "location", "on_hand", "reserved")
    list_filter = ("location",)
    search_fields = ("sku__product__name", "sku__barcode")
    readonly_fields = ("sku", "location", "on_hand", "reserved")

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(StockMove)
class StockMoveAdmin(admin.ModelAdmin):
    list_display = ("created_at", "sku", "location", "kind", "quantity", "reference")
    list_filter = ("kind",)
