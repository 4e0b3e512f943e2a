"""Console pages for member outreach."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import Message


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["title", "member", "category", "is_read", "created_at"]
    list_filter = ["category", "created_at"]
    search_fields = ["title", "user__phone", "user__nickname"]
    readonly_fields = ["user", "category", "title", "body", "link", "key", "read_at", "created_at"]
    list_select_related = ["user"]

    @admin.display(description=_("会员"), ordering="user__phone")
    def member(self, obj: Message) -> str:
        return str(obj.user)

    @admin.display(description=_("已读"), boolean=True)
    def is_read(self, obj: Message) -> bool:
        return obj.read

    def has_add_permission(self, request: object) -> bool:
        return False
