"""Ops console for loyalty: rules, levels, audited points adjustments, the mall, red-packet budgets, liability."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from unfold.widgets import UnfoldAdminTextInputWidget

from jishi.accounts.models import User
from jishi.core.charts import bar_chart
from jishi.core.console import ConsoleAdmin, SettingsAdmin, YuanFormField
from jishi.core.errors import DomainError
from jishi.core.money import format_yuan

from . import levels, red_packets, services
from .conf import loyalty_settings
from .models import (
    LoyaltySettings,
    MallItem,
    MallRedemption,
    Member,
    MemberLevel,
    PointsAdjustment,
    RedPacket,
    RedPacketBudget,
)
from .widgets import TierTableWidget


@admin.register(LoyaltySettings)
class LoyaltySettingsAdmin(SettingsAdmin):
    """One row: the list page opens it directly; saving is audited; the liability report hangs here."""

    console_icon = "loyalty"
    console_order = 30
    percent_fields = ("max_deduction_bp",)

    fieldsets = [
        (
            _("获得积分"),
            {
                "fields": [
                    "points_per_yuan",
                    "first_order_points",
                    "invite_points",
                    "post_points",
                    "review_points",
                    "content_points_daily_limit",
                ]
            },
        ),
        (_("签到"), {"fields": ["sign_in_tiers", "sign_in_reset"]}),
        (_("有效期"), {"fields": ["expiry_mode", "expiry_notice_days"]}),
        (_("积分抵扣"), {"fields": ["redeem_points_per_yuan", "max_deduction_bp"]}),
        (_("红包"), {"fields": ["red_packet_valid_days"]}),
    ]

    def settings_row(self) -> LoyaltySettings:
        return loyalty_settings()

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form_class = super().get_form(request, obj, change, **kwargs)

        class ValidatedSettingsForm(form_class):  # type: ignore[misc, valid-type]
            """The service's checks run in clean(): a refused rule shows on its field, nothing is saved."""

            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **kwargs)
                if "sign_in_tiers" in self.fields:
                    self.fields["sign_in_tiers"].widget = TierTableWidget()

            def clean(self) -> dict[str, Any]:
                data = super().clean() or {}
                if "sign_in_tiers" in self.changed_data and not self.errors:
                    try:
                        data["sign_in_tiers"] = services.validate_tiers(data["sign_in_tiers"])
                    except DomainError as exc:
                        detail = (exc.fields or {}).get("sign_in_tiers") or [exc.message]
                        self.add_error("sign_in_tiers", "；".join(str(d) for d in detail))
                return data

        return ValidatedSettingsForm

    def save_model(self, request: HttpRequest, obj: LoyaltySettings, form: Any, change: bool) -> None:
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        services.update_settings(request.user, changes)

    def get_urls(self) -> list[Any]:
        extra = [
            path(
                "liability/",
                self.admin_site.admin_view(self.liability_view),
                name="loyalty_liability",
            )
        ]
        return extra + super().get_urls()

    def liability_view(self, request: HttpRequest) -> HttpResponse:
        report = services.liability_report()
        chart = bar_chart(
            [(str(b["label"]), b["points"]) for b in report["buckets"]],
            value_label=str(_("未使用积分（按到期时间）")),
        )
        context = {
            **self.admin_site.each_context(request),
            "title": _("积分负债报表"),
            "report": report,
            "value_yuan": format_yuan(report["value"]),
            "chart": chart,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/loyalty/liability.html", context)


@admin.register(MemberLevel)
class MemberLevelAdmin(ConsoleAdmin):
    console_group = "members"
    console_icon = "workspace_premium"
    console_order = 30
    percent_fields = ("discount_bp", "points_multiplier_bp")

    list_display = ("name", "threshold", "discount_bp", "free_shipping", "points_multiplier_bp")
    ordering = ("threshold",)

    def save_model(self, request: HttpRequest, obj: MemberLevel, form: Any, change: bool) -> None:
        data = {name: form.cleaned_data[name] for name in form.fields}
        saved = services.save_level(request.user, data, obj.pk if change else None)
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: MemberLevel) -> None:
        super().delete_model(request, obj)
        levels.resync_all_levels()


@admin.register(Member)
class MemberAdmin(ConsoleAdmin):
    console_group = "members"
    console_icon = "badge"
    console_order = 20

    list_display = ("user", "growth", "level", "points_debt", "created_at")
    list_filter = ("level",)
    search_fields = ("user__phone", "user__nickname")
    readonly_fields = ("user", "growth", "level", "points_debt", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class PointsAdjustmentForm(forms.ModelForm):
    phone = forms.CharField(label=_("会员手机号"), max_length=20, widget=UnfoldAdminTextInputWidget)

    class Meta:
        model = PointsAdjustment
        fields = ["amount", "reason"]

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        if not User.objects.filter(phone=phone).exists():
            raise ValidationError(_("没有这个手机号的会员"))
        return phone

    def clean_amount(self) -> int:
        amount = int(self.cleaned_data["amount"])
        if amount == 0 or abs(amount) > 10_000_000:
            raise ValidationError(_("须为非零且绝对值不超过 10000000"))
        return amount


@admin.register(PointsAdjustment)
class PointsAdjustmentAdmin(ConsoleAdmin):
    """Adding one posts it to the ledger (a deduction cannot overdraw) and writes the audit log."""

    console_group = "members"
    console_icon = "exposure"
    console_order = 40

    form = PointsAdjustmentForm
    list_display = ("created_at", "user", "amount", "reason", "actor", "transaction_id")
    search_fields = ("user__phone", "reason")

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ["phone", "amount", "reason"] if obj is None else ["user", "amount", "reason", "actor", "transaction_id"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [] if obj is None else ["user", "amount", "reason", "actor", "transaction_id"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: PointsAdjustment, form: Any, change: bool) -> None:
        user = User.objects.get(phone=form.cleaned_data["phone"])
        try:
            saved = services.adjust_points(
                request.user, user.pk, form.cleaned_data["amount"], form.cleaned_data["reason"], key=uuid.uuid4().hex
            )
        except DomainError as exc:
            messages.error(request, str(exc.message))
            raise
        obj.pk = saved.pk
        obj.user = user

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> HttpResponse:
        try:
            return super().add_view(request, form_url, extra_context)
        except DomainError:
            return HttpResponseRedirect(request.path)


@admin.register(MallItem)
class MallItemAdmin(ConsoleAdmin):
    console_group = "marketing"
    console_icon = "redeem"
    console_order = 60
    money_fields = ("cash",)

    list_display = ("name", "points", "cash_yuan", "stock", "redeemed", "per_person_limit", "is_active", "sort")
    list_filter = ("is_active",)
    list_editable = ("is_active", "sort")
    raw_id_fields = ("sku",)
    readonly_fields = ("redeemed",)

    @admin.display(description=_("现金"))
    def cash_yuan(self, obj: MallItem) -> str:
        return format_yuan(obj.cash)


@admin.register(MallRedemption)
class MallRedemptionAdmin(ConsoleAdmin):
    console_group = "marketing"
    console_icon = "shopping_bag"
    console_order = 61
    money_fields = ("cash",)

    list_display = ("created_at", "user", "item", "quantity", "points", "cash", "status", "order")
    list_filter = ("status",)
    readonly_fields = ("created_at", "user", "item", "quantity", "points", "cash", "status", "order")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class FundForm(forms.Form):
    amount = YuanFormField(label=_("注资金额"), min_fen=1, max_fen=10**11)
    note = forms.CharField(label=_("备注"), max_length=120, required=False)
    key = forms.CharField(widget=forms.HiddenInput)


@admin.register(RedPacketBudget)
class RedPacketBudgetAdmin(ConsoleAdmin):
    console_group = "funds"
    console_icon = "savings"
    console_order = 40

    list_display = ("code", "name", "funded_yuan", "remaining_yuan", "is_active")
    readonly_fields = ("funded", "remaining")

    @admin.display(description=_("累计注资"))
    def funded_yuan(self, obj: RedPacketBudget) -> str:
        return format_yuan(obj.funded)

    @admin.display(description=_("可用余额"))
    def remaining_yuan(self, obj: RedPacketBudget) -> str:
        return format_yuan(obj.remaining)

    def get_urls(self) -> list[Any]:
        extra = [
            path(
                "<int:budget_id>/fund/",
                self.admin_site.admin_view(self.fund_view),
                name="loyalty_redpacketbudget_fund",
            )
        ]
        return extra + super().get_urls()

    def fund_view(self, request: HttpRequest, budget_id: int) -> HttpResponse:
        budget = RedPacketBudget.objects.filter(pk=budget_id).first()
        if budget is None or not self.has_change_permission(request, budget):
            return HttpResponseRedirect(reverse("admin:loyalty_redpacketbudget_changelist"))
        form = FundForm(request.POST or None, initial={"key": uuid.uuid4().hex})
        if request.method == "POST" and form.is_valid():
            red_packets.fund_budget(
                request.user, budget, form.cleaned_data["amount"], form.cleaned_data["key"], form.cleaned_data["note"]
            )
            messages.success(request, _("已注资 %(amount)s") % {"amount": format_yuan(form.cleaned_data["amount"])})
            return HttpResponseRedirect(reverse("admin:loyalty_redpacketbudget_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": _("为「%(name)s」注资") % {"name": budget.name},
            "form": form,
            "budget": budget,
            "remaining_yuan": format_yuan(budget.remaining),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/loyalty/fund_budget.html", context)


@admin.register(RedPacket)
class RedPacketAdmin(ConsoleAdmin):
    console_group = "marketing"
    console_icon = "card_giftcard"
    console_order = 70
    money_fields = ("amount",)

    list_display = ("granted_at", "user", "budget", "amount", "reason", "status", "expires_at")
    list_filter = ("status", "budget")
    search_fields = ("user__phone", "key", "reason")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in RedPacket._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[RedPacket]:
        return super().get_queryset(request).select_related("user", "budget")
