"""The ops console's frame: the admin base classes every app subclasses, yuan and % form fields, the sidebar.

Every ``admin.py`` in Jishi builds on :class:`ConsoleAdmin` (django-unfold's ModelAdmin) and names where its
page sits in the sidebar with ``console_group``; the sidebar is grouped by what an operator does, not by app.
Money is stored in fen and basis points; the console shows and takes yuan and %: list the model fields in
``money_fields`` / ``percent_fields`` and the base class swaps their form fields and list columns.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.templatetags.static import static
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, StackedInline, TabularInline
from unfold.widgets import UnfoldAdminTextInputWidget

from .money import format_yuan

# --- operator groups ------------------------------------------------------------------


@dataclass(frozen=True)
class Group:
    key: str
    title: Any
    icon: str


# The sidebar's order: what an operator does, in the order a day goes.
GROUPS: tuple[Group, ...] = (
    Group("home", _("概览"), "dashboard"),
    Group("catalog", _("商品"), "inventory_2"),
    Group("orders", _("订单"), "receipt_long"),
    Group("after_sales", _("售后"), "assignment_return"),
    Group("marketing", _("营销"), "campaign"),
    Group("distribution", _("分销"), "share"),
    Group("members", _("会员"), "group"),
    Group("content", _("内容"), "article"),
    Group("community", _("社群"), "forum"),
    Group("groupbuy", _("社区团购"), "storefront"),
    Group("retail", _("门店"), "store"),
    Group("rebate", _("导购返利"), "sell"),
    Group("outreach", _("会员触达"), "campaign"),
    Group("funds", _("资金"), "account_balance_wallet"),
    Group("settings", _("设置"), "settings"),
)
GROUP_KEYS = {g.key for g in GROUPS}


@dataclass(frozen=True)
class NavLink:
    """A sidebar entry that is not a model list (a console page, a report)."""

    group: str
    title: Any
    url_name: str
    icon: str = "chevron_right"
    order: int = 100
    allowed: Callable[[Any], bool] = field(default=lambda user: bool(user.is_staff))


_links: list[NavLink] = []


def add_nav_link(link: NavLink) -> None:
    """Put a console page in the sidebar (once per URL name)."""
    if link.group not in GROUP_KEYS:
        raise ValueError(f"unknown console group {link.group!r}")
    if all(existing.url_name != link.url_name for existing in _links):
        _links.append(link)


def _model_entries(request: HttpRequest, site: admin.AdminSite) -> list[tuple[str, int, dict[str, Any]]]:
    entries = []
    for model, model_admin in site._registry.items():
        group = getattr(model_admin, "console_group", "settings")
        if group is None or not model_admin.has_module_permission(request):
            continue
        if not model_admin.has_view_or_change_permission(request):
            continue
        opts = model._meta
        try:
            link = reverse(f"{site.name}:{opts.app_label}_{opts.model_name}_changelist")
        except NoReverseMatch:
            continue
        title = getattr(model_admin, "console_title", None) or opts.verbose_name_plural
        item = {"title": title, "icon": getattr(model_admin, "console_icon", "chevron_right"), "link": link}
        entries.append((group, getattr(model_admin, "console_order", 100), item))
    return entries


def sidebar(request: HttpRequest) -> list[dict[str, Any]]:
    """Unfold's SIDEBAR navigation, built per request from the registered admins and console pages."""
    site = admin.site
    entries = _model_entries(request, site)
    user = request.user
    for link in _links:
        if user.is_authenticated and link.allowed(user):
            item = {"title": link.title, "icon": link.icon, "link": reverse(f"{site.name}:{link.url_name}")}
            entries.append((link.group, link.order, item))
    home = {"title": _("运营概览"), "icon": "dashboard", "link": reverse(f"{site.name}:index")}
    entries.append(("home", 0, home))
    navigation = []
    for group in GROUPS:
        items = [
            item for key, _order, item in sorted(entries, key=lambda e: (e[1], str(e[2]["title"]))) if key == group.key
        ]
        if items:
            navigation.append({"title": group.title, "separator": group.key != "home", "items": items})
    return navigation


def console_styles(request: HttpRequest) -> str:
    return static("jishi/console.css")


def console_scripts(request: HttpRequest) -> str:
    return static("jishi/console.js")


# --- yuan and percent -----------------------------------------------------------------

_PLAIN_DECIMAL = re.compile(r"-?\d+(\.\d+)?")


def fen_text(fen: int | None) -> str:
    """Fen as a person types yuan: ``12.50`` (no sign for zero or positive)."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    fen = abs(int(fen))
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def bp_text(bp: int | None) -> str:
    """Basis points as a percentage without trailing zeros: 1000 → ``10``, 1250 → ``12.5``."""
    if bp is None:
        return ""
    return format(Decimal(int(bp)) / 100, "f").rstrip("0").rstrip(".") if bp % 100 else str(int(bp) // 100)


def percent(bp: int | None) -> str:
    """Basis points shown as a rate: ``10%`` (empty when missing)."""
    return "" if bp is None else f"{bp_text(bp)}%"


def _decimal(text: str, places: int, field: forms.Field) -> Decimal:
    if not _PLAIN_DECIMAL.fullmatch(text):
        raise forms.ValidationError(field.error_messages["invalid"], code="invalid")
    try:
        number = Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits only plain decimals
        raise forms.ValidationError(field.error_messages["invalid"], code="invalid") from exc
    if number != number.quantize(Decimal(1).scaleb(-places)):
        raise forms.ValidationError(field.error_messages["precision"], code="precision")
    return number


class _PrefixedInput(UnfoldAdminTextInputWidget):
    def __init__(self, unit: str, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs={"inputmode": "decimal", "autocomplete": "off", **(attrs or {})})
        self.attrs["data-unit"] = unit


class YuanFormField(forms.CharField):
    """Money typed in yuan (``128``, ``128.5``, ``128.50``) cleaned to integer fen, shown back as yuan."""

    default_error_messages = {
        "invalid": _("请输入金额，例如 128.00"),
        "precision": _("金额最多两位小数"),
        "min_value": _("金额不能小于 %(limit)s"),
        "max_value": _("金额不能大于 %(limit)s"),
    }

    def __init__(self, *, min_fen: int | None = 0, max_fen: int | None = 10**12, **kwargs: Any) -> None:
        kwargs.setdefault("widget", _PrefixedInput("¥"))
        kwargs.pop("max_length", None)
        super().__init__(max_length=16, **kwargs)
        self.min_fen, self.max_fen = min_fen, max_fen

    def prepare_value(self, value: Any) -> Any:
        return fen_text(value) if isinstance(value, int) else value

    def to_python(self, value: Any) -> int | None:  # type: ignore[override]
        text = str(super().to_python(value) or "").strip().replace("¥", "").replace(",", "")
        if not text:
            return None
        fen = int(_decimal(text, 2, self) * 100)
        if self.min_fen is not None and fen < self.min_fen:
            raise forms.ValidationError(
                self.error_messages["min_value"], code="min_value", params={"limit": format_yuan(self.min_fen)}
            )
        if self.max_fen is not None and fen > self.max_fen:
            raise forms.ValidationError(
                self.error_messages["max_value"], code="max_value", params={"limit": format_yuan(self.max_fen)}
            )
        return fen

    def run_validators(self, value: Any) -> None:
        return None  # bounds are checked on the amount in to_python; the cleaned value is an int

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            return self.to_python(data) != initial
        except forms.ValidationError:
            return True


class PercentFormField(forms.CharField):
    """A rate typed in % (``10``, ``12.5``) cleaned to integer basis points, shown back in %."""

    default_error_messages = {
        "invalid": _("请输入百分比，例如 10 或 12.5"),
        "precision": _("百分比最多两位小数"),
        "range": _("须在 %(low)s%% 到 %(high)s%% 之间"),
    }

    def __init__(self, *, min_bp: int = 0, max_bp: int = 10_000, **kwargs: Any) -> None:
        kwargs.setdefault("widget", _PrefixedInput("%"))
        kwargs.pop("max_length", None)
        super().__init__(max_length=8, **kwargs)
        self.min_bp, self.max_bp = min_bp, max_bp

    def prepare_value(self, value: Any) -> Any:
        return bp_text(value) if isinstance(value, int) else value

    def to_python(self, value: Any) -> int | None:  # type: ignore[override]
        text = str(super().to_python(value) or "").strip().rstrip("%").strip()
        if not text:
            return None
        bp = int(_decimal(text, 2, self) * 100)
        if not self.min_bp <= bp <= self.max_bp:
            raise forms.ValidationError(
                self.error_messages["range"],
                code="range",
                params={"low": bp_text(self.min_bp), "high": bp_text(self.max_bp)},
            )
        return bp

    def run_validators(self, value: Any) -> None:
        return None

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            return self.to_python(data) != initial
        except forms.ValidationError:
            return True


class PercentListFormField(forms.CharField):
    """Per-level rates typed as ``10, 5`` (%) cleaned to a list of basis points ``[1000, 500]``."""

    default_error_messages = {
        "invalid": _("请输入各级比例，用逗号分隔，例如 10, 5"),
        "precision": _("百分比最多两位小数"),
        "range": _("每一级须在 0% 到 100% 之间"),
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", _PrefixedInput("%"))
        kwargs.pop("max_length", None)
        kwargs.pop("encoder", None)
        kwargs.pop("decoder", None)
        super().__init__(max_length=80, **kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return ", ".join(bp_text(int(v)) for v in value)
        return value

    def to_python(self, value: Any) -> list[int]:  # type: ignore[override]
        if isinstance(value, list):
            return [int(v) for v in value]
        text = str(super().to_python(value) or "").replace("，", ",").replace("%", "")
        parts = [p.strip() for p in text.split(",") if p.strip()]
        rates = [int(_decimal(p, 2, self) * 100) for p in parts]
        if any(not 0 <= r <= 10_000 for r in rates):
            raise forms.ValidationError(self.error_messages["range"], code="range")
        return rates

    def run_validators(self, value: Any) -> None:
        return None

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            return self.to_python(data) != list(initial or [])
        except forms.ValidationError:
            return True


# --- admin base classes ---------------------------------------------------------------


def _reformat(text: Any, render: Callable[[int], str]) -> Any:
    """A read-only integer as Django rendered it (``12800``, ``-500``), shown with ``render``; else unchanged."""
    raw = str(text).replace(",", "").replace("\u00a0", "").replace(" ", "").strip()
    if re.fullmatch(r"-?\d+", raw):
        return render(int(raw))
    return text


def _display_column(name: str, label: Any, render: Callable[[Any], str], ordering: str | None) -> Callable[..., str]:
    def show(obj: Any) -> str:
        return render(getattr(obj, name))

    show.short_description = label  # type: ignore[attr-defined]
    show.__name__ = name
    if ordering:
        show.admin_order_field = ordering  # type: ignore[attr-defined]
    return show


class ConsoleFieldsMixin:
    """Money (fen) and rates (basis points) typed in yuan and %; shown as ``¥12.50`` and ``10%`` in lists.

    ``money_fields``: integer fen model fields; ``percent_fields``: integer basis points;
    ``percent_list_fields``: JSON lists of basis points (one per level).
    """

    money_fields: Sequence[str] = ()
    percent_fields: Sequence[str] = ()
    percent_list_fields: Sequence[str] = ()
    model: Any

    def formfield_for_dbfield(self, db_field: models.Field, request: HttpRequest, **kwargs: Any) -> Any:
        name = db_field.name
        common: dict[str, Any] = {
            "label": field_label(self.model, name) or db_field.verbose_name,
            "required": not db_field.blank,
            "help_text": db_field.help_text,
        }
        if name in self.money_fields:
            low = 0
            return YuanFormField(min_fen=low, **common)
        if name in self.percent_fields:
            # The model's help text explains basis points ("500 = 5%"); here the operator types %.
            return PercentFormField(**{**common, "help_text": _("按百分比填写，例如 5 表示 5%")})
        if name in self.percent_list_fields:
            return PercentListFormField(**{**common, "required": False})
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)  # type: ignore[misc]
        if formfield is not None and _auto_label(db_field) and name in FIELD_LABELS:
            formfield.label = FIELD_LABELS[name]
        return formfield

    @property
    def readonly_preprocess_fields(self) -> dict[str, Callable[[Any], Any]]:
        """Unfold's hook for read-only values: money fields read as yuan, rates as %, in detail pages too."""
        hooks: dict[str, Callable[[Any], Any]] = {}
        for name in self.money_fields:
            hooks[name] = lambda text: _reformat(text, format_yuan)
        for name in self.percent_fields:
            hooks[name] = lambda text: _reformat(text, percent)
        return hooks

    def _label(self, name: str) -> Any:
        return field_label(self.model, name) or name

    def _shown(self, name: Any) -> Any:
        if not isinstance(name, str):
            return name
        if name in self.money_fields:
            label = self._label(name)
            return _display_column(name, label, lambda v: "" if v is None else format_yuan(v), name)
        if name in self.percent_fields:
            label = self._label(name)
            return _display_column(name, label, percent, name)
        if name in self.percent_list_fields:
            label = self._label(name)
            return _display_column(name, label, lambda v: " / ".join(percent(int(x)) for x in v or []), None)
        return self._glossary_column(name)

    def _glossary_column(self, name: str) -> Any:
        """A plain model field without a verbose name gets the glossary's label (same value and ordering)."""
        try:
            field = self.model._meta.get_field(name)
        except FieldDoesNotExist:  # a method or annotation name: shown as it is declared
            return name
        if not (_auto_label(field) and name in FIELD_LABELS) or getattr(field, "many_to_many", False):
            return name
        label = FIELD_LABELS[name]

        def show(obj: Any) -> Any:
            display = getattr(obj, f"get_{name}_display", None)
            value = display() if callable(display) else getattr(obj, name)
            if isinstance(value, bool):
                return _("是") if value else _("否")
            return "-" if value is None or value == "" else value

        show.short_description = label  # type: ignore[attr-defined]
        show.__name__ = name
        show.admin_order_field = name  # type: ignore[attr-defined]
        return show

    def get_list_display(self, request: HttpRequest) -> Any:
        # Editable and link columns must stay field names: Django matches them by name.
        keep = {*getattr(self, "list_editable", ()), *(getattr(self, "list_display_links", None) or ())}
        shown = super().get_list_display(request)  # type: ignore[misc]
        return [name if name in keep else self._shown(name) for name in shown]


# Labels for model fields declared without a verbose name (shown instead of "Created at", "User", …).
FIELD_LABELS: dict[str, Any] = {
    "id": _("编号"),
    "user": _("会员"),
    "buyer": _("买家"),
    "promoter": _("分销员"),
    "beneficiary": _("受益人"),
    "creator": _("创作者"),
    "author": _("作者"),
    "actor": _("操作人"),
    "owner": _("所属会员"),
    "helper": _("助力人"),
    "leader": _("团长"),
    "parent": _("上级"),
    "category": _("类目"),
    "product": _("商品"),
    "sku": _("SKU"),
    "post": _("笔记"),
    "rule": _("规则"),
    "item": _("商品"),
    "budget": _("预算"),
    "campaign": _("活动"),
    "session": _("场次"),
    "template": _("券模板"),
    "order": _("订单"),
    "order_id": _("订单"),
    "order_number": _("订单号"),
    "number": _("单号"),
    "product_id": _("商品"),
    "sku_id": _("SKU"),
    "location": _("库位"),
    "level": _("层级"),
    "source": _("来源"),
    "status": _("状态"),
    "kind": _("类型"),
    "unit": _("单位"),
    "action": _("操作"),
    "reason": _("原因"),
    "reference": _("关联单号"),
    "key": _("幂等键"),
    "name": _("名称"),
    "code": _("代码"),
    "day": _("日期"),
    "quantity": _("数量"),
    "points": _("积分"),
    "interactions": _("互动数"),
    "grants": _("发放次数"),
    "attempts": _("重试次数"),
    "dead": _("已放弃"),
    "created_at": _("创建时间"),
    "updated_at": _("更新时间"),
    "dispatched_at": _("投递时间"),
    "granted_at": _("发放时间"),
    "expires_at": _("到期时间"),
    "unfreeze_at": _("解冻时间"),
    "reject_reason": _("拒绝原因"),
    "sold_out_at": _("售罄时间"),
    "bound_at": _("绑定时间"),
    "joined_at": _("加入时间"),
    "paid_at": _("付款时间"),
    "claimed_at": _("领取时间"),
    "applied_at": _("申请时间"),
    "approved_at": _("通过时间"),
    "reviewed_at": _("审核时间"),
    "reviewed_by": _("审核人"),
    "valid_until": _("有效期至"),
    "is_leader": _("团长"),
    "is_default": _("默认"),
    "is_active": _("启用"),
    "sort": _("排序"),
    "note": _("备注"),
    "channel": _("渠道"),
    "account": _("账户"),
    "payment_no": _("支付单号"),
    "refund_no": _("退款单号"),
    "provider": _("支付渠道"),
    "provider_txn_id": _("渠道交易号"),
    "provider_refund_id": _("渠道退款号"),
    "verified": _("验签通过"),
    "outcome": _("处理结果"),
    "body": _("内容"),
    "currency": _("币种"),
    "method": _("支付方式"),
    "rank": _("等级"),
    "match_all": _("需全部满足"),
    "fixed": _("固定金额"),
    "values": _("各级数值"),
    "flagged_words": _("命中敏感词"),
    "target": _("对象"),
    "data": _("内容"),
}


def _auto_label(field: Any) -> bool:
    label = str(getattr(field, "verbose_name", ""))
    return label == field.name.replace("_", " ") or (field.name == "id" and label == "ID")


def field_label(model: type[models.Model], name: str) -> Any:
    """A model field's label: its verbose name, or the console's glossary when it was declared without one."""
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:  # a method or annotation: the caller keeps its own label
        return None
    if _auto_label(field) and name in FIELD_LABELS:
        return FIELD_LABELS[name]
    return _unit_free(getattr(field, "verbose_name", name))


_UNIT_SUFFIX = re.compile(r"[（(](分|基点|bp|‱)[）)]$")


def _unit_free(label: Any) -> Any:
    """``价格（分）`` → ``价格``: the console shows yuan and %, so the storage unit leaves the label."""
    text = str(label)
    stripped = _UNIT_SUFFIX.sub("", text)
    return stripped if stripped != text else label


class ConsoleAdmin(ConsoleFieldsMixin, ModelAdmin):
    """Base of every console page for a model. Set ``console_group`` (a key of ``GROUPS``), ``console_icon``
    (a Material Symbols name) and ``console_order`` to place it in the sidebar; ``console_group = None``
    keeps it out of the sidebar (reached from other pages)."""

    console_group: str | None = "settings"
    console_icon: str = "chevron_right"
    console_order: int = 100
    console_title: Any = None
    compressed_fields = True
    warn_unsaved_form = True
    list_filter_submit = True
    list_per_page = 50


class ConsoleTabularInline(ConsoleFieldsMixin, TabularInline):
    extra = 0
    tab = False


class ConsoleStackedInline(ConsoleFieldsMixin, StackedInline):
    extra = 0


class ConsoleReadOnlyInline(ConsoleTabularInline):
    """A read-only table of child rows (no add, change or delete)."""

    max_num = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyConsoleAdmin(ConsoleAdmin):
    """A list and detail nobody edits here: the rows are written by services."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class SettingsAdmin(ConsoleAdmin):
    """One row per shop: the sidebar opens the row itself as a settings page; it cannot be added or deleted.

    ``settings_row()`` is the first row, created with the model's defaults; apps with their own getter
    (which also caches) override it.
    """

    console_group = "settings"
    console_icon = "tune"

    def settings_row(self) -> models.Model:
        row = self.model._default_manager.order_by("pk").first()
        return row if row is not None else self.model._default_manager.create()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        return {}

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        row = self.settings_row()
        opts = self.model._meta
        return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[row.pk]))

    def response_change(self, request: HttpRequest, obj: Any) -> HttpResponse:
        # "Save" stays on the settings page: there is no list to go back to.
        response = super().response_change(request, obj)
        if "_continue" not in request.POST and "_addanother" not in request.POST:
            return HttpResponseRedirect(request.path)
        return response


def choice_label(choices: Iterable[tuple[Any, Any]], value: Any) -> Any:
    """The human label of an enum value (``wallet`` → 余额支付); the value itself when unknown."""
    return dict(choices).get(value, value or "-")
