"""Console for the catalogue: categories and the product editor (specs → SKU matrix, images, rich detail)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from unfold.contrib.forms.widgets import WysiwygWidget

from jishi.core.console import ConsoleAdmin, YuanFormField, fen_text
from jishi.core.errors import DomainError
from jishi.core.money import format_yuan

from . import search, services
from .models import Category, Product, ProductStatus


@admin.register(Category)
class CategoryAdmin(ConsoleAdmin):
    console_group = "catalog"
    console_icon = "category"
    console_order = 20

    list_display = ("id", "name", "parent", "sort", "is_active")
    list_filter = ("is_active", "parent")
    search_fields = ("name",)


@dataclass
class StockHooks:
    """How the product editor reads and sets stock: inventory (a higher layer) fills these in."""

    read: Callable[[list[int]], dict[int, int]] | None = None
    write: Callable[[int, int], None] | None = None


stock_hooks = StockHooks()


class ProductEditorForm(forms.Form):
    name = forms.CharField(label=_("商品名称"), max_length=120)
    subtitle = forms.CharField(label=_("副标题"), max_length=200, required=False)
    category = forms.ModelChoiceField(label=_("类目"), queryset=Category.objects.filter(is_active=True))
    sort = forms.IntegerField(label=_("排序"), initial=0, min_value=-100_000, max_value=100_000, required=False)
    status = forms.ChoiceField(label=_("状态"), choices=ProductStatus.choices, initial=ProductStatus.DRAFT)
    description = forms.CharField(label=_("商品详情"), required=False, widget=WysiwygWidget)
    specs_json = forms.CharField(widget=forms.HiddenInput, required=False)
    skus_json = forms.CharField(widget=forms.HiddenInput, required=False)
    image_order = forms.CharField(widget=forms.HiddenInput, required=False)
    remove_images = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean_description(self) -> str:
        return services.sanitise_description(self.cleaned_data.get("description") or "")

    def clean_specs_json(self) -> list[dict[str, Any]]:
        specs = _json_list(self.cleaned_data.get("specs_json"), _("规格格式不正确"))
        if len(specs) > 3:
            raise forms.ValidationError(_("最多 3 个规格"))
        return [
            {"name": str(s.get("name", "")).strip(), "values": [str(v).strip() for v in s.get("values") or []]}
            for s in specs
            if isinstance(s, dict)
        ]

    def clean_skus_json(self) -> list[dict[str, Any]]:
        rows = _json_list(self.cleaned_data.get("skus_json"), _("SKU 格式不正确"))
        if not rows:
            raise forms.ValidationError(_("请至少填写一个 SKU 的价格"))
        money = YuanFormField(min_fen=0, required=False)
        clean = []
        for number, row in enumerate(rows, start=1):
            if not isinstance(row, dict):
                raise forms.ValidationError(_("SKU 格式不正确"))
            try:
                price = money.clean(row.get("price"))
                original = money.clean(row.get("original_price") or None)
            except forms.ValidationError as exc:
                raise forms.ValidationError(
                    _("第 %(n)d 行：%(e)s") % {"n": number, "e": " ".join(exc.messages)}
                ) from exc
            if price is None:
                raise forms.ValidationError(_("第 %(n)d 行：请填写价格") % {"n": number})
            stock = _bounded_int(row.get("stock"), number, _("库存"), 10_000_000)
            weight = _bounded_int(row.get("weight_g"), number, _("重量"), 1_000_000)
            barcode = str(row.get("barcode") or "").strip()
            if len(barcode) > 64:
                raise forms.ValidationError(_("第 %(n)d 行：条码过长") % {"n": number})
            clean.append(
                {
                    "specs": {str(k): str(v) for k, v in (row.get("specs") or {}).items()},
                    "price": price,
                    "original_price": original or 0,
                    "stock": stock,
                    "weight_g": weight or 0,
                    "barcode": barcode,
                }
            )
        return clean

    def clean_image_order(self) -> list[int]:
        return _id_list(self.cleaned_data.get("image_order"))

    def clean_remove_images(self) -> list[int]:
        return _id_list(self.cleaned_data.get("remove_images"))


def _json_list(text: str | None, message: Any) -> list[Any]:
    if not text:
        return []
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise forms.ValidationError(message) from exc
    if not isinstance(value, list) or len(value) > services.MAX_SKUS_PER_PRODUCT:
        raise forms.ValidationError(message)
    return value


def _bounded_int(value: Any, row: int, label: Any, limit: int) -> int | None:
    text = str(value if value is not None else "").strip()
    if not text:
        return None
    if not text.isdigit() or int(text) > limit:
        raise forms.ValidationError(
            _("第 %(n)d 行：%(label)s须为 0 到 %(limit)d 的整数") % {"n": row, "label": label, "limit": limit}
        )
    return int(text)


def _id_list(text: str | None) -> list[int]:
    return [int(part) for part in (text or "").split(",") if part.strip().isdigit()][:200]


class StockFilter(admin.SimpleListFilter):
    title = _("上架状态")
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return list(ProductStatus.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet[Product]) -> QuerySet[Product]:
        return queryset.filter(status=self.value()) if self.value() else queryset


@admin.register(Product)
class ProductAdmin(ConsoleAdmin):
    console_group = "catalog"
    console_icon = "inventory_2"
    console_order = 10
    money_fields = ("price",)
    list_display = (
        "cover",
        "name",
        "category_name",
        "price",
        "skus_count",
        "stock_total",
        "status_badge",
        "sales",
        "sort",
    )
    list_display_links = ("cover", "name")
    list_filter = (StockFilter, "category")
    search_fields = ("name", "subtitle")
    list_select_related = ("category",)
    actions = ["publish", "unpublish", "copy"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Product]:
        return super().get_queryset(request).prefetch_related("images", "skus")

    @admin.display(description=_("图片"))
    def cover(self, product: Product) -> str:
        images = list(product.images.all())
        if not images:
            return format_html('<span class="jishi-thumb" style="display:inline-block;background:#f3f4f6"></span>')
        return format_html('<img class="jishi-thumb" src="{}" alt="">', images[0].image.url)

    @admin.display(description=_("类目"), ordering="category__name")
    def category_name(self, product: Product) -> str:
        return product.category.name

    @admin.display(description=_("SKU 数"))
    def skus_count(self, product: Product) -> int:
        return sum(1 for sku in product.skus.all() if sku.is_active)

    @admin.display(description=_("库存"))
    def stock_total(self, product: Product) -> Any:
        if stock_hooks.read is None:
            return "-"
        stock = stock_hooks.read([sku.pk for sku in product.skus.all() if sku.is_active])
        return sum(stock.values())

    @admin.display(description=_("状态"), ordering="status")
    def status_badge(self, product: Product) -> str:
        return format_html('<span class="jishi-status is-{}">{}</span>', product.status, product.get_status_display())

    # --- editor -------------------------------------------------------------------------

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        return self._editor(request, None)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        product = Product.objects.filter(pk=object_id).first() if object_id.isdigit() else None
        if product is None:
            return HttpResponseRedirect(reverse("admin:catalog_product_changelist"))
        if not self.has_change_permission(request, product):
            raise PermissionDenied
        return self._editor(request, product)

    def _initial(self, product: Product | None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        if product is None:
            return {"status": ProductStatus.DRAFT, "sort": 0, "specs_json": "[]", "skus_json": "[]"}, []
        skus = [sku for sku in product.skus.all() if sku.is_active]
        stock = stock_hooks.read([sku.pk for sku in skus]) if stock_hooks.read else {}
        rows = [
            {
                "specs": sku.specs,
                "price": fen_text(sku.price),
                "original_price": fen_text(sku.original_price) if sku.original_price else "",
                "stock": stock.get(sku.pk, 0),
                "weight_g": sku.weight_g or "",
                "barcode": sku.barcode or "",
            }
            for sku in skus
        ]
        initial = {
            "name": product.name,
            "subtitle": product.subtitle,
            "category": product.category_id,
            "sort": product.sort,
            "status": product.status,
            "description": product.description,
            "specs_json": json.dumps(product.specs, ensure_ascii=False),
            "skus_json": json.dumps(rows, ensure_ascii=False),
        }
        images = [{"id": image.pk, "url": image.image.url} for image in product.images.all()]
        return initial, images

    def _editor(self, request: HttpRequest, product: Product | None) -> HttpResponse:
        initial, images = self._initial(product)
        form = ProductEditorForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                saved = self._save(request, product, form.cleaned_data)
            except DomainError as exc:
                form.add_error(None, _error_text(exc))
            else:
                verb = _("已保存商品「%(name)s」") if product else _("已创建商品「%(name)s」")
                self.message_user(request, verb % {"name": saved.name}, messages.SUCCESS)
                if "_continue" in request.POST or product is None:
                    return HttpResponseRedirect(reverse("admin:catalog_product_change", args=[saved.pk]))
                return HttpResponseRedirect(reverse("admin:catalog_product_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": _("编辑商品") if product else _("新建商品"),
            "form": form,
            "product": product,
            "price_yuan": format_yuan(product.price) if product else "",
            "images": images,
            "has_stock": stock_hooks.write is not None,
            "opts": self.model._meta,
            "media": self.media + form.media,
            "storefront_url": reverse("storefront:product", args=[product.pk]) if product else "",
            "list_url": reverse("admin:catalog_product_changelist"),
            "copy_url": reverse("admin:catalog_product_copy", args=[product.pk]) if product else "",
        }
        return TemplateResponse(request, "admin/catalog/product/editor.html", context)

    def _save(self, request: HttpRequest, product: Product | None, data: dict[str, Any]) -> Product:
        basics = {
            "name": data["name"],
            "subtitle": data["subtitle"],
            "category_id": data["category"].pk,
            "description": data["description"],
            "sort": data["sort"] or 0,
        }
        rows = [{k: v for k, v in row.items() if k != "stock"} for row in data["skus_json"]]
        with transaction.atomic():
            if product is None:
                product = services.create_product({**basics, "specs": data["specs_json"], "skus": rows})
            else:
                product = services.update_product(product.pk, basics)
                services.save_sku_matrix(product.pk, data["specs_json"], rows)
            if stock_hooks.write is not None:
                by_key = {services.spec_key(sku.specs): sku.pk for sku in product.skus.filter(is_active=True)}
                for row in data["skus_json"]:
                    if row["stock"] is not None:
                        stock_hooks.write(by_key[services.spec_key(row["specs"])], row["stock"])
        services.remove_images(product.pk, data["remove_images"])
        uploads = request.FILES.getlist("images")[:20]
        start = product.images.count()
        added = [services.add_image(product.pk, upload.read(), sort=start + i).pk for i, upload in enumerate(uploads)]
        order = [i for i in data["image_order"] if i not in data["remove_images"]]
        services.reorder_images(product.pk, [*order, *added])
        if data["status"] != product.status:
            services.set_status(product.pk, data["status"])
        search.reindex(product)
        product.refresh_from_db()
        return product

    def get_urls(self) -> list[Any]:
        ours = [path("<int:product_id>/copy/", self.admin_site.admin_view(self.copy_view), name="catalog_product_copy")]
        return [*ours, *super().get_urls()]

    def copy_view(self, request: HttpRequest, product_id: int) -> HttpResponse:
        if request.method != "POST" or not self.has_add_permission(request):
            raise PermissionDenied
        copy = services.copy_product(product_id)
        self.message_user(request, _("已复制为草稿「%(name)s」") % {"name": copy.name}, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:catalog_product_change", args=[copy.pk]))

    def _set_status(self, request: HttpRequest, queryset: QuerySet[Product], status: str) -> None:
        done = 0
        for product in queryset:
            try:
                services.set_status(product.pk, status)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{product.name}：{exc.message}", messages.WARNING)
        if done:
            self.message_user(request, _("已处理 %(n)d 个商品") % {"n": done}, messages.SUCCESS)

    @admin.action(description=_("上架"))
    def publish(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        self._set_status(request, queryset, ProductStatus.PUBLISHED)

    @admin.action(description=_("下架"))
    def unpublish(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        self._set_status(request, queryset, ProductStatus.UNPUBLISHED)

    @admin.action(description=_("复制为草稿"))
    def copy(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        for product in queryset[:20]:
            services.copy_product(product.pk)
        self.message_user(request, _("已复制 %(n)d 个商品") % {"n": min(queryset.count(), 20)}, messages.SUCCESS)


def _error_text(exc: DomainError) -> str:
    details = "; ".join(", ".join(v) for v in exc.fields.values() if v)
    return f"{exc.message}（{details}）" if details and details != str(exc.message) else str(exc.message)
