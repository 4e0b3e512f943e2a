"""The catalogue: category tree, products, SKUs from spec combinations, images, search terms."""

from __future__ import annotations

from django.db import models
from django.utils.html import linebreaks
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _


class Category(models.Model):
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    name = models.CharField(_("名称"), max_length=64)
    sort = models.IntegerField(_("排序"), default=0)
    icon = models.CharField(_("图标"), max_length=16, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("类目")
        verbose_name_plural = _("类目")
        ordering = ["sort", "id"]

    def __str__(self) -> str:
        return self.name


class ProductStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已上架")
    UNPUBLISHED = "unpublished", _("已下架")


class Product(models.Model):
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    name = models.CharField(_("名称"), max_length=120)
    subtitle = models.CharField(_("副标题"), max_length=200, blank=True)
    description = models.TextField(_("详情"), blank=True)
    specs = models.JSONField(
        _("规格"),
        default=list,
        blank=True,
        help_text=_('规格定义，例如 [{"name": "颜色", "values": ["红", "蓝"]}]'),
    )
    status = models.CharField(
        _("状态"),
        max_length=16,
        choices=ProductStatus.choices,
        default=ProductStatus.DRAFT,
        db_index=True,
    )
    # Denormalised from the SKUs so lists need no aggregation.
    price = models.BigIntegerField(_("最低价（分）"), default=0)
    original_price = models.BigIntegerField(_("划线价（分）"), default=0)
    sales = models.PositiveIntegerField(_("销量"), default=0)
    sort = models.IntegerField(_("排序"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("商品")
        verbose_name_plural = _("商品")
        ordering = ["-sort", "-id"]
        indexes = [models.Index(fields=["status", "category"])]

    def __str__(self) -> str:
        return self.name

    @property
    def description_html(self) -> SafeString:
        """The detail for the product page: the console's rich text sanitised again on the way out; older
        plain-text descriptions keep their line breaks."""
        from .services import sanitise_description

        text = self.description or ""
        if "<" not in text:
            return mark_safe(linebreaks(text, autoescape=True))  # noqa: S308 - linebreaks escaped the text
        return mark_safe(sanitise_description(text))  # noqa: S308 - nh3 allows only formatting tags


class Sku(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="skus")
    specs = models.JSONField(_("规格值"), default=dict, blank=True)
    spec_key = models.CharField(max_length=200, blank=True)
    price = models.BigIntegerField(_("价格（分）"))
    original_price = models.BigIntegerField(_("划线价（分）"), default=0)
    weight_g = models.PositiveIntegerField(_("重量（克）"), default=0)
    barcode = models.CharField(_("条码"), max_length=64, null=True, blank=True, unique=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("SKU")
        verbose_name_plural = _("SKU")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["product", "spec_key"], name="sku_spec_once"),
            models.CheckConstraint(condition=models.Q(price__gte=0), name="sku_price_not_negative"),
        ]

    def __str__(self) -> str:
        label = " / ".join(str(v) for v in self.specs.values())
        return f"{self.product.name} {label}".strip() if label else f"SKU {self.pk}"

    @property
    def spec_text(self) -> str:
        return " ".join(f"{k}:{v}" for k, v in self.specs.items())


def product_image_path(instance: ProductImage, filename: str) -> str:
    return f"products/{instance.product_id}/{filename}"


class ProductImage(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(upload_to=product_image_path)
    sort = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("商品图片")
        verbose_name_plural = _("商品图片")
        ordering = ["sort", "id"]


class SearchTerm(models.Model):
    """Inverted index: one row per (product, term); terms are words, characters and pinyin."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="search_terms")
    term = models.CharField(max_length=64)
    weight = models.PositiveSmallIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["product", "term"], name="search_term_once"),
        ]
        indexes = [models.Index(fields=["term"])]
