"""Buyer engagement: favourites, browsing history and shipment reminders."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Favourite(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="+", verbose_name=_("商品"))
    created_at = models.DateTimeField(_("收藏时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("收藏")
        verbose_name_plural = _("收藏")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "product"], name="one_favourite_per_product")]


class ProductView(models.Model):
    """The buyer's browsing history: one row per product, moved to the top on each visit."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="+", verbose_name=_("商品"))
    viewed_at = models.DateTimeField(_("浏览时间"))

    class Meta:
        verbose_name = _("浏览记录")
        verbose_name_plural = _("浏览记录")
        ordering = ["-viewed_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "product"], name="one_view_row_per_product")]
        indexes = [models.Index(fields=["user", "-viewed_at"])]


class ShipmentReminder(models.Model):
    """A buyer's 提醒发货 for a paid order: once per order, shown to operators with the order."""

    order = models.OneToOneField("orders.Order", on_delete=models.CASCADE, related_name="+", verbose_name=_("订单"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(_("提醒时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("提醒发货")
        verbose_name_plural = _("提醒发货")
        ordering = ["-created_at"]


def after_sale_photo_path(instance: AfterSalePhoto, filename: str) -> str:
    return f"after-sales/{instance.case_id}/{filename}"


class AfterSalePhoto(models.Model):
    """A buyer's photo of the problem, attached to an after-sales case (破损、错发…)."""

    case = models.ForeignKey("orders.AfterSale", on_delete=models.CASCADE, related_name="+", verbose_name=_("售后"))
    image = models.ImageField(_("图片"), upload_to=after_sale_photo_path)
    sort = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("售后图片")
        verbose_name_plural = _("售后图片")
        ordering = ["case", "sort", "id"]
