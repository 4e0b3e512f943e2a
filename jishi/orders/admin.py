"""Console for orders and after-sales cases: read-only lists and detail, shipping and case review by form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

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
from jishi.core.console import ConsoleAdmin
from jishi.core.errors import DomainError

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


@admin.register(Order)
class OrderAdmin(OperatorOnly, ConsoleAdmin):
    console_group = "orders"
    console_icon = "receipt_long"
    console_order = 10

    list_display = (
        "number",
        "buyer_phone",
        "status",
        "payable_yuan",
        "paid_yuan",
        "payment_method",
        "created_at",
        "paid_at",
    )
    list_filter = ("status", "payment_method", "created_at")
    date_hierarchy = "created_at"
    search_fields = ("number", "user__phone", "tracking_number")
    list_select_related = ("user",)
    list_per_page = 50
    actions = ["ship_selected"]
    inlines = [OrderLineInline, OrderAfterSaleInline]
    fieldsets = (
        (None, {"fields": ("number", "buyer_phone", "status", "remark")}),
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
                    "payment_method",
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
    )

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
        ship = path(
            "<int:order_id>/ship/",
            self.admin_site.admin_view(self.ship_view),
            name="orders_order_ship",
        )
        return [ship, *super().get_urls()]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra = dict(extra_context or {})
        order = Order.objects.filter(pk=object_id).only("status").first() if object_id.isdigit() else None
        if order is not None and order.status == OrderStatus.PAID and is_operator(request.user):
            extra["ship_url"] = reverse("admin:orders_order_ship", args=[order.pk])
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
                    action=reverse("admin:orders_aftersale_approve", args=[case.pk]),
                ),
                FormBlock(
                    form=reject or RejectForm(),
                    submit=_("拒绝"),
                    title=_("拒绝"),
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
