"""Ops console for rebates: sources (secret write-only) and their sync, goods, orders, the
unmatched-order queue, split settings and the monthly reconciliation."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from jishi.accounts.models import User
from jishi.core.admin_views import register_page, yuan, yuan_column
from jishi.core.console import ConsoleAdmin
from jishi.core.errors import DomainError
from jishi.orders.admin import OperatorOnly, is_operator

from . import lifecycle, reconcile, registration, sources, splits
from .models import (
    LinkRegistration,
    NetworkOrder,
    OrderAdjustment,
    OrderAnomaly,
    OrderStatus,
    RebateGoods,
    RebateSource,
    RebateSplit,
    ReviewState,
    SyncRun,
    UnmatchedOrder,
)
from .sync import sync_lag
from .tasks import refresh_rebate_source_goods, resume_rebate_registrations, sync_rebate_source


def _error_text(exc: DomainError) -> str:
    details = "; ".join(", ".join(v) for v in exc.fields.values() if v)
    return f"{exc.message}（{details}）" if details else str(exc.message)


class SourceForm(forms.ModelForm):
    secret = forms.CharField(
        label=_("密钥"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("只写不读：留空则保持原密钥"),
    )

    class Meta:
        model = RebateSource
        # The network is chosen once; the secret is write-only (below); the rest is the service's list.
        fields = ("network", "secret", *sources.EDITABLE)


@admin.register(RebateSource)
class RebateSourceAdmin(ConsoleAdmin):
    console_group = "rebate"
    form = SourceForm
    list_display = (
        "name",
        "network",
        "enabled",
        "promotion_mode",
        "synced_until",
        "lag",
        "last_run_at",
        "last_error",
        "goods_refreshed_at",
    )
    list_filter = ("network", "enabled")
    readonly_fields = (
        "synced_until",
        "last_run_at",
        "last_success_at",
        "last_error",
        "last_error_at",
        "goods_refreshed_at",
        "goods_error",
    )
    actions = ["sync_now", "refresh_goods_now"]

    @admin.display(description=_("同步延迟"))
    def lag(self, obj: RebateSource) -> str:
        lag = sync_lag(obj)
        return "-" if lag is None else _("%(m)d 分钟") % {"m": int(lag.total_seconds() // 60)}

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return (*self.readonly_fields, "network") if obj else self.readonly_fields

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        data = {k: form.cleaned_data.get(k) for k in form.cleaned_data}
        try:
            if change:
                saved = sources.update_source(request.user, obj.pk, data)  # type: ignore[arg-type]
            else:
                saved = sources.create_source(request.user, data)  # type: ignore[arg-type]
        except DomainError as exc:
            self.message_user(request, _error_text(exc), messages.ERROR)
            return
        obj.pk = saved.pk

    @admin.action(description=_("立即同步"))
    def sync_now(self, request: HttpRequest, queryset: Any) -> None:
        for source in queryset:
            sync_rebate_source(source.pk)
        self.message_user(request, _("已排队同步 %(n)d 个账号") % {"n": queryset.count()}, messages.SUCCESS)

    @admin.action(description=_("刷新商品"))
    def refresh_goods_now(self, request: HttpRequest, queryset: Any) -> None:
        queued = 0
        for source in queryset:
            if source.goods_keywords.strip():
                refresh_rebate_source_goods(source.pk)
                queued += 1
        if queued:
            self.message_user(request, _("已排队刷新 %(n)d 个账号的商品") % {"n": queued}, messages.SUCCESS)
        else:
            self.message_user(request, _("所选账号没有设置选品关键词"), messages.WARNING)


@admin.register(LinkRegistration)
class LinkRegistrationAdmin(OperatorOnly, ConsoleAdmin):
    """Buyers' registrations on Taobao (relation_id) and Pinduoduo (备案): read-only, the job resumes them."""

    console_group = "rebate"
    list_display = ("user", "network", "state", "uid", "external_id", "attempts", "last_error", "updated_at")
    list_filter = ("network", "state")
    search_fields = ("user__phone", "uid", "external_id")
    list_select_related = ("user",)
    exclude = ("session_encrypted",)
    actions = ["retry"]

    @admin.action(description=_("重新备案（修正账号设置后）"))
    def retry(self, request: HttpRequest, queryset: Any) -> None:
        done = registration.retry_failed(request.user, list(queryset.values_list("pk", flat=True)))  # type: ignore[arg-type]
        if done:
            resume_rebate_registrations()
        self.message_user(request, _("已重新提交 %(n)d 个备案") % {"n": done}, messages.SUCCESS)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SyncRun)
class SyncRunAdmin(OperatorOnly, ConsoleAdmin):
    console_group = "rebate"
    list_display = ("started_at", "source", "window_start", "window_end", "windows", "pages", "rows", "error")
    list_filter = ("source",)


@admin.register(RebateGoods)
class RebateGoodsAdmin(OperatorOnly, ConsoleAdmin):
    console_group = "rebate"
    list_display = ("title", "network", "price_yuan", "coupon_yuan", "rate", "coupon_end", "sales", "is_active")
    list_filter = ("network", "is_active", "category")
    search_fields = ("title", "item_id", "shop_name")
    price_yuan = yuan_column("price", _("原价"), "price")
    coupon_yuan = yuan_column("coupon_amount", _("券"), "coupon_amount")

    @admin.display(description=_("佣金比例"), ordering="commission_rate_bp")
    def rate(self, obj: RebateGoods) -> str:
        return f"{obj.commission_rate_bp / 100:.2f}%"


ORDER_COLUMNS = (
    "order_id",
    "network",
    "item_title",
    "status",
    "credit",
    "buyer",
    "estimate_yuan",
    "actual_yuan",
    "buyer_yuan",
    "promoter_yuan",
    "platform_yuan",
    "network_updated_at",
)


class _OrderColumns:
    estimate_yuan = yuan_column("commission_estimate", _("预估佣金"))
    actual_yuan = yuan_column("commission_actual", _("结算佣金"))
    buyer_yuan = yuan_column("buyer_share", _("自购返利"))
    promoter_yuan = yuan_column("promoter_share", _("分享返利"))
    platform_yuan = yuan_column("platform_share", _("平台留存"))


@admin.register(NetworkOrder)
class NetworkOrderAdmin(_OrderColumns, OperatorOnly, ConsoleAdmin):
    console_group = "rebate"
    list_display = ORDER_COLUMNS
    list_filter = ("network", "status", "credit", "review")
    search_fields = ("order_id", "sub_order_id", "tracking_id", "buyer__phone")
    list_select_related = ("buyer",)


class AssignForm(forms.Form):
    phone = forms.CharField(label=_("买家手机号"), max_length=20)


@admin.register(UnmatchedOrder)
class UnmatchedOrderAdmin(_OrderColumns, OperatorOnly, ConsoleAdmin):
    console_group = "rebate"
    list_display = ("order_id", "network", "item_title", "status", "tracking_id", "estimate_yuan", "created_at")
    list_filter = ("network", "status")
    search_fields = ("order_id", "tracking_id")
    actions = ["assign", "dismiss"]

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).filter(review=ReviewState.PENDING)

    @admin.action(description=_("认领给买家（填写手机号）"))
    def assign(self, request: HttpRequest, queryset: Any) -> HttpResponse | None:
        form = AssignForm(request.POST if "phone" in request.POST else None)
        if form.is_valid():
            buyer = User.objects.filter(phone=form.cleaned_data["phone"].strip()).first()
            if buyer is None:
                self.message_user(request, _("找不到该手机号的买家"), messages.ERROR)
                return None
            done = 0
            for order in queryset:
                try:
                    lifecycle.assign_unmatched(request.user, order.pk, buyer)  # type: ignore[arg-type]
                    done += 1
                except DomainError as exc:
                    self.message_user(request, f"{order.order_id}: {_error_text(exc)}", messages.WARNING)
            self.message_user(request, _("已认领 %(n)d 笔订单") % {"n": done}, messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("认领订单"),
            "form": form,
            "orders": queryset,
            "action": "assign",
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/rebate/assign.html", context)

    @admin.action(description=_("忽略"))
    def dismiss(self, request: HttpRequest, queryset: Any) -> None:
        done = 0
        for order in queryset:
            done += lifecycle.dismiss_unmatched(request.user, order.pk)  # type: ignore[arg-type]
        self.message_user(request, _("已忽略 %(n)d 笔订单") % {"n": done}, messages.SUCCESS)


class AppliedFilter(admin.SimpleListFilter):
    title = _("处理状态")
    parameter_name = "applied"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("已扣回")), ("no", _("待处理（订单未到或未入账）"))]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        if self.value() in {"yes", "no"}:
            return queryset.filter(applied_at__isnull=self.value() == "no")
        return queryset


# What the cases' ``raw_status`` means (taobao.tbk.relation.refund refund_status; punish status).
CASE_STATUS = {
    ("refund", "4"): _("维权创建"),
    ("refund", "2"): _("维权成功"),
    ("refund", "3"): _("维权失败"),
    ("refund", "11"): _("多笔维权处理中"),
    ("refund", "12"): _("从推广者扣回中"),
    ("refund", "13"): _("已从推广者扣回"),
    ("refund", "14"): _("从卖家扣回中"),
    ("refund", "15"): _("已从卖家扣回"),
    ("penalty", "0"): _("处罚冻结"),
    ("penalty", "1"): _("处罚解除"),
}


@admin.register(OrderAdjustment)
class OrderAdjustmentAdmin(OperatorOnly, ConsoleAdmin):
    """维权与处罚: every refund case and penalty the network reported, what it took back, and the
    cases still waiting for their order (applied by the next sync once the order is credited)."""

    console_group = "rebate"
    list_display = (
        "reported_at",
        "kind",
        "network_order_id",
        "sub_order_id",
        "case_status",
        "refund_fee_yuan",
        "commission_refund_yuan",
        "applied_yuan",
        "order",
        "applied_at",
    )
    list_filter = ("kind", "network", AppliedFilter)
    search_fields = ("network_order_id", "sub_order_id", "key")
    list_select_related = ("order",)
    refund_fee_yuan = yuan_column("refund_fee", _("维权金额"))
    commission_refund_yuan = yuan_column("commission_refund", _("应退佣金"))
    applied_yuan = yuan_column("applied_amount", _("已扣回佣金"))

    @admin.display(description=_("联盟状态"))
    def case_status(self, obj: OrderAdjustment) -> str:
        meaning = CASE_STATUS.get((obj.kind, obj.raw_status))
        return f"{meaning}（{obj.raw_status}）" if meaning else obj.raw_status

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # written by the report sync only

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OrderAnomaly)
class OrderAnomalyAdmin(OperatorOnly, ConsoleAdmin):
    console_group = "rebate"
    list_display = ("created_at", "order", "kind", "detail")
    list_filter = ("kind",)
    list_select_related = ("order",)


class SplitForm(forms.ModelForm):
    class Meta:
        model = RebateSplit
        fields = ("network", "buyer_bp", "promoter_bp")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (data.get("buyer_bp") or 0) + (data.get("promoter_bp") or 0) > 10000:
            raise forms.ValidationError(_("返佣比例合计不能超过 100%"))
        return data


@admin.register(RebateSplit)
class RebateSplitAdmin(ConsoleAdmin):
    console_group = "rebate"
    form = SplitForm
    list_display = ("network", "buyer_percent", "promoter_percent", "platform_percent", "updated_at")

    @admin.display(description=_("自购"))
    def buyer_percent(self, obj: RebateSplit) -> str:
        return f"{obj.buyer_bp / 100:g}%"

    @admin.display(description=_("分享"))
    def promoter_percent(self, obj: RebateSplit) -> str:
        return f"{obj.promoter_bp / 100:g}%"

    @admin.display(description=_("平台"))
    def platform_percent(self, obj: RebateSplit) -> str:
        return f"{(10000 - obj.buyer_bp - obj.promoter_bp) / 100:g}%"

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        saved = splits.update_split(request.user, obj.network, obj.buyer_bp, obj.promoter_bp)  # type: ignore[arg-type]
        obj.pk = saved.pk


def reconciliation_view(request: HttpRequest) -> HttpResponse:
    all_sources = list(RebateSource.objects.all())
    source = next(
        (s for s in all_sources if str(s.pk) == request.GET.get("source")), all_sources[0] if all_sources else None
    )
    months = reconcile.months(source) if source else []
    month = request.GET.get("month") or (months[0] if months else "")
    result = reconcile.reconcile(source, month) if source and month else None
    context = {
        **admin.site.each_context(request),
        "title": _("返佣对账"),
        "sources": all_sources,
        "source": source,
        "months": months,
        "month": month,
        "result": result,
        "money": {k: yuan(getattr(result, k)) for k in ("network_net", "credited", "platform")} if result else {},
        "differences": [
            {
                **d.__dict__,
                "status_label": OrderStatus(d.status).label,
                **{f"{k}_yuan": yuan(getattr(d, k)) for k in ("network_net", "expected", "credited", "difference")},
            }
            for d in (result.differences if result else [])
        ],
        "lag_minutes": result.lag_seconds // 60 if result and result.lag_seconds is not None else None,
    }
    return TemplateResponse(request, "admin/rebate/reconciliation.html", context)


register_page(
    "rebate/reconciliation/", "rebate_reconciliation", _("返佣对账"), reconciliation_view, allowed=is_operator
)
