"""Ops console for commission records and withdrawal review."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Count, Sum
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from jishi.core.console import ConsoleAdmin
from jishi.core.dashboard import Card, Figure, Period, register_card
from jishi.core.errors import DomainError
from jishi.core.money import format_yuan

from . import services
from .models import Commission, Withdrawal, WithdrawalStatus


@admin.register(Commission)
class CommissionAdmin(ConsoleAdmin):
    console_group = "distribution"
    console_icon = "paid"
    console_order = 30
    money_fields = ("base_amount", "amount", "reversed_amount")
    percent_fields = ("rate_bp",)

    list_display = (
        "id",
        "source",
        "beneficiary",
        "order_number",
        "level",
        "base_amount",
        "amount",
        "reversed_amount",
        "status",
        "created_at",
        "unfreeze_at",
    )
    list_filter = ("source", "status", "level")
    search_fields = ("order_number", "beneficiary__phone")
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Withdrawal)
class WithdrawalAdmin(ConsoleAdmin):
    console_group = "funds"
    console_icon = "payments"
    console_order = 10
    money_fields = ("amount", "fee", "net")

    list_display = ("id", "user", "amount", "fee", "net", "channel", "account", "status", "created_at", "reference")
    list_filter = ("status", "channel")
    search_fields = ("user__phone", "reference")
    readonly_fields = (
        "user",
        "amount",
        "fee",
        "net",
        "channel",
        "account",
        "status",
        "reviewed_by",
        "reviewed_at",
        "created_at",
        "reject_reason",
    )
    fields = (*readonly_fields, "reference")
    actions = ["approve_to_wallet", "reject"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Withdrawal, form: Any, change: bool) -> None:
        """Saving a pending external withdrawal with a reference pays it out."""
        if obj.status != WithdrawalStatus.PENDING:
            return
        try:
            services.approve_withdrawal(request.user, obj.pk, obj.reference)  # type: ignore[arg-type]
            self.message_user(request, _("已打款"), messages.SUCCESS)
        except DomainError as exc:
            self.message_user(request, str(exc.message), messages.ERROR)

    def _confirm(self, request: HttpRequest, queryset: Any, action: str, title: Any, warning: Any) -> HttpResponse:
        """The money action's confirmation page: the same POST again with ``confirm=yes`` carries it out."""
        rows = list(queryset.filter(status=WithdrawalStatus.PENDING).select_related("user"))
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "warning": warning,
            "rows": [(w, format_yuan(w.amount), format_yuan(w.net)) for w in rows],
            "total": format_yuan(sum(w.amount for w in rows)),
            "action": action,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/commission/withdrawal/confirm.html", context)

    @admin.action(description=_("通过（打款到余额）"))
    def approve_to_wallet(self, request: HttpRequest, queryset: Any) -> HttpResponse | None:
        if request.POST.get("confirm") != "yes":
            return self._confirm(
                request,
                queryset,
                "approve_to_wallet",
                _("确认打款到余额"),
                _("以下提现将打入会员余额，操作记入审计日志。"),
            )
        done = 0
        for w in queryset.filter(status=WithdrawalStatus.PENDING):
            try:
                services.approve_withdrawal(request.user, w.pk, "")  # type: ignore[arg-type]
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{w}: {exc.message}", messages.WARNING)
        if done:
            self.message_user(request, _("已打款 %(n)d 笔") % {"n": done}, messages.SUCCESS)
        return None

    @admin.action(description=_("拒绝并退回佣金"))
    def reject(self, request: HttpRequest, queryset: Any) -> HttpResponse | None:
        if request.POST.get("confirm") != "yes":
            return self._confirm(
                request, queryset, "reject", _("确认拒绝提现"), _("以下提现将被拒绝，金额退回分销员的可提现佣金。")
            )
        for w in queryset.filter(status=WithdrawalStatus.PENDING):
            services.reject_withdrawal(request.user, w.pk, str(_("运营拒绝")))  # type: ignore[arg-type]
        return None


def _pending_withdrawals(period: Period) -> Figure:
    agg = Withdrawal.objects.filter(status=WithdrawalStatus.PENDING).aggregate(n=Count("id"), total=Sum("amount"))
    url = f"{reverse('admin:commission_withdrawal_changelist')}?status__exact={WithdrawalStatus.PENDING}"
    n = agg["n"] or 0
    return Figure(value=f"{n:,}", note=format_yuan(agg["total"] or 0), link=url, alert=n > 0)


register_card(
    Card(
        "todo.withdrawals",
        _("待审核提现"),
        "todo",
        _pending_withdrawals,
        "payments",
        30,
        lambda user: user.has_perm("commission.change_withdrawal"),
    )
)
