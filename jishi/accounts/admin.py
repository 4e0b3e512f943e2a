"""Console for member accounts: profile, roles and addresses."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from jishi.core.console import ConsoleAdmin, ConsoleStackedInline, ConsoleTabularInline

from .models import Address, User, UserRole


class RoleInline(ConsoleTabularInline):
    model = UserRole
    extra = 0


class AddressInline(ConsoleStackedInline):
    model = Address
    extra = 0


@admin.register(User)
class UserAdmin(BaseUserAdmin, ConsoleAdmin):
    console_group = "members"
    console_icon = "person"
    console_order = 10
    console_title = _("会员账号")

    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm
    list_display = ("username", "phone", "nickname", "is_staff", "is_active", "date_joined")
    list_filter = ("is_staff", "is_active")
    search_fields = ("username", "phone", "nickname")
    inlines = [RoleInline, AddressInline]
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        (_("会员"), {"fields": ("phone", "nickname")}),
    )


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(BaseGroupAdmin, ConsoleAdmin):
    console_group = "settings"
    console_icon = "admin_panel_settings"
    console_order = 180
    console_title = _("权限组")
