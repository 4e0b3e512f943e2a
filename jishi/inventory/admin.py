"""Console for stock: locations, stock per SKU (with a low-stock filter and dashboard card), the stock journal."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import F, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from jishi.accounts.models import Role
from jishi.accounts.services import has_role
from jishi.catalog.admin import stock_hooks
from jishi.core.admin_views import ConsoleAccessMixin
from jishi.core.conf import setting
from jishi.core.console import ConsoleAdmin, ReadOnlyConsoleAdmin
from jishi.core.dashboard import Card, Figure, Period, register_card

from . import services
from .models import Location, StockItem, StockMove


def _low_stock(rows: QuerySet[StockItem]) -> QuerySet[StockItem]:
    threshold = setting("LOW_STOCK_THRESHOLD")
    return rows.filter(on_hand__lte=F("reserved") + threshold, sku__is_active=True)


class LowStockFilter(admin.SimpleListFilter):
    title = _("库存预警")
    parameter_name = "low"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("1", _("低库存"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[StockItem]) -> QuerySet[StockItem]:
        return _low_stock(queryset) if self.value() == "1" else queryset


@admin.register(Location)
class LocationAdmin(ConsoleAdmin):
    console_group = "catalog"
    console_icon = "warehouse"
    console_order = 60

    list_display = ("code", "name", "kind", "is_default")


@admin.register(StockItem)
class StockItemAdmin(ConsoleAccessMixin, ConsoleAdmin):
    """Read-only stock per SKU; operators see it (the low-stock card links here); stock is set in the product editor."""

    console_access = staticmethod(lambda user: _is_operator(user))
    console_group = "catalog"
    console_icon = "inventory"
    console_order = 40

    list_display = ("sku", "location", "on_hand", "reserved", "available_text")
    list_filter = (LowStockFilter, "location")
    search_fields = ("sku__product__name", "sku__barcode")
    readonly_fields = ("sku", "location", "on_hand", "reserved")
    list_select_related = ("sku__product", "location")

    @admin.display(description=_("可售"))
    def available_text(self, item: StockItem) -> int:
        return item.on_hand - item.reserved


@admin.register(StockMove)
class StockMoveAdmin(ReadOnlyConsoleAdmin):
    console_group = "catalog"
    console_icon = "swap_vert"
    console_order = 50
    console_title = _("库存流水")

    list_display = ("created_text", "sku_text", "location_text", "kind_text", "quantity_text", "reference_text")
    list_filter = ("kind",)
    list_select_related = ("sku__product", "location")

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        return super().changelist_view(request, {"title": _("库存流水"), **(extra_context or {})})

    @admin.display(description=_("时间"), ordering="created_at")
    def created_text(self, move: StockMove) -> Any:
        return move.created_at

    @admin.display(description=_("SKU"))
    def sku_text(self, move: StockMove) -> str:
        return str(move.sku)

    @admin.display(description=_("仓库"))
    def location_text(self, move: StockMove) -> str:
        return str(move.location)

    @admin.display(description=_("类型"))
    def kind_text(self, move: StockMove) -> str:
        return str(MOVE_KINDS.get(move.kind, move.kind))

    @admin.display(description=_("数量"))
    def quantity_text(self, move: StockMove) -> int:
        return move.quantity

    @admin.display(description=_("关联单号"))
    def reference_text(self, move: StockMove) -> str:
        return move.reference or "-"


MOVE_KINDS = {
    "set": _("盘点设置"),
    "reserve": _("下单预留"),
    "release": _("释放预留"),
    "consume": _("出库"),
    "restock": _("退货入库"),
}


def _low_stock_card(period: Period) -> Figure:
    n = _low_stock(StockItem.objects.all()).count()
    url = f"{reverse('admin:inventory_stockitem_changelist')}?low=1"
    return Figure(value=f"{n:,}", note=_("可售 ≤ %(n)d") % {"n": setting("LOW_STOCK_THRESHOLD")}, link=url, alert=n > 0)


def _is_operator(user: Any) -> bool:
    return bool(getattr(user, "is_staff", False)) and has_role(user, Role.OPERATOR)


register_card(Card("todo.low_stock", _("低库存 SKU"), "todo", _low_stock_card, "inventory", 50, _is_operator))


def _on_hand(sku_ids: list[int]) -> dict[int, int]:
    location = services.default_location()
    rows = StockItem.objects.filter(sku_id__in=sku_ids, location=location).values_list("sku_id", "on_hand")
    return dict(rows)


def _set_on_hand(sku_id: int, quantity: int) -> None:
    if _on_hand([sku_id]).get(sku_id) != quantity:
        services.set_on_hand(sku_id, quantity, reference="console")


# The product editor (catalog, a lower layer) reads and sets stock through these.
stock_hooks.read = _on_hand
stock_hooks.write = _set_on_hand
