"""Ops console for community group-buy: leader review, pickup points with distance search, batches
with pick lists, supplier summary and route sheets (printable and CSV), shortages, uncollected
orders, leader ranking and a chart of batch sales per leader."""

from __future__ import annotations

import csv
from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from unfold.admin import StackedInline, TabularInline

from jishi.commission.console import BeneficiaryAdmin, review_action
from jishi.commission.models import CommissionSource
from jishi.core import geo
from jishi.core.admin_views import yuan_column
from jishi.core.charts import bar_chart
from jishi.core.console import ConsoleAdmin
from jishi.core.errors import DomainError
from jishi.core.money import format_yuan

from . import batches, leaders, pickup
from .models import (
    Batch,
    BatchItem,
    Delivery,
    Leader,
    LeaderLevel,
    PickupOrder,
    PickupPoint,
    PickupStatus,
    ProductRate,
    Route,
    RouteStop,
    Shortage,
)


@admin.register(LeaderLevel)
class LeaderLevelAdmin(ConsoleAdmin):
    console_group = "groupbuy"
    list_display = ("rank", "name", "rate_percent")

    @admin.display(description=_("佣金比例"))
    def rate_percent(self, obj: LeaderLevel) -> str:
        return f"{obj.rate_bp / 100:g}%"


@admin.register(ProductRate)
class ProductRateAdmin(ConsoleAdmin):
    console_group = "groupbuy"
    list_display = ("product_id", "rate_percent")

    @admin.display(description=_("团长佣金比例"))
    def rate_percent(self, obj: ProductRate) -> str:
        return f"{obj.rate_bp / 100:g}%"

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        try:
            leaders.set_product_rate(request.user, obj.product_id, obj.rate_bp)  # type: ignore[arg-type]
        except DomainError as exc:
            self.message_user(request, str(exc.message), messages.ERROR)


class PickupPointInline(StackedInline):
    model = PickupPoint
    can_delete = False
    extra = 0


@admin.register(Leader)
class LeaderAdmin(BeneficiaryAdmin):
    console_group = "groupbuy"
    list_display = ("name", "phone_masked_col", "point_name", "point_type", "status", "level", "applied_at")
    list_filter = ("status", "level", "point__type")
    search_fields = ("name", "phone", "point__name", "point__address")
    readonly_fields = ("user", "name", "phone", "id_number_shown", "share_code", "status", "reason", "applied_at")
    fields = (*readonly_fields, "level")
    inlines = [PickupPointInline]
    actions = ["approve", "reject", "suspend", "reinstate"]

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).select_related("point", "level")

    @admin.display(description=_("手机号"))
    def phone_masked_col(self, obj: Leader) -> str:
        return obj.phone_masked

    @admin.display(description=_("自提点"), ordering="point__name")
    def point_name(self, obj: Leader) -> str:
        return obj.point.name

    @admin.display(description=_("类型"))
    def point_type(self, obj: Leader) -> str:
        return str(obj.point.get_type_display())

    @admin.display(description=_("身份证号"))
    def id_number_shown(self, obj: Leader) -> str:
        user = getattr(self, "_request_user", None)
        if user is not None and user.has_perm("groupbuy.view_leader_id_number"):
            return obj.id_number
        return obj.id_number_masked

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        self._request_user = request.user
        return super().get_form(request, obj, change, **kwargs)

    commission_source = CommissionSource.LEADER
    ranking_path = "ranking/"
    ranking_url_name = "groupbuy_leader_ranking"
    ranking_title = _("团长排行榜")
    ranking_who = _("团长")
    ranking_earned = _("团长佣金")
    review_done = _("已处理 %(n)d 位团长")

    def review_one(self, request: HttpRequest, obj: Leader, action: str) -> None:
        reason = request.POST.get("reason", "") or str(_("运营处理"))
        leaders.review(request.user, obj.pk, action, reason)  # type: ignore[arg-type]

    def review_subject(self, obj: Leader) -> str:
        return obj.name

    approve = review_action("approve", _("通过申请"))
    reject = review_action("reject", _("拒绝申请"))
    suspend = review_action("suspend", _("暂停"))
    reinstate = review_action("reinstate", _("恢复"))


@admin.register(PickupPoint)
class PickupPointAdmin(ConsoleAdmin):
    console_group = "groupbuy"
    """Pickup points; ``?lat=&lng=`` (and ``radius_m``) lists those nearby, nearest first."""

    list_display = ("name", "type", "address", "hours", "daily_capacity", "leader", "distance")
    list_filter = ("type", "leader__status")
    search_fields = ("name", "address", "leader__name")
    change_list_template = "admin/groupbuy/pickuppoint_changelist.html"

    def _origin(self, request: HttpRequest) -> tuple[float, float, int] | None:
        try:
            lat, lng = float(request.GET["lat"]), float(request.GET["lng"])
            radius = int(request.GET.get("radius_m") or 3000)
        except (KeyError, ValueError):
            return None
        if not (-90 <= lat <= 90 and -180 <= lng <= 180 and 1 <= radius <= 50_000):
            return None
        return lat, lng, radius

    def get_queryset(self, request: HttpRequest) -> Any:
        rows = super().get_queryset(request).select_related("leader")
        origin = self._origin(request)
        if origin is None:
            return rows
        return geo.within(rows, *origin)

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> Any:
        from django.contrib.admin.views.main import ChangeList

        admin_obj = self

        class DistanceChangeList(ChangeList):
            def get_filters_params(self, params: Any = None) -> Any:
                out = super().get_filters_params(params)
                for key in ("lat", "lng", "radius_m"):
                    out.pop(key, None)
                return out

            def get_ordering(self, request: HttpRequest, queryset: Any) -> list[Any]:
                if admin_obj._origin(request) is not None:
                    return ["distance_m", "pk"]
                return super().get_ordering(request, queryset)

        return DistanceChangeList

    @admin.display(description=_("距离"))
    def distance(self, obj: PickupPoint) -> str:
        metres = getattr(obj, "distance_m", None)
        return "" if metres is None else f"{metres / 1000:.2f} km"


class BatchItemInline(TabularInline):
    model = BatchItem
    extra = 0
    fields = ("sku", "group_price_yuan", "per_person_limit", "stock_total", "stock_left", "sort")
    readonly_fields = ("sku", "group_price_yuan", "per_person_limit", "stock_total", "stock_left", "sort")
    group_price_yuan = yuan_column("group_price", _("团购价"))

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Batch)
class BatchAdmin(ConsoleAdmin):
    console_group = "groupbuy"
    list_display = ("name", "status", "sale_starts_at", "cutoff_at", "delivery_date", "pickup_date", "sheets")
    list_filter = ("status",)
    inlines = [BatchItemInline]
    actions = ["cut_off", "purchasing", "delivering", "at_points", "close"]

    @admin.display(description=_("单据"))
    def sheets(self, obj: Batch) -> str:
        base = "admin:groupbuy_batch_"
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a> · <a href="{}">{}</a> · <a href="{}">{}</a>',
            reverse(base + "pick_lists", args=[obj.pk]),
            _("分拣单"),
            reverse(base + "supply", args=[obj.pk]),
            _("采购汇总"),
            reverse(base + "routes", args=[obj.pk]),
            _("配送线路"),
            reverse(base + "sales", args=[obj.pk]),
            _("团长销售"),
        )

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        extra = [
            path("<int:batch_id>/pick-lists/", view(self.pick_lists_view), name="groupbuy_batch_pick_lists"),
            path("<int:batch_id>/pick-lists.csv", view(self.pick_lists_csv), name="groupbuy_batch_pick_lists_csv"),
            path("<int:batch_id>/supply/", view(self.supply_view), name="groupbuy_batch_supply"),
            path("<int:batch_id>/supply.csv", view(self.supply_csv), name="groupbuy_batch_supply_csv"),
            path("<int:batch_id>/routes/", view(self.routes_view), name="groupbuy_batch_routes"),
            path("<int:batch_id>/sales/", view(self.sales_view), name="groupbuy_batch_sales"),
        ]
        return extra + super().get_urls()

    def _context(self, request: HttpRequest, batch_id: int, title: Any, **extra: Any) -> dict[str, Any]:
        batch = Batch.objects.filter(pk=batch_id).first()
        return {**self.admin_site.each_context(request), "batch": batch, "title": title, **extra}

    def pick_lists_view(self, request: HttpRequest, batch_id: int) -> HttpResponse:
        lists = [batches.pick_list(batch_id, leader_id) for leader_id in _leaders_of(batch_id)]
        context = self._context(request, batch_id, _("分拣单"), lists=lists)
        return TemplateResponse(request, "admin/groupbuy/pick_lists.html", context)

    def pick_lists_csv(self, request: HttpRequest, batch_id: int) -> HttpResponse:
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="pick-lists-{batch_id}.csv"'
        response.write("\ufeff")  # Excel reads UTF-8 with a BOM
        out = csv.writer(response)
        out.writerow([_("团长"), _("自提点"), _("地址"), _("提货码"), _("买家"), _("商品"), _("数量")])
        for leader_id in _leaders_of(batch_id):
            data = batches.pick_list(batch_id, leader_id)
            for buyer in data["buyers"]:
                for name, quantity in buyer["lines"]:
                    out.writerow(
                        [
                            data["leader"].name,
                            data["point"].name,
                            data["point"].address,
                            buyer["code"],
                            buyer["buyer"],
                            name,
                            quantity,
                        ]
                    )
        return response

    def supply_view(self, request: HttpRequest, batch_id: int) -> HttpResponse:
        context = self._context(request, batch_id, _("采购汇总"), lines=batches.supplier_summary(batch_id))
        return TemplateResponse(request, "admin/groupbuy/supply.html", context)

    def supply_csv(self, request: HttpRequest, batch_id: int) -> HttpResponse:
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="supply-{batch_id}.csv"'
        response.write("\ufeff")
        out = csv.writer(response)
        out.writerow([_("商品"), _("采购数量"), _("团长数")])
        for line in batches.supplier_summary(batch_id):
            out.writerow([line.product_name, line.quantity, line.leaders])
        return response

    def routes_view(self, request: HttpRequest, batch_id: int) -> HttpResponse:
        context = self._context(request, batch_id, _("配送线路"), sheets=batches.route_sheets(batch_id))
        return TemplateResponse(request, "admin/groupbuy/routes.html", context)

    def sales_view(self, request: HttpRequest, batch_id: int) -> HttpResponse:
        rows = pickup.sales_by_leader(batch_id)
        chart = bar_chart(rows, value_label=str(_("销售额")), format_value=format_yuan)
        context = self._context(request, batch_id, _("团长销售"), chart=chart, rows=rows)
        return TemplateResponse(request, "admin/groupbuy/sales.html", context)

    def _move(self, request: HttpRequest, queryset: Any, func: Any) -> None:
        for batch in queryset:
            try:
                func(batch)
            except DomainError as exc:
                self.message_user(request, f"{batch.name}: {exc.message}", messages.WARNING)

    @admin.action(description=_("截单"))
    def cut_off(self, request: HttpRequest, queryset: Any) -> None:
        for batch in queryset:
            if not batches.cut_off(batch.pk):
                self.message_user(request, _("%(name)s 尚未到截单时间") % {"name": batch.name}, messages.WARNING)

    @admin.action(description=_("开始采购"))
    def purchasing(self, request: HttpRequest, queryset: Any) -> None:
        self._move(request, queryset, lambda b: batches.start_purchasing(request.user, b.pk))  # type: ignore[arg-type]

    @admin.action(description=_("开始配送"))
    def delivering(self, request: HttpRequest, queryset: Any) -> None:
        self._move(request, queryset, lambda b: batches.start_delivering(request.user, b.pk))  # type: ignore[arg-type]

    @admin.action(description=_("已到自提点"))
    def at_points(self, request: HttpRequest, queryset: Any) -> None:
        self._move(request, queryset, lambda b: pickup.mark_at_points(request.user, b.pk))  # type: ignore[arg-type]

    @admin.action(description=_("结束团期"))
    def close(self, request: HttpRequest, queryset: Any) -> None:
        self._move(request, queryset, lambda b: batches.close_batch(request.user, b.pk))  # type: ignore[arg-type]


def _leaders_of(batch_id: int) -> list[int]:
    from .models import PickListLine

    return list(
        PickListLine.objects.filter(batch_id=batch_id)
        .order_by("leader_id")
        .values_list("leader_id", flat=True)
        .distinct()
    )


class RouteStopInline(TabularInline):
    model = RouteStop
    extra = 1
    autocomplete_fields = ("leader",)


@admin.register(Route)
class RouteAdmin(ConsoleAdmin):
    console_group = "groupbuy"
    list_display = ("name", "driver", "stop_count")
    inlines = [RouteStopInline]

    @admin.display(description=_("站点数"))
    def stop_count(self, obj: Route) -> int:
        return obj.stops.count()


@admin.register(PickupOrder)
class PickupOrderAdmin(ConsoleAdmin):
    console_group = "groupbuy"
    list_display = ("code", "order", "batch", "leader", "status", "paid", "verified_at")
    list_filter = ("status", "batch")
    search_fields = ("code", "order__number", "leader__name")
    list_select_related = ("order", "batch", "leader")
    readonly_fields = ("code", "order", "batch", "leader", "buyer", "status", "verified_at", "created_at")
    actions = ["refund_uncollected", "keep_uncollected"]

    @admin.display(description=_("实付"))
    def paid(self, obj: PickupOrder) -> str:
        return format_yuan(obj.order.paid_amount)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def _decide(self, request: HttpRequest, queryset: Any, decision: str) -> None:
        for p in queryset.filter(status=PickupStatus.UNCOLLECTED):
            try:
                pickup.decide_uncollected(request.user, p.pk, decision)  # type: ignore[arg-type]
            except DomainError as exc:
                self.message_user(request, f"{p.code}: {exc.message}", messages.WARNING)

    @admin.action(description=_("逾期未取：退款"))
    def refund_uncollected(self, request: HttpRequest, queryset: Any) -> None:
        self._decide(request, queryset, "refund")

    @admin.action(description=_("逾期未取：保留订单"))
    def keep_uncollected(self, request: HttpRequest, queryset: Any) -> None:
        self._decide(request, queryset, "keep")


class ShortageInline(TabularInline):
    model = Shortage
    extra = 0
    fields = ("product_name", "quantity", "refunded")
    readonly_fields = ("product_name", "quantity", "refunded")
    refunded = yuan_column("refunded_amount", _("已退款"))

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(ConsoleAdmin):
    console_group = "groupbuy"
    list_display = ("batch", "leader", "received_at", "shortage_units")
    list_filter = ("batch",)
    inlines = [ShortageInline]
    readonly_fields = ("batch", "leader", "received_at", "received_by")

    @admin.display(description=_("缺货件数"))
    def shortage_units(self, obj: Delivery) -> int:
        return sum(s.quantity for s in obj.shortages.all())

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
