"""Ops console for distribution: rules, promoters (review, level, freeze), bindings, leaderboard."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from jishi.core.charts import bar_chart
from jishi.core.errors import DomainError
from jishi.core.money import format_yuan

from . import services
from .models import Binding, BindingHistory, CommissionRule, DistributionSettings, Promoter, PromoterLevel


@admin.register(DistributionSettings)
class DistributionSettingsAdmin(admin.ModelAdmin):
    list_display = ("levels", "rates_bp", "freeze_days", "binding", "join", "self_purchase", "withdrawal_min")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not DistributionSettings.objects.exists()

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        try:
            services.update_settings(request.user, {f: getattr(obj, f) for f in services.settings_dict(obj)})  # type: ignore[arg-type]
        except DomainError as exc:
            self.message_user(request, f"{exc.message} {exc.fields}", messages.ERROR)


@admin.register(PromoterLevel)
class PromoterLevelAdmin(admin.ModelAdmin):
    list_display = ("rank", "name", "rates_bp", "min_spend", "min_orders", "min_team", "min_commission", "match_all")


@admin.register(Promoter)
class PromoterAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "code", "status", "level", "applied_at", "approved_at")
    list_filter = ("status", "level")
    search_fields = ("code", "user__phone", "user__nickname")
    readonly_fields = ("user", "code", "status", "applied_at", "approved_at")
    fields = ("user", "code", "status", "level", "note", "applied_at", "approved_at")
    actions = ["approve", "reject", "freeze", "unfreeze"]

    def get_urls(self) -> list[Any]:
        extra = [
            path("leaderboard/", self.admin_site.admin_view(self.leaderboard_view), name="distribution_leaderboard")
        ]
        return extra + super().get_urls()

    def leaderboard_view(self, request: HttpRequest) -> HttpResponse:
        try:
            days = max(0, min(int(request.GET.get("days", "30")), 3650))
        except ValueError:
            days = 30
        rows = services.leaderboard(days, 20)
        for row in rows:
            row["earned_yuan"], row["sales_yuan"] = format_yuan(row["earned"]), format_yuan(row["sales"])
        chart = bar_chart(
            [(r["nickname"] or r["phone"], r["earned"]) for r in rows],
            value_label=str(_("佣金")),
            format_value=format_yuan,
        )
        context = {
            **self.admin_site.each_context(request),
            "rows": rows,
            "chart": chart,
            "days": days,
            "choices": [7, 30, 90, 365],
            "title": _("分销员排行榜"),
        }
        return TemplateResponse(request, "admin/distribution/leaderboard.html", context)

    def _review(self, request: HttpRequest, queryset: Any, action: str) -> None:
        done = 0
        for promoter in queryset:
            try:
                services.review(request.user, promoter.pk, action)  # type: ignore[arg-type]
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{promoter.code}: {exc.message}", messages.WARNING)
        if done:
            self.message_user(request, _("已处理 %(n)d 位分销员") % {"n": done}, messages.SUCCESS)

    @admin.action(description=_("通过申请"))
    def approve(self, request: HttpRequest, queryset: Any) -> None:
        self._review(request, queryset, "approve")

    @admin.action(description=_("拒绝申请"))
    def reject(self, request: HttpRequest, queryset: Any) -> None:
        self._review(request, queryset, "reject")

    @admin.action(description=_("冻结"))
    def freeze(self, request: HttpRequest, queryset: Any) -> None:
        self._review(request, queryset, "freeze")

    @admin.action(description=_("解冻"))
    def unfreeze(self, request: HttpRequest, queryset: Any) -> None:
        self._review(request, queryset, "unfreeze")


@admin.register(Binding)
class BindingAdmin(admin.ModelAdmin):
    list_display = ("buyer", "promoter", "source", "bound_at", "expires_at")
    list_filter = ("source",)
    search_fields = ("buyer__phone", "promoter__phone")
    readonly_fields = ("buyer", "promoter", "source", "bound_at", "expires_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(BindingHistory)
class BindingHistoryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "buyer", "promoter", "source", "action")
    search_fields = ("buyer__phone", "promoter__phone")
    list_filter = ("action", "source")


@admin.register(CommissionRule)
class CommissionRuleAdmin(admin.ModelAdmin):
    list_display = ("id", "product_id", "sku_id", "fixed", "values")
