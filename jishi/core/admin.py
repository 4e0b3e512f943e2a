"""Console views of the ledger, events and the audit trail (read-only: money moves by services)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from . import audit, ledger
from .console import ConsoleReadOnlyInline, ReadOnlyConsoleAdmin
from .models import Account, AuditLog, Entry, OutboxEvent, Transaction, Unit
from .money import format_yuan

ReadOnlyAdmin = ReadOnlyConsoleAdmin


def _amount(value: int, unit: str) -> str:
    return format_yuan(value) if unit == Unit.FEN else f"{value:,} {Unit(unit).label}"


def _owner(account: Account) -> str:
    owner = account.owner
    return "-" if owner is None else (getattr(owner, "phone", None) or owner.get_username())


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    console_group = "funds"
    console_icon = "account_balance"
    console_order = 80

    list_display = ("key_text", "owner_text", "kind", "unit", "current_balance")
    list_filter = ("kind", "unit")
    search_fields = ("key", "owner__phone", "owner__username")
    list_select_related = ("owner",)
    fields = ("key_text", "owner_text", "kind", "unit", "current_balance")
    readonly_fields = fields

    @admin.display(description=_("账户"), ordering="key")
    def key_text(self, obj: Account) -> str:
        return obj.key

    @admin.display(description=_("所属会员"))
    def owner_text(self, obj: Account) -> str:
        return _owner(obj)

    @admin.display(description=_("余额"))
    def current_balance(self, obj: Account) -> str:
        return _amount(ledger.balance(obj), obj.unit)


class EntryInline(ConsoleReadOnlyInline):
    model = Entry
    fields = ("account_key", "amount_text")
    readonly_fields = fields

    @admin.display(description=_("账户"))
    def account_key(self, entry: Entry) -> str:
        return entry.account.key

    @admin.display(description=_("金额"))
    def amount_text(self, entry: Entry) -> str:
        return _amount(entry.amount, entry.account.unit)


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyAdmin):
    console_group = "funds"
    console_icon = "receipt"
    console_order = 90

    list_display = ("id", "kind", "reference", "key", "created_at")
    list_filter = ("kind",)
    search_fields = ("key", "reference")
    inlines = [EntryInline]
    date_hierarchy = "created_at"


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyAdmin):
    console_group = "settings"
    console_icon = "outbox"
    console_order = 200

    list_display = ("id", "name", "key", "created_at", "dispatched_at", "attempts", "dead", "last_error_short")
    list_filter = ("dead", ("dispatched_at", admin.EmptyFieldListFilter), "name")
    search_fields = ("key", "name")
    actions = ["retry"]

    @admin.display(description=_("最近错误"))
    def last_error_short(self, event: OutboxEvent) -> str:
        return event.last_error[:120]

    @admin.action(description=_("重新投递"))
    def retry(self, request: HttpRequest, queryset: Any) -> None:
        # A dead event holds back every later event of its aggregate: retrying lets them go too.
        ids = list(queryset.filter(dispatched_at__isnull=True).values_list("pk", flat=True))
        OutboxEvent.objects.filter(pk__in=ids).update(dead=False, attempts=0)
        audit.record(request.user, "event.retry", "events", ids=ids)


# Human names for the audited actions apps record (the raw code stays beside it for searching).
AUDIT_ACTIONS: dict[str, Any] = {
    "order.ship": _("发货"),
    "after_sale.approve": _("同意售后退款"),
    "after_sale.reject": _("拒绝售后"),
    "wallet.top_up": _("余额充值"),
    "withdrawal.approve": _("提现打款"),
    "withdrawal.reject": _("拒绝提现"),
    "loyalty.points.adjust": _("调整积分"),
    "loyalty.settings": _("修改积分规则"),
    "loyalty.level.save": _("保存会员等级"),
    "distribution.settings": _("修改分销设置"),
    "post.approve": _("笔记通过审核"),
    "post.reject": _("笔记驳回"),
}


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    console_group = "settings"
    console_icon = "policy"
    console_order = 190

    list_display = ("created_at_text", "actor_text", "action_text", "target_text", "data_text")
    list_filter = ("action",)
    search_fields = ("target", "action")
    list_select_related = ("actor",)

    @admin.display(description=_("时间"), ordering="created_at")
    def created_at_text(self, obj: AuditLog) -> Any:
        return obj.created_at

    @admin.display(description=_("操作人"))
    def actor_text(self, obj: AuditLog) -> str:
        return "-" if obj.actor is None else obj.actor.get_username()

    @admin.display(description=_("操作"), ordering="action")
    def action_text(self, obj: AuditLog) -> str:
        label = AUDIT_ACTIONS.get(obj.action)
        return f"{label}（{obj.action}）" if label else obj.action

    @admin.display(description=_("对象"))
    def target_text(self, obj: AuditLog) -> str:
        return obj.target

    @admin.display(description=_("内容"))
    def data_text(self, obj: AuditLog) -> str:
        parts = [f"{k}={v}" for k, v in list((obj.data or {}).items())[:6]]
        return format_html("<code>{}</code>", ", ".join(parts)) if parts else "-"
