from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import Address, User, UserRole


class RoleInline(admin.TabularInline):
    model = UserRole
    extra = 0


class AddressInline(admin.StackedInline):
    model = Address
    extra = 0


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("id", "username", "phone", "nickname", "is_active", "date_joined")
    search_fields = ("username", "phone", "nickname")
    inlines = [RoleInline, AddressInline]
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        (_("会员"), {"fields": ("phone", "nickname")}),
    )
