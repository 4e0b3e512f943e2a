"""Console for payments, refunds and provider notices (read-only), and the operator's wallet top-up page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Sum
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from jishi.accounts.services import normalise_phone
from jishi.core.admin_views import (
    FormBlock,
    ReadOnlyTabularInline,
    YuanField,
    register_page,
    render_form_page,
    yuan,
    yuan_column,
)
from jishi.core.console import ConsoleAdmin
from jishi.core.dashboard import Card, Figure, Period, register_card
from jishi.core.errors import DomainError, InvalidInput
from jishi.orders.admin import OperatorOnly, add_order_inline, is_operator, payment_method_labels

from . import services
from .models import NoticeLog, Payment, PaymentMethod, Refund, RefundStatus


class OrderPaymentInline(OperatorOnly, ReadOnlyTabularInline):
    model = Payment
    verbose_name = _("支付")
    verbose_name_plural = _("支付")
    fields = ("payment_link", "method", "status", "amount_yuan", "refunded_yuan", "provider_txn_id", "paid_at")
    readonly_fields = fields

    @admin.display(description=_("支付单号"))
    def payment_link(self, payment: Payment) -> str:
        url = reverse("admin:payments_payment_change", args=[payment.pk])
        return format_html('<a href="{}">{}</a>', url, payment.payment_no)

    amount_yuan = yuan_column("amount", _("金额"))

    refunded_yuan = yuan_column("refunded_amount", _("已退"))


add_order_inline(OrderPaymentInline)
payment_method_labels.update(PaymentMethod.choices)


class RefundInline(OperatorOnly, ReadOnlyTabularInline):
    model = Refund
    verbose_name = _("退款")
    verbose_name_plural = _("退款")
    fields = ("refund_no", "amount_yuan", "status", "provider_refund_id", "reason", "created_at", "settled_at")
    readonly_fields = fields

    amount_yuan = yuan_column("amount", _("金额"))


@admin.register(Payment)
class PaymentAdmin(OperatorOnly, ConsoleAdmin):
    console_group = "funds"
    console_icon = "credit_card"
    console_order = 20

    list_display = (
        "payment_no",
        "order_link",
        "method",
        "status",
        "amount_yuan",
        "refunded_yuan",
        "created_at",
        "paid_at",
    )
    list_filter = ("method", "status")
    search_fields = ("payment_no", "order__number", "provider_txn_id")
    list_select_related = ("order",)
    date_hierarchy = "created_at"
    inlines = [RefundInline]
    fields = (
        "payment_no",
        "order_link",
        "buyer_phone",
        "method",
        "status",
        "amount_yuan",
        "refunded_yuan",
        "currency",
        "provider_txn_id",
        "created_at",
        "paid_at",
    )
    readonly_fields = ("order_link", "buyer_phone", "amount_yuan", "refunded_yuan")

    @admin.display(description=_("订单"), ordering="order__number")
    def order_link(self, payment: Payment) -> str:
        url = reverse("admin:orders_order_change", args=[payment.order_id])
        return format_html('<a href="{}">{}</a>', url, payment.order.number)

    @admin.display(description=_("买家手机号"))
    def buyer_phone(self, payment: Payment) -> str:
        return payment.user.phone or payment.user.username

    amount_yuan = yuan_column("amount", _("金额"), ordering="amount")

    refunded_yuan = yuan_column("refunded_amount", _("已退"))


@admin.register(Refund)
class RefundAdmin(OperatorOnly, ConsoleAdmin):
    console_group = "after_sales"
    console_icon = "currency_exchange"
    console_order = 20

    list_display = (
        "refund_no",
        "payment_no",
        "order_number",
        "amount_yuan",
        "status",
        "attempts",
        "reason",
        "created_at",
    )
    list_filter = ("status",)
    search_fields = ("refund_no", "payment__payment_no", "payment__order__number")
    list_select_related = ("payment__order",)
    date_hierarchy = "created_at"
    fields = (
        "refund_no",
        "payment_no",
        "order_number",
        "amount_yuan",
        "status",
        "attempts",
        "last_error",
        "provider_refund_id",
        "reason",
        "created_at",
        "settled_at",
    )
    readonly_fields = fields
    actions = ["retry_failed"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # refunds move only through the refund services

    @admin.action(description=_("重试失败的退款（同一退款单号）"))
    def retry_failed(self, request: HttpRequest, queryset: Any) -> None:
        retried = 0
        for refund in queryset.filter(status=RefundStatus.FAILED):
            try:
                services.retry_refund(request.user, refund.pk)  # type: ignore[arg-type]
                retried += 1
            except Exception as exc:  # the provider refused again or is down: say so, keep going
                self.message_user(request, f"{refund.refund_no}: {exc}", level=messages.ERROR)
        self.message_user(request, _("已重试 %(n)s 笔退款") % {"n": retried})

    @admin.display(description=_("支付单号"), ordering="payment__payment_no")
    def payment_no(self, refund: Refund) -> str:
        url = reverse("admin:payments_payment_change", args=[refund.payment_id])
        return format_html('<a href="{}">{}</a>', url, refund.payment.payment_no)

    @admin.display(description=_("订单号"))
    def order_number(self, refund: Refund) -> str:
        url = reverse("admin:orders_order_change", args=[refund.payment.order_id])
        return format_html('<a href="{}">{}</a>', url, refund.payment.order.number)

    amount_yuan = yuan_column("amount", _("金额"), ordering="amount")


@admin.register(NoticeLog)
class NoticeLogAdmin(OperatorOnly, ConsoleAdmin):
    console_group = "funds"
    console_icon = "notifications"
    console_order = 95

    list_display = ("created_at", "provider", "payment_no", "verified", "outcome")
    list_filter = ("provider", "verified", "outcome")
    search_fields = ("payment_no",)
    date_hierarchy = "created_at"
    fields = ("created_at", "provider", "payment_no", "verified", "outcome", "body")


# --- wallet top-up --------------------------------------------------------------------


class TopUpForm(forms.Form):
    phone = forms.CharField(label=_("手机号"), max_length=20)
    amount = YuanField(label=_("金额（元）"), help_text=_("最多两位小数，例如 50 或 12.50"))
    note = forms.CharField(label=_("备注"), max_length=255, required=False)

    def clean_phone(self) -> str:
        try:
            return normalise_phone(self.cleaned_data["phone"])
        except InvalidInput as exc:
            raise forms.ValidationError(str(exc.message), code="invalid") from exc


def top_up_view(request: HttpRequest) -> HttpResponse:
    """Operator credits a buyer's wallet by phone; the service audits it."""
    form = TopUpForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            balance = services.top_up(request.user, data["phone"], data["amount"], data["note"])  # type: ignore[arg-type]
        except DomainError as exc:
            _attach_error(form, exc)
        else:
            messages.success(
                request,
                _("已为 %(phone)s 充值 %(amount)s，当前余额 %(balance)s")
                % {"phone": data["phone"], "amount": yuan(data["amount"]), "balance": yuan(balance)},
            )
            return HttpResponseRedirect(reverse("admin:wallet_top_up"))
    confirm = _("确认充值？金额将计入买家余额，并记入审计日志。")
    return render_form_page(
        request, title=_("余额充值"), forms=[FormBlock(form=form, submit=_("充值"), confirm=confirm)]
    )


def _attach_error(form: forms.Form, exc: DomainError) -> None:
    """The service's error on the field it names (phone for an unknown buyer), else on the form."""
    field = next((name for name in exc.fields if name in form.fields), None)
    form.add_error(field, str(exc.message))


register_page(
    "wallet/top-up/",
    "wallet_top_up",
    _("余额充值"),
    top_up_view,
    allowed=is_operator,
    group="funds",
    icon="add_card",
    order=5,
)


# --- dashboard ------------------------------------------------------------------------


def _refund_card(start_of: str) -> Callable[[Period], Figure]:
    def compute(period: Period) -> Figure:
        since = getattr(period, start_of)
        agg = Refund.objects.filter(created_at__gte=since).aggregate(total=Sum("amount"), n=Count("id"))
        link = f"{reverse('admin:payments_refund_changelist')}?created_at__gte={since:%Y-%m-%d}"
        return Figure(value=yuan(agg["total"] or 0), note=_("%(n)d 笔") % {"n": agg["n"] or 0}, link=link)

    return compute


register_card(
    Card("today.refunds", _("退款金额"), "today", _refund_card("today_start"), "currency_exchange", 50, is_operator)
)
register_card(
    Card("week.refunds", _("退款金额"), "week", _refund_card("week_start"), "currency_exchange", 50, is_operator)
)
