"""Console: buyers' 提醒发货 (orders waiting to ship that a buyer asked about)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from jishi.core.console import ConsoleAdmin

from .models import ShipmentReminder


@admin.register(ShipmentReminder)
class ShipmentReminderAdmin(ConsoleAdmin):
    console_group = "members"
    list_display = ("order_number", "buyer", "created_at")
    search_fields = ("order__number", "user__phone")
    list_select_related = ("order", "user")
    readonly_fields = ("order", "user", "created_at")

    @admin.display(description=_("订单号"), ordering="order__number")
    def order_number(self, obj: ShipmentReminder) -> str:
        return obj.order.number

    @admin.display(description=_("买家"))
    def buyer(self, obj: ShipmentReminder) -> str:
        return str(obj.user)

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
