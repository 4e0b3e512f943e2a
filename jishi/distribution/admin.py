"""Ops console for distribution: rules, promoters (review, level, freeze), bindings, leaderboard."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from unfold.widgets import UnfoldAdminSelectWidget, UnfoldAdminTextInputWidget

from jishi.catalog.models import Product, Sku
from jishi.commission.console import BeneficiaryAdmin, review_action
from jishi.commission.models import CommissionSource
from jishi.core.console import (
    ConsoleAdmin,
    PercentFormField,
    SettingsAdmin,
    YuanFormField,
    bp_text,
    fen_text,
    percent,
)
from jishi.core.errors import DomainError
from jishi.core.money import format_yuan

from . import services
from .models import Binding, BindingHistory, CommissionRule, DistributionSettings, Promoter, PromoterLevel

MULTILEVEL_WARNING = _(
    "法律提示：三级分销在国内存在被认定为传销的风险（《禁止传销条例》按“层级”与“入门费”认定）。"
    "DESIGN 默认 2 级；开启第 3 级前请咨询法务，并确保成为分销员不收取任何费用。"
)


class DistributionSettingsForm(forms.ModelForm):
    acknowledge_multilevel = forms.BooleanField(
        label=_("我已了解三级分销的法律风险"), required=False, help_text=MULTILEVEL_WARNING
    )

    class Meta:
        model = DistributionSettings
        exclude: list[str] = []

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        if data.get("levels") == 3 and not data.get("acknowledge_multilevel"):
            self.add_error("acknowledge_multilevel", _("选择 3 级分销前请确认已了解法律风险"))
            return data
        try:
            services.validate_settings({name: data.get(name) for name in services.settings_dict(self.instance)})
        except DomainError as exc:
            field = next((name for name in exc.fields if name in self.fields), None)
            self.add_error(field, str(exc.message))
        return data


@admin.register(DistributionSettings)
class DistributionSettingsAdmin(SettingsAdmin):
    console_icon = "share"
    console_order = 20
    money_fields = ("join_spend", "withdrawal_min")
    percent_fields = ("withdrawal_fee_bp",)
    percent_list_fields = ("rates_bp",)
    form = DistributionSettingsForm
    fieldsets = (
        (_("分销规则"), {"fields": ("enabled", "levels", "acknowledge_multilevel", "rates_bp", "self_purchase")}),
        (_("绑定关系"), {"fields": ("binding", "binding_days")}),
        (_("成为分销员"), {"fields": ("join", "join_spend")}),
        (_("结算与提现"), {"fields": ("freeze_days", "withdrawal_min", "withdrawal_fee_bp")}),
    )

    def settings_row(self) -> DistributionSettings:
        return services.get_settings(fresh=True)

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "levels" and field is not None:
            field.widget = forms.Select(choices=[(1, _("1 级")), (2, _("2 级（推荐）")), (3, _("3 级"))])
            field.help_text = _("DESIGN 默认 2 级；最多 3 级（法律上限）")
        elif db_field.name == "rates_bp" and field is not None:
            field.help_text = _("按层级依次填写，用逗号分隔，例如 10, 5 表示一级 10%、二级 5%")
        elif db_field.name in ("freeze_days", "binding_days") and field is not None:
            field.help_text = _("单位：天")
        return field

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        row = self.settings_row()
        extra = dict(extra_context or {})
        if row.levels >= 3:
            extra["jishi_warning"] = MULTILEVEL_WARNING
        return super().change_view(request, object_id, form_url, extra)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        data = {f: form.cleaned_data.get(f) for f in services.settings_dict(obj)}
        services.update_settings(request.user, data)  # type: ignore[arg-type]


@admin.register(PromoterLevel)
class PromoterLevelAdmin(ConsoleAdmin):
    console_group = "distribution"
    console_icon = "military_tech"
    console_order = 20
    money_fields = ("min_spend", "min_commission")
    percent_list_fields = ("rates_bp",)

    list_display = ("rank", "name", "rates_bp", "min_spend", "min_orders", "min_team", "min_commission", "match_all")


@admin.register(Promoter)
class PromoterAdmin(BeneficiaryAdmin):
    console_group = "distribution"
    console_icon = "person_pin"
    console_order = 10

    list_display = ("id", "user", "code", "status", "level", "applied_at", "approved_at")
    list_filter = ("status", "level")
    search_fields = ("code", "user__phone", "user__nickname")
    readonly_fields = ("user", "code", "status", "applied_at", "approved_at")
    fields = ("user", "code", "status", "level", "note", "applied_at", "approved_at")
    actions = ["approve", "reject", "freeze", "unfreeze"]

    commission_source = CommissionSource.DISTRIBUTION
    ranking_url_name = "distribution_leaderboard"
    ranking_title = _("分销员排行榜")
    ranking_who = _("分销员")
    review_done = _("已处理 %(n)d 位分销员")

    def review_one(self, request: HttpRequest, obj: Promoter, action: str) -> None:
        services.review(request.user, obj.pk, action)  # type: ignore[arg-type]

    def review_subject(self, obj: Promoter) -> str:
        return obj.code

    approve = review_action("approve", _("通过申请"))
    reject = review_action("reject", _("拒绝申请"))
    freeze = review_action("freeze", _("冻结"))
    unfreeze = review_action("unfreeze", _("解冻"))


@admin.register(Binding)
class BindingAdmin(ConsoleAdmin):
    console_group = "distribution"
    console_icon = "link"
    console_order = 40

    list_display = ("buyer", "promoter", "source", "bound_at", "expires_at")
    list_filter = ("source",)
    search_fields = ("buyer__phone", "promoter__phone")
    readonly_fields = ("buyer", "promoter", "source", "bound_at", "expires_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(BindingHistory)
class BindingHistoryAdmin(ConsoleAdmin):
    console_group = "distribution"
    console_icon = "history"
    console_order = 50

    list_display = ("created_at", "buyer", "promoter", "source", "action")
    search_fields = ("buyer__phone", "promoter__phone")
    list_filter = ("action", "source")


class CommissionRuleForm(forms.ModelForm):
    """A product's (or SKU's) own commission: a % of the paid amount per level, or yuan per unit per level."""

    product = forms.ModelChoiceField(
        label=_("商品"), queryset=Product.objects.order_by("-id"), required=False, widget=UnfoldAdminSelectWidget
    )
    values_text = forms.CharField(
        label=_("各级佣金"),
        help_text=_("按层级用逗号分隔：比例按 % 填（10, 5）；勾选固定金额时按每件元填（5, 2.5）"),
        widget=UnfoldAdminTextInputWidget,
    )

    class Meta:
        model = CommissionRule
        fields = ["product", "sku_id", "fixed", "values_text"]
        labels = {"sku_id": _("SKU 编号（可选）")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        rule = self.instance
        if rule.pk:
            self.initial["product"] = rule.product_id
            self.initial["values_text"] = ", ".join(
                fen_text(int(v)) if rule.fixed else bp_text(int(v)) for v in rule.values or []
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        product, sku_id = data.get("product"), data.get("sku_id")
        if product is None and not sku_id:
            raise forms.ValidationError(_("请选择商品或填写 SKU 编号"))
        text = str(data.get("values_text") or "")
        field: forms.Field = YuanFormField(min_fen=0) if data.get("fixed") else PercentFormField()
        try:
            values = [field.clean(part.strip()) for part in text.replace("，", ",").split(",") if part.strip()]
        except forms.ValidationError as exc:
            self.add_error("values_text", exc)
            return data
        if not 1 <= len(values) <= 3:
            self.add_error("values_text", _("填写 1 到 3 级"))
        data["values"] = values
        return data

    def save(self, commit: bool = True) -> CommissionRule:
        rule = super().save(commit=False)
        product = self.cleaned_data.get("product")
        rule.product_id = product.pk if product else None
        rule.values = self.cleaned_data["values"]
        if commit:
            rule.save()
        return rule


@admin.register(CommissionRule)
class CommissionRuleAdmin(ConsoleAdmin):
    console_group = "distribution"
    console_icon = "rule"
    console_order = 60
    form = CommissionRuleForm
    list_display = ("target", "kind", "values_shown")

    @admin.display(description=_("适用于"))
    def target(self, rule: CommissionRule) -> str:
        if rule.sku_id:
            sku = Sku.objects.select_related("product").filter(pk=rule.sku_id).first()
            return str(sku) if sku else f"SKU {rule.sku_id}"
        product = Product.objects.filter(pk=rule.product_id or 0).only("name").first()
        return product.name if product else "-"

    @admin.display(description=_("方式"))
    def kind(self, rule: CommissionRule) -> Any:
        return _("每件固定金额") if rule.fixed else _("按实付比例")

    @admin.display(description=_("各级佣金"))
    def values_shown(self, rule: CommissionRule) -> str:
        return " / ".join(format_yuan(int(v)) if rule.fixed else percent(int(v)) for v in rule.values or [])
