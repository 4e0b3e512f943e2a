"""Console views of the ledger, events and the audit trail (read-only: money moves by services)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from . import ledger
from .models import Account, AuditLog, Entry, OutboxEvent, Transaction


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ("key", "owner", "kind", "unit", "current_balance")

    @admin.display(description=_("余额"))
    def current_balance(self, obj: Account) -> int:
        return ledger.balance(obj)

    list_filter = ("kind", "unit")
    search_fields = ("key", "owner__phone", "owner__username")


class EntryInline(admin.TabularInline):
    model = Entry
    extra = 0
    can_delete = False
    readonly_fields = ("account", "amount")


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "reference", "key", "created_at")
    list_filter = ("kind",)
    search_fields = ("key", "reference")
    inlines = [EntryInline]
    date_hierarchy = "created_at"


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyAdmin):
    list_display = ("id", "name", "created_at", "dispatched_at", "attempts", "dead")
    list_filter = ("name", "dead", ("dispatched_at", admin.EmptyFieldListFilter))
    actions = ["retry"]

    @admin.action(description=_("重新投递"))
    def retry(self, request: HttpRequest, queryset: Any) -> None:
        queryset.update(dead=False, attempts=0)


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "actor", "action", "target")
    list_filter = ("action",)
    search_fields = ("target",)
