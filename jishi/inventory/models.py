"""Stock per location: on hand and reserved, with the database refusing impossible values."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from jishi.catalog.models import Sku


class LocationKind(models.TextChoices):
    WAREHOUSE = "warehouse", _("仓库")
    STORE = "store", _("门店")


class Location(models.Model):
    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    kind = models.CharField(max_length=16, choices=LocationKind.choices, default=LocationKind.WAREHOUSE)
    is_default = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("库位")
        verbose_name_plural = _("库位")

    def __str__(self) -> str:
        return self.name


class StockItem(models.Model):
    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="stock_items")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="stock_items")
    on_hand = models.IntegerField(_("在库"), default=0)
    reserved = models.IntegerField(_("已预留"), default=0)

    class Meta:
        verbose_name = _("库存")
        verbose_name_plural = _("库存")
        constraints = [
            models.UniqueConstraint(fields=["sku", "location"], name="stock_item_once"),
            models.CheckConstraint(condition=models.Q(on_hand__gte=0), name="stock_on_hand_not_negative"),
            models.CheckConstraint(condition=models.Q(reserved__gte=0), name="stock_reserved_not_negative"),
            models.CheckConstraint(
                condition=models.Q(reserved__lte=models.F("on_hand")),
                name="stock_reserved_within_on_hand",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku} · {self.location}"

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class StockMove(models.Model):
    """Journal of every stock change, for audit and ERP reconciliation."""

    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16)  # set, reserve, release, consume
    quantity = models.IntegerField()
    reference = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["sku", "created_at"])]
