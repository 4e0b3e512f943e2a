"""Console for orders and after-sales cases: read-only lists and detail, shipping and case review by form."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Sum, Value, When
from django.db.models.functions import TruncDate
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from unfold.contrib.filters.admin import RangeDateFilter

from jishi.accounts.models import Role
from jishi.accounts.services import has_role
from jishi.core.admin_views import (
    ConsoleAccessMixin,
    FormBlock,
    ReadOnlyTabularInline,
    render_form_page,
    yuan,
    yuan_column,
)
from jishi.core.charts import column_chart
from jishi.core.conf import setting
from jishi.core.console import ConsoleAdmin, fen_text
from jishi.core.dashboard import Card, Chart, Figure, Period, register_card, register_chart
from jishi.core.errors import DomainError, RemoteUnavailable

from . import services
from .models import AfterSale, AfterSaleKind, AfterSaleLine, AfterSaleStatus, Order, OrderLine, OrderStatus


def is_operator(user: Any) -> bool:
    """Staff who may see and act in the selling console (operators and admins)."""
    return bool(getattr(user, "is_staff", False)) and has_role(user, Role.OPERATOR)


class OperatorOnly(ConsoleAccessMixin):
    console_access = staticmethod(is_operator)


def _require_operator(request: HttpRequest) -> None:
    if not is_operator(request.user):
        raise PermissionDenied


def _error_text(exc: DomainError) -> str:
    details = "; ".join(f"{', '.join(v)}" for v in exc.fields.values() if v)
    return f"{exc.message}（{details}）" if details else str(exc.message)


def _address_text(address: dict[str, Any]) -> str:
    if not address:
        return "-"
    region = "".join(str(address.get(k) or "") for k in ("province", "city", "district"))
    return f"{address.get('contact', '')} {address.get('phone', '')} {region}{address.get('detail', '')}".strip()


def _order_link(order: Order) -> str:
    url = reverse("admin:orders_order_change", args=[order.pk])
    return format_html('<a href="{}">{}</a>', url, order.number)


# --- orders ---------------------------------------------------------------------------


class OrderLineInline(OperatorOnly, ReadOnlyTabularInline):
    model = OrderLine
    verbose_name = _("商品")
    verbose_name_plural = _("商品")
    fields = (
        "product_name",
        "specs_text",
        "unit_price_yuan",
        "quantity",
        "discount_yuan",
        "paid_yuan",
        "refunded_quantity",
        "refunded_yuan",
    )
    readonly_fields = fields

    @admin.display(description=_("商品"))
    def product_name(self, line: OrderLine) -> str:
        return line.product_name

    @admin.display(description=_("规格"))
    def specs_text(self, line: OrderLine) -> str:
        return " ".join(f"{k}:{v}" for k, v in (line.specs or {}).items()) or "-"

    unit_price_yuan = yuan_column("unit_price", _("单价"))

    discount_yuan = yuan_column("discount", _("优惠"))

    paid_yuan = yuan_column("paid_amount", _("实付"))

    refunded_yuan = yuan_column("refunded_amount", _("已退金额"))


class OrderAfterSaleInline(OperatorOnly, ReadOnlyTabularInline):
    model = AfterSale
    fk_name = "order"
    verbose_name = _("售后")
    verbose_name_plural = _("售后")
    fields = ("case_link", "kind", "status", "amount_yuan", "reason", "created_at")
    readonly_fields = fields

    @admin.display(description=_("售后单号"))
    def case_link(self, case: AfterSale) -> str:
        return format_html('<a href="{}">{}</a>', reverse("admin:orders_aftersale_change", args=[case.pk]), case.number)

    amount_yuan = yuan_column("amount", _("退款金额"))


# Apps above orders (payments) add their rows to the order page here: orders does not import them.
extra_order_inlines: list[type[admin.options.InlineModelAdmin]] = []


def add_order_inline(inline: type[admin.options.InlineModelAdmin]) -> None:
    if inline not in extra_order_inlines:
        extra_order_inlines.append(inline)


class ShipForm(forms.Form):
    carrier = forms.CharField(label=_("快递公司"), max_length=32)
    tracking_number = forms.CharField(label=_("运单号"), max_length=64)


# Apps above orders (payments) name their methods' labels here: orders does not import them.
payment_method_labels: dict[str, Any] = {}

CHANNELS: dict[str, Any] = {
    "": _("普通订单"),
    "flash": _("秒杀"),
    "group": _("拼团"),
    "bargain": _("砍价"),
    "points_mall": _("积分商城"),
}


def channel_of(order: Order) -> str:
    return str(((order.meta or {}).get("campaign") or {}).get("kind") or "")


def method_label(method: str) -> Any:
    return payment_method_labels.get(method, method) if method else "-"


class PaymentMethodFilter(admin.SimpleListFilter):
    title = _("支付方式")
    parameter_name = "payment_method"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return list(payment_method_labels.items())

    def queryset(self, request: HttpRequest, queryset: QuerySet[Order]) -> QuerySet[Order]:
        return queryset.filter(payment_method=self.value()) if self.value() else queryset


class ChannelFilter(admin.SimpleListFilter):
    title = _("渠道")
    parameter_name = "channel"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("normal" if k == "" else k, v) for k, v in CHANNELS.items()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Order]) -> QuerySet[Order]:
        value = self.value()
        if not value:
            return queryset
        if value == "normal":
            return queryset.filter(Q(meta__campaign__isnull=True) | Q(meta__campaign__kind__isnull=True))
        return queryset.filter(meta__campaign__kind=value)


@admin.register(Order)
class OrderAdmin(OperatorOnly, ConsoleAdmin):
    console_group = "orders"
    console_icon = "receipt_long"
    console_order = 10
    list_fullwidth = True

    list_display = (
        "number",
        "buyer_phone",
        "goods_summary",
        "status_badge",
        "payable_yuan",
        "paid_yuan",
        "method_text",
        "channel_text",
        "created_at",
    )
    list_filter = (
        "status",
        ("paid_at", RangeDateFilter),
        ("created_at", RangeDateFilter),
        PaymentMethodFilter,
        ChannelFilter,
    )
    search_fields = ("number", "user__phone", "tracking_number")
    list_select_related = ("user",)
    list_per_page = 50
    actions = ["ship_selected", "print_pick_list", "print_packing_slips"]
    inlines = [OrderLineInline, OrderAfterSaleInline]
    fieldsets = (
        (None, {"fields": ("number", "buyer_phone", "status", "channel_text", "remark")}),
        (
            _("金额"),
            {
                "fields": (
                    "goods_yuan",
                    "discount_yuan",
                    "shipping_yuan",
                    "payable_yuan",
                    "paid_yuan",
                    "refunded_yuan",
                    "method_text",
                    "adjustments_table",
                )
            },
        ),
        (_("收货与物流"), {"fields": ("address_text", "carrier", "tracking_number")}),
        (_("时间"), {"fields": ("created_at", "pay_deadline", "paid_at", "shipped_at", "completed_at", "closed_at")}),
    )
    readonly_fields = (
        "buyer_phone",
        "goods_yuan",
        "discount_yuan",
        "shipping_yuan",
        "payable_yuan",
        "paid_yuan",
        "refunded_yuan",
        "adjustments_table",
        "address_text",
        "method_text",
        "channel_text",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Order]:
        return super().get_queryset(request).prefetch_related("lines")

    @admin.display(description=_("状态"), ordering="status")
    def status_badge(self, order: Order) -> str:
        return format_html('<span class="jishi-badge is-{}">{}</span>', order.status, order.get_status_display())

    @admin.display(description=_("商品"))
    def goods_summary(self, order: Order) -> str:
        lines = list(order.lines.all())
        if not lines:
            return "-"
        first = lines[0].product_name
        count = sum(line.quantity for line in lines)
        more = _("等 %(n)d 件") % {"n": count} if len(lines) > 1 else f"×{count}"
        return f"{first[:18]}{'…' if len(first) > 18 else ''} {more}"

    @admin.display(description=_("支付方式"), ordering="payment_method")
    def method_text(self, order: Order) -> Any:
        return method_label(order.payment_method)

    @admin.display(description=_("渠道"))
    def channel_text(self, order: Order) -> Any:
        return CHANNELS.get(channel_of(order), channel_of(order))

    def get_inlines(self, request: HttpRequest, obj: Any) -> list[type[admin.options.InlineModelAdmin]]:
        return [*self.inlines, *extra_order_inlines]

    @admin.display(description=_("买家手机号"), ordering="user__phone")
    def buyer_phone(self, order: Order) -> str:
        return order.user.phone or order.user.username

    goods_yuan = yuan_column("goods_amount", _("商品金额"))

    discount_yuan = yuan_column("discount_amount", _("优惠"))

    shipping_yuan = yuan_column("shipping_fee", _("运费"))

    payable_yuan = yuan_column("payable", _("应付"), ordering="payable")

    paid_yuan = yuan_column("paid_amount", _("实付"), ordering="paid_amount")

    refunded_yuan = yuan_column("refunded_amount", _("已退"))

    @admin.display(description=_("价格明细"))
    def adjustments_table(self, order: Order) -> str:
        rows = [(a.get("label") or a.get("code") or "", yuan(int(a.get("amount") or 0))) for a in order.adjustments]
        if not rows:
            return "-"
        return format_html("<table>{}</table>", format_html_join("", "<tr><td>{}</td><td>{}</td></tr>", rows))

    @admin.display(description=_("收货地址"))
    def address_text(self, order: Order) -> str:
        return _address_text(order.address)

    # --- shipping --------------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        ours = [
            path("<int:order_id>/ship/", wrap(self.ship_view), name="orders_order_ship"),
            path("<int:order_id>/packing-slip/", wrap(self.packing_slip_view), name="orders_order_packing_slip"),
            path("export/", wrap(self.export_view), name="orders_order_export"),
            path("bulk-ship/", wrap(self.bulk_ship_view), name="orders_order_bulk_ship"),
            path("pick-list/", wrap(self.pick_list_view), name="orders_order_pick_list"),
        ]
        return [*ours, *super().get_urls()]

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        query = request.GET.urlencode()
        extra = {
            "export_url": f"{reverse('admin:orders_order_export')}?{query}",
            "pick_list_url": f"{reverse('admin:orders_order_pick_list')}?{query}",
            "bulk_ship_url": reverse("admin:orders_order_bulk_ship"),
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra)

    def _filtered(self, request: HttpRequest) -> QuerySet[Order]:
        """The orders the list shows for this query string (filters and search), for export and printing."""
        return self.get_changelist_instance(request).get_queryset(request)

    def export_view(self, request: HttpRequest) -> HttpResponse:
        _require_operator(request)
        rows = (
            self._filtered(request)
            .select_related("user")
            .prefetch_related("lines")[: setting("CONSOLE_EXPORT_MAX_ROWS")]
        )
        return orders_csv(rows)

    def pick_list_view(self, request: HttpRequest) -> HttpResponse:
        _require_operator(request)
        ids = [int(i) for i in request.GET.getlist("ids") if i.isdigit()]
        if ids:
            orders = Order.objects.filter(pk__in=ids[:500])
        else:
            orders = self._filtered(request).filter(status=OrderStatus.PAID)[:500]
        return render_pick_list(request, list(orders))

    def packing_slip_view(self, request: HttpRequest, order_id: int) -> HttpResponse:
        _require_operator(request)
        order = get_object_or_404(Order.objects.select_related("user"), pk=order_id)
        return render_packing_slips(request, [order])

    @admin.action(description=_("打印拣货单"))
    def print_pick_list(self, request: HttpRequest, queryset: QuerySet[Order]) -> HttpResponse:
        return render_pick_list(request, list(queryset[:500]))

    @admin.action(description=_("打印发货单"))
    def print_packing_slips(self, request: HttpRequest, queryset: QuerySet[Order]) -> HttpResponse:
        return render_packing_slips(request, list(queryset.select_related("user")[:500]))

    def bulk_ship_view(self, request: HttpRequest) -> HttpResponse:
        _require_operator(request)
        form = BulkShipForm(request.POST or None, request.FILES or None)
        results: list[ShipResult] = []
        if request.method == "POST" and form.is_valid():
            results = ship_from_csv(request.user, form.cleaned_data["rows"])
            shipped = sum(1 for r in results if r.ok)
            level = messages.SUCCESS if shipped == len(results) else messages.WARNING
            self.message_user(
                request, _("已发货 %(ok)d 单，失败 %(bad)d 单") % {"ok": shipped, "bad": len(results) - shipped}, level
            )
        context = {
            **self.admin_site.each_context(request),
            "title": _("批量发货（导入运单号）"),
            "form": form,
            "results": results,
            "opts": self.model._meta,
            "list_url": reverse("admin:orders_order_changelist"),
        }
        return TemplateResponse(request, "admin/orders/order/bulk_ship.html", context)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra = dict(extra_context or {})
        order = Order.objects.filter(pk=object_id).only("status").first() if object_id.isdigit() else None
        if order is not None and order.status == OrderStatus.PAID and is_operator(request.user):
            extra["ship_url"] = reverse("admin:orders_order_ship", args=[order.pk])
        if order is not None and is_operator(request.user):
            extra["packing_slip_url"] = reverse("admin:orders_order_packing_slip", args=[order.pk])
        return super().change_view(request, object_id, form_url, extra)

    @admin.action(description=_("发货"))
    def ship_selected(self, request: HttpRequest, queryset: QuerySet[Order]) -> HttpResponse | None:
        ids = list(queryset.values_list("pk", flat=True)[:2])
        if len(ids) != 1:
            self.message_user(request, _("请选择一个订单发货（每单运单号不同）"), messages.WARNING)
            return None
        return HttpResponseRedirect(reverse("admin:orders_order_ship", args=[ids[0]]))

    def ship_view(self, request: HttpRequest, order_id: int) -> HttpResponse:
        _require_operator(request)
        order = get_object_or_404(Order.objects.select_related("user"), pk=order_id)
        change_url = reverse("admin:orders_order_change", args=[order.pk])
        form = ShipForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                services.ship_order(
                    request.user,  # type: ignore[arg-type]
                    order.pk,
                    form.cleaned_data["carrier"],
                    form.cleaned_data["tracking_number"],
                )
            except DomainError as exc:
                self.message_user(request, _error_text(exc), messages.ERROR)
            else:
                self.message_user(request, _("订单 %(number)s 已发货") % {"number": order.number}, messages.SUCCESS)
            return HttpResponseRedirect(change_url)
        return render_form_page(
            request,
            title=_("发货"),
            summary=[
                (_("订单号"), order.number),
                (_("状态"), order.get_status_display()),
                (_("买家手机号"), order.user.phone or order.user.username),
                (_("收货地址"), _address_text(order.address)),
            ],
            forms=[FormBlock(form=form, submit=_("确认发货"))],
            breadcrumbs=[(_("订单"), reverse("admin:orders_order_changelist")), (order.number, change_url)],
            back_url=change_url,
            site=self.admin_site,
        )


# --- export, bulk shipping, printing ----------------------------------------------------

CSV_COLUMNS = (
    _("订单号"),
    _("下单时间"),
    _("付款时间"),
    _("状态"),
    _("买家手机号"),
    _("收货人"),
    _("收货电话"),
    _("收货地址"),
    _("商品"),
    _("件数"),
    _("商品金额"),
    _("优惠"),
    _("运费"),
    _("实付"),
    _("已退"),
    _("支付方式"),
    _("渠道"),
    _("快递公司"),
    _("运单号"),
    _("备注"),
)


def _csv_cell(value: Any) -> str:
    """Text a spreadsheet shows as typed: a leading = + - @ would run as a formula (CSV injection)."""
    text = str(value if value is not None else "")
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _local(moment: Any) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def _specs_text(specs: dict[str, Any] | None) -> str:
    return " ".join(f"{k}:{v}" for k, v in (specs or {}).items())


def orders_csv(orders: Iterable[Order]) -> HttpResponse:
    """The orders as a CSV a spreadsheet opens in Chinese (UTF-8 with BOM); amounts in yuan."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="orders-{stamp}.csv"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow([str(c) for c in CSV_COLUMNS])
    for order in orders:
        address = order.address or {}
        lines = list(order.lines.all())
        goods = "；".join(f"{line.product_name} {_specs_text(line.specs)} ×{line.quantity}" for line in lines)
        writer.writerow(
            [
                _csv_cell(v)
                for v in (
                    order.number,
                    _local(order.created_at),
                    _local(order.paid_at),
                    order.get_status_display(),
                    order.user.phone or order.user.username,
                    address.get("contact", ""),
                    address.get("phone", ""),
                    _address_text(address),
                    goods,
                    sum(line.quantity for line in lines),
                    fen_text(order.goods_amount),
                    fen_text(order.discount_amount),
                    fen_text(order.shipping_fee),
                    fen_text(order.paid_amount),
                    fen_text(order.refunded_amount),
                    method_label(order.payment_method),
                    CHANNELS.get(channel_of(order), channel_of(order)),
                    order.carrier,
                    order.tracking_number,
                    order.remark,
                )
            ]
        )
    return response


@dataclass(frozen=True)
class ShipRow:
    line: int
    number: str
    carrier: str
    tracking_number: str


@dataclass(frozen=True)
class ShipResult:
    row: ShipRow
    ok: bool
    message: str


class BulkShipForm(forms.Form):
    """A CSV of 订单号,快递公司,运单号 (a header row is skipped); at most a few thousand rows."""

    file = forms.FileField(
        label=_("运单 CSV 文件"),
        help_text=_("三列：订单号, 快递公司, 运单号；第一行可以是表头；UTF-8 或 GBK 编码"),
        widget=forms.FileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > setting("CONSOLE_IMPORT_MAX_BYTES"):
            raise forms.ValidationError(_("文件太大"))
        raw = upload.read()
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise forms.ValidationError(_("无法识别文件编码，请另存为 UTF-8 CSV"))
        rows: list[ShipRow] = []
        for index, cells in enumerate(csv.reader(io.StringIO(text)), start=1):
            cells = [c.strip() for c in cells]
            if not any(cells):
                continue
            if index == 1 and not any(ch.isdigit() for ch in cells[0]):
                continue  # a header row
            if len(cells) < 3 or not all(cells[:3]):
                raise forms.ValidationError(_("第 %(n)d 行应有三列：订单号, 快递公司, 运单号") % {"n": index})
            if len(cells[0]) > 24 or len(cells[1]) > 32 or len(cells[2]) > 64:
                raise forms.ValidationError(_("第 %(n)d 行内容过长") % {"n": index})
            rows.append(ShipRow(index, cells[0], cells[1], cells[2]))
        if not rows:
            raise forms.ValidationError(_("文件里没有运单"))
        if len(rows) > setting("CONSOLE_IMPORT_MAX_ROWS"):
            raise forms.ValidationError(_("一次最多导入 %(n)d 行") % {"n": setting("CONSOLE_IMPORT_MAX_ROWS")})
        self.cleaned_data["rows"] = rows
        return upload


def ship_from_csv(actor: Any, rows: Sequence[ShipRow]) -> list[ShipResult]:
    """Ship each row's order through the service, one transaction per order: a bad row stops only itself."""
    orders = {o.number: o.pk for o in Order.objects.filter(number__in=[r.number for r in rows]).only("number")}
    results = []
    for row in rows:
        order_id = orders.get(row.number)
        if order_id is None:
            results.append(ShipResult(row, False, str(_("订单不存在"))))
            continue
        try:
            services.ship_order(actor, order_id, row.carrier, row.tracking_number)
        except DomainError as exc:
            results.append(ShipResult(row, False, _error_text(exc)))
        else:
            results.append(ShipResult(row, True, str(_("已发货"))))
    return results


def render_pick_list(request: HttpRequest, orders: list[Order]) -> HttpResponse:
    """Every SKU to take off the shelf for these orders, summed, with the orders it goes to."""
    lines = OrderLine.objects.filter(order__in=orders).select_related("order", "sku").order_by("product_name", "sku_id")
    picks: dict[tuple[Any, ...], dict[str, Any]] = {}
    for line in lines:
        key = (line.sku_id, line.product_name)
        pick = picks.setdefault(
            key,
            {
                "name": line.product_name,
                "specs": _specs_text(line.specs),
                "barcode": (line.sku.barcode if line.sku else "") or "",
                "quantity": 0,
                "orders": [],
            },
        )
        pick["quantity"] += line.quantity - line.refunded_quantity
        pick["orders"].append(line.order.number)
    context = {
        "title": _("拣货单"),
        "picks": sorted(picks.values(), key=lambda p: (p["name"], p["specs"])),
        "order_count": len(orders),
        "total": sum(p["quantity"] for p in picks.values()),
        "printed_at": timezone.localtime(),
    }
    return TemplateResponse(request, "admin/orders/order/pick_list.html", context)


def render_packing_slips(request: HttpRequest, orders: list[Order]) -> HttpResponse:
    slips = [
        {
            "order": order,
            "address": order.address or {},
            "address_text": _address_text(order.address or {}),
            "lines": [
                {
                    "name": line.product_name,
                    "specs": _specs_text(line.specs),
                    "quantity": line.quantity - line.refunded_quantity,
                }
                for line in order.lines.all()
            ],
        }
        for order in orders
    ]
    context = {"title": _("发货单"), "slips": slips, "printed_at": timezone.localtime()}
    return TemplateResponse(request, "admin/orders/order/packing_slip.html", context)


# --- after-sales ----------------------------------------------------------------------


class AfterSaleLineInline(OperatorOnly, ReadOnlyTabularInline):
    model = AfterSaleLine
    verbose_name = _("售后商品")
    verbose_name_plural = _("售后商品")
    fields = ("product_name", "quantity", "amount_yuan")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[AfterSaleLine]:
        return super().get_queryset(request).select_related("order_line")

    @admin.display(description=_("商品"))
    def product_name(self, line: AfterSaleLine) -> str:
        return line.order_line.product_name

    amount_yuan = yuan_column("amount", _("金额"))


class ApproveForm(forms.Form):
    restock = forms.BooleanField(label=_("退货入库"), required=False, help_text=_("退回的商品可再次销售时勾选"))


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("拒绝原因"), max_length=200, widget=forms.Textarea(attrs={"rows": 3}))


@admin.register(AfterSale)
class AfterSaleAdmin(OperatorOnly, ConsoleAdmin):
    console_group = "after_sales"
    console_icon = "assignment_return"
    console_order = 10

    list_display = (
        "number",
        "order_link",
        "buyer_phone",
        "kind",
        "status",
        "amount_yuan",
        "reason",
        "created_at",
        "review_link",
    )
    list_filter = ("status", "kind")
    search_fields = ("number", "order__number", "user__phone")
    list_select_related = ("order", "user")
    inlines = [AfterSaleLineInline]
    fields = (
        "number",
        "order_link",
        "buyer_phone",
        "kind",
        "status",
        "amount_yuan",
        "reason",
        "reject_reason",
        "restock",
        "reviewed_by",
        "created_at",
        "reviewed_at",
    )
    readonly_fields = ("order_link", "buyer_phone", "amount_yuan")

    def get_ordering(self, request: HttpRequest) -> list[Any]:
        # Pending cases first: they are the operator's to-do list.
        pending_first = Case(
            When(status=AfterSaleStatus.PENDING, then=Value(0)), default=Value(1), output_field=IntegerField()
        )
        return [pending_first.asc(), "-id"]

    @admin.display(description=_("订单"), ordering="order__number")
    def order_link(self, case: AfterSale) -> str:
        return _order_link(case.order)

    @admin.display(description=_("买家手机号"))
    def buyer_phone(self, case: AfterSale) -> str:
        return case.user.phone or case.user.username

    amount_yuan = yuan_column("amount", _("退款金额"), ordering="amount")

    @admin.display(description=_("操作"))
    def review_link(self, case: AfterSale) -> str:
        if case.status != AfterSaleStatus.PENDING:
            return "-"
        return format_html('<a href="{}">{}</a>', reverse("admin:orders_aftersale_review", args=[case.pk]), _("审核"))

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        ours = [
            path("<int:case_id>/review/", wrap(self.review_view), name="orders_aftersale_review"),
            path("<int:case_id>/approve/", wrap(self.approve_view), name="orders_aftersale_approve"),
            path("<int:case_id>/reject/", wrap(self.reject_view), name="orders_aftersale_reject"),
        ]
        return [*ours, *super().get_urls()]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra = dict(extra_context or {})
        case = AfterSale.objects.filter(pk=object_id).only("status").first() if object_id.isdigit() else None
        if case is not None and case.status == AfterSaleStatus.PENDING and is_operator(request.user):
            extra["review_url"] = reverse("admin:orders_aftersale_review", args=[case.pk])
        return super().change_view(request, object_id, form_url, extra)

    def _review_page(
        self,
        request: HttpRequest,
        case: AfterSale,
        approve: ApproveForm | None = None,
        reject: RejectForm | None = None,
        status: int = 200,
    ) -> HttpResponse:
        approve = approve or ApproveForm()
        if case.kind != AfterSaleKind.RETURN_REFUND:
            # Nothing comes back to the warehouse for a refund without a return.
            approve.fields.pop("restock")
        order = case.order
        lines = ", ".join(
            f"{cl.order_line.product_name} ×{cl.quantity}" for cl in case.lines.select_related("order_line")
        )
        change_url = reverse("admin:orders_aftersale_change", args=[case.pk])
        return render_form_page(
            request,
            title=_("审核售后 %(number)s") % {"number": case.number},
            summary=[
                (_("订单"), _order_link(order)),
                (_("订单状态"), order.get_status_display()),
                (_("类型"), case.get_kind_display()),
                (_("退款金额"), yuan(case.amount)),
                (_("订单实付"), yuan(order.paid_amount)),
                (_("已退"), yuan(order.refunded_amount)),
                (_("原因"), case.reason),
                (_("商品"), lines),
            ],
            forms=[
                FormBlock(
                    form=approve,
                    submit=_("同意退款"),
                    title=_("同意退款"),
                    confirm=_("确认同意退款 %(amount)s？款项将原路退回，并记入审计日志。")
                    % {"amount": yuan(case.amount)},
                    action=reverse("admin:orders_aftersale_approve", args=[case.pk]),
                ),
                FormBlock(
                    form=reject or RejectForm(),
                    submit=_("拒绝"),
                    title=_("拒绝"),
                    confirm=_("确认拒绝这个售后申请？"),
                    action=reverse("admin:orders_aftersale_reject", args=[case.pk]),
                    danger=True,
                ),
            ],
            breadcrumbs=[(_("售后"), reverse("admin:orders_aftersale_changelist")), (case.number, change_url)],
            back_url=change_url,
            site=self.admin_site,
            status=status,
        )

    def _case(self, case_id: int) -> AfterSale:
        return get_object_or_404(AfterSale.objects.select_related("order", "user"), pk=case_id)

    def review_view(self, request: HttpRequest, case_id: int) -> HttpResponse:
        _require_operator(request)
        case = self._case(case_id)
        if case.status != AfterSaleStatus.PENDING:
            self.message_user(request, _("售后单已处理"), messages.WARNING)
            return HttpResponseRedirect(reverse("admin:orders_aftersale_change", args=[case.pk]))
        return self._review_page(request, case)

    def approve_view(self, request: HttpRequest, case_id: int) -> HttpResponse:
        _require_operator(request)
        case = self._case(case_id)
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:orders_aftersale_review", args=[case.pk]))
        form = ApproveForm(request.POST)
        form.is_valid()  # a lone optional checkbox: always valid
        restock = case.kind == AfterSaleKind.RETURN_REFUND and bool(form.cleaned_data.get("restock"))
        try:
            services.approve_after_sale(request.user, case.pk, restock=restock)  # type: ignore[arg-type]
        except DomainError as exc:
            self.message_user(request, _error_text(exc), messages.ERROR)
        except RemoteUnavailable:  # the provider could not be reached: recorded, retried by the job
            self.message_user(request, _("已同意，退款已登记；支付渠道暂时无法连接，系统将自动重试"), messages.WARNING)
        else:
            order = Order.objects.get(pk=case.order_id)
            self.message_user(
                request,
                _(
                    "已同意售后 %(case)s：退款 %(amount)s 原路退回（%(method)s）；"
                    "订单 %(order)s 状态：%(status)s，累计已退 %(refunded)s"
                )
                % {
                    "case": case.number,
                    "amount": yuan(case.amount),
                    "method": order.payment_method or "-",
                    "order": order.number,
                    "status": order.get_status_display(),
                    "refunded": yuan(order.refunded_amount),
                },
                messages.SUCCESS,
            )
        return HttpResponseRedirect(reverse("admin:orders_aftersale_change", args=[case.pk]))

    def reject_view(self, request: HttpRequest, case_id: int) -> HttpResponse:
        _require_operator(request)
        case = self._case(case_id)
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:orders_aftersale_review", args=[case.pk]))
        form = RejectForm(request.POST)
        if not form.is_valid():
            return self._review_page(request, case, reject=form)
        try:
            services.reject_after_sale(request.user, case.pk, form.cleaned_data["reason"])  # type: ignore[arg-type]
        except DomainError as exc:
            self.message_user(request, _error_text(exc), messages.ERROR)
        else:
            order = Order.objects.get(pk=case.order_id)
            self.message_user(
                request,
                _("已拒绝售后 %(case)s；订单 %(order)s 恢复为：%(status)s")
                % {"case": case.number, "order": order.number, "status": order.get_status_display()},
                messages.SUCCESS,
            )
        return HttpResponseRedirect(reverse("admin:orders_aftersale_change", args=[case.pk]))


# --- dashboard ------------------------------------------------------------------------

SALES_STATUSES = (
    OrderStatus.PAID,
    OrderStatus.SHIPPED,
    OrderStatus.COMPLETED,
    OrderStatus.REFUNDING,
    OrderStatus.REFUNDED,
)


def _sales(since: Any, until: Any) -> dict[str, int]:
    rows = Order.objects.filter(paid_at__gte=since, paid_at__lt=until, status__in=SALES_STATUSES)
    agg = rows.aggregate(gmv=Sum("paid_amount"), orders=Count("id"), buyers=Count("user_id", distinct=True))
    return {"gmv": agg["gmv"] or 0, "orders": agg["orders"] or 0, "buyers": agg["buyers"] or 0}


def _orders_link(period_start: Any, **params: str) -> str:
    query = {"paid_at__gte": period_start.strftime("%Y-%m-%d"), **params}
    return f"{reverse('admin:orders_order_changelist')}?{urlencode(query)}"


def _sales_card(key: str, title: Any, icon: str, order: int, pick: Callable[[dict[str, int]], str]) -> None:
    for section, start_of in (("today", "today_start"), ("week", "week_start")):

        def compute(period: Period, start_of: str = start_of) -> Figure:
            since = getattr(period, start_of)
            sales = period.shared(("orders.sales", since), lambda: _sales(since, period.now + timedelta(seconds=1)))
            return Figure(value=pick(sales), link=_orders_link(since))

        register_card(
            Card(
                key=f"{section}.{key}",
                title=title,
                section=section,
                compute=compute,
                icon=icon,
                order=order,
                allowed=is_operator,
            )
        )


def _aov(s: dict[str, int]) -> str:
    return yuan(s["gmv"] // s["orders"]) if s["orders"] else yuan(0)


_sales_card("gmv", _("成交额 GMV"), "payments", 10, lambda s: yuan(s["gmv"]))
_sales_card("orders", _("支付订单数"), "shopping_cart", 20, lambda s: f"{s['orders']:,}")
_sales_card("buyers", _("支付买家"), "person", 30, lambda s: f"{s['buyers']:,}")
_sales_card("aov", _("客单价"), "price_check", 40, _aov)


def _pending_shipments(period: Period) -> Figure:
    count = Order.objects.filter(status=OrderStatus.PAID).count()
    url = f"{reverse('admin:orders_order_changelist')}?status__exact={OrderStatus.PAID}"
    return Figure(value=f"{count:,}", link=url, alert=count > 0)


def _open_after_sales(period: Period) -> Figure:
    count = AfterSale.objects.filter(status=AfterSaleStatus.PENDING).count()
    url = f"{reverse('admin:orders_aftersale_changelist')}?status__exact={AfterSaleStatus.PENDING}"
    return Figure(value=f"{count:,}", link=url, alert=count > 0)


register_card(Card("todo.ship", _("待发货"), "todo", _pending_shipments, "local_shipping", 10, is_operator))
register_card(
    Card("todo.after_sales", _("待处理售后"), "todo", _open_after_sales, "assignment_return", 20, is_operator)
)


def _gmv_chart(period: Period) -> SafeString:
    days = period.days()
    rows = (
        Order.objects.filter(paid_at__gte=days[0], status__in=SALES_STATUSES)
        .annotate(day=TruncDate("paid_at", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(gmv=Sum("paid_amount"), n=Count("id"))
    )
    by_day = {r["day"]: r for r in rows}
    values = [(d.strftime("%m-%d"), int((by_day.get(d.date()) or {}).get("gmv") or 0)) for d in days]
    return column_chart(values, value_label=str(_("近 7 日成交额")), format_value=lambda v: yuan(v))


def _orders_chart(period: Period) -> SafeString:
    days = period.days()
    rows = (
        Order.objects.filter(paid_at__gte=days[0], status__in=SALES_STATUSES)
        .annotate(day=TruncDate("paid_at", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(n=Count("id"))
    )
    by_day = {r["day"]: r["n"] for r in rows}
    values = [(d.strftime("%m-%d"), int(by_day.get(d.date()) or 0)) for d in days]
    return column_chart(values, value_label=str(_("近 7 日支付订单")), colour="#f59e0b")


register_chart(Chart("gmv_7d", _("近 7 日成交额"), _gmv_chart, 10, is_operator))
register_chart(Chart("orders_7d", _("近 7 日支付订单"), _orders_chart, 20, is_operator))
