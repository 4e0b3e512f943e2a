from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from jishi.core.console import ConsoleAdmin, ConsoleTabularInline

from . import search
from .models import Category, Product, ProductImage, Sku


@admin.register(Category)
class CategoryAdmin(ConsoleAdmin):
    console_group = "catalog"
    console_icon = "category"
    console_order = 20

    list_display = ("id", "name", "parent", "sort", "is_active")
    list_filter = ("is_active", "parent")
    search_fields = ("name",)


class SkuInline(ConsoleTabularInline):
    model = Sku
    extra = 0
    fields = ("specs", "price", "original_price", "weight_g", "barcode", "is_active")


class ImageInline(ConsoleTabularInline):
    model = ProductImage
    extra = 0


@admin.register(Product)
class ProductAdmin(ConsoleAdmin):
    list_display = ("id", "name", "category", "price", "status", "sales")
    list_filter = ("status", "category")
    search_fields = ("name", "subtitle")
    inlines = [SkuInline, ImageInline]
    actions = ["publish", "unpublish"]

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        from .services import refresh_price

        refresh_price(form.instance)
        search.reindex(form.instance)

    @admin.action(description=_("上架"))
    def publish(self, request: HttpRequest, queryset: Any) -> None:
        queryset.update(status="published")

    @admin.action(description=_("下架"))
    def unpublish(self, request: HttpRequest, queryset: Any) -> None:
        queryset.update(status="unpublished")
