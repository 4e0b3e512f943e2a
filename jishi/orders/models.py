"""Carts, orders with line snapshots and an explicit status pipeline, and after-sales cases."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from jishi.catalog.models import Sku


class CartLine(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cart_lines")
    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField(default=1)
    selected = models.BooleanField(default=True)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("购物车")
        verbose_name_plural = _("购物车")
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["user", "sku"], name="cart_line_once")]


class OrderStatus(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", _("待付款")
    PAID = "paid", _("待发货")
    SHIPPED = "shipped", _("已发货")
    COMPLETED = "completed", _("已完成")
    CLOSED = "closed", _("已关闭")
    REFUNDING = "refunding", _("售后中")
    REFUNDED = "refunded", _("已退款")


# The pipeline as data: a transition not listed here raises.
TRANSITIONS: dict[str, set[str]] = {
    OrderStatus.PENDING_PAYMENT: {OrderStatus.PAID, OrderStatus.CLOSED},
    OrderStatus.PAID: {OrderStatus.SHIPPED, OrderStatus.REFUNDING, OrderStatus.REFUNDED},
    OrderStatus.SHIPPED: {OrderStatus.COMPLETED, OrderStatus.REFUNDING},
    OrderStatus.COMPLETED: {OrderStatus.REFUNDING},
    OrderStatus.REFUNDING: {
        OrderStatus.PAID,
        OrderStatus.SHIPPED,
        OrderStatus.COMPLETED,
        OrderStatus.REFUNDED,
    },
    OrderStatus.CLOSED: set(),
    OrderStatus.REFUNDED: set(),
}


class Order(models.Model):
    number = models.CharField(_("订单号"), max_length=24, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders")
    status = models.CharField(
        _("状态"), max_length=20, choices=OrderStatus.choices, default=OrderStatus.PENDING_PAYMENT
    )
    status_before_refund = models.CharField(max_length=20, blank=True)
    address = models.JSONField(_("收货地址"), default=dict)
    goods_amount = models.BigIntegerField(_("商品金额"), default=0)
    discount_amount = models.BigIntegerField(_("优惠"), default=0)
    shipping_fee = models.BigIntegerField(_("运费"), default=0)
    payable = models.BigIntegerField(_("应付"), default=0)
    paid_amount = models.BigIntegerField(_("实付"), default=0)
    refunded_amount = models.BigIntegerField(_("已退"), default=0)
    adjustments = models.JSONField(_("价格明细"), default=list)
    meta = models.JSONField(default=dict, blank=True)
    location_id = models.BigIntegerField(null=True, blank=True)
    remark = models.CharField(_("备注"), max_length=200, blank=True)
    payment_method = models.CharField(_("支付方式"), max_length=16, blank=True)
    carrier = models.CharField(_("快递公司"), max_length=32, blank=True)
    tracking_number = models.CharField(_("运单号"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("下单时间"), auto_now_add=True, db_index=True)
    pay_deadline = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(_("付款时间"), null=True, blank=True, db_index=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("订单")
        verbose_name_plural = _("订单")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["user", "-id"]),
            models.Index(fields=["status", "pay_deadline"]),
            models.Index(fields=["status", "shipped_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(refunded_amount__lte=models.F("paid_amount")),
                name="order_refund_within_paid",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey(Sku, null=True, on_delete=models.SET_NULL, related_name="+")
    product_id = models.BigIntegerField()
    category_id = models.BigIntegerField(null=True)
    product_name = models.CharField(max_length=120)
    specs = models.JSONField(default=dict)
    image = models.CharField(max_length=255, blank=True)
    unit_price = models.BigIntegerField()
    quantity = models.PositiveIntegerField()
    line_total = models.BigIntegerField()
    discount = models.BigIntegerField(default=0)
    # What the buyer actually paid for this line, after discounts, excluding shipping.
    paid_amount = models.BigIntegerField(default=0)
    refunded_quantity = models.PositiveIntegerField(default=0)
    refunded_amount = models.BigIntegerField(default=0)
    meta = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("订单行")
        verbose_name_plural = _("订单行")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(refunded_quantity__lte=models.F("quantity")),
                name="line_refund_qty_within_quantity",
            ),
            models.CheckConstraint(
                condition=models.Q(refunded_amount__lte=models.F("paid_amount")),
                name="line_refund_within_paid",
            ),
        ]


class AfterSaleKind(models.TextChoices):
    REFUND_ONLY = "refund_only", _("仅退款")
    RETURN_REFUND = "return_refund", _("退货退款")


class AfterSaleStatus(models.TextChoices):
    PENDING = "pending", _("待审核")
    REFUNDING = "refunding", _("退款中")  # approved: the refund is recorded and being made
    REFUNDED = "refunded", _("已退款")
    REJECTED = "rejected", _("已拒绝")
    CANCELLED = "cancelled", _("已撤销")


class AfterSale(models.Model):
    number = models.CharField(max_length=24, unique=True)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="after_sales")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=AfterSaleKind.choices, default=AfterSaleKind.REFUND_ONLY)
    status = models.CharField(
        max_length=16, choices=AfterSaleStatus.choices, default=AfterSaleStatus.PENDING, db_index=True
    )
    amount = models.BigIntegerField(_("退款金额"))
    reason = models.CharField(_("原因"), max_length=200)
    reject_reason = models.CharField(max_length=200, blank=True)
    restock = models.BooleanField(default=False)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("售后")
        verbose_name_plural = _("售后")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order"],
                condition=models.Q(status__in=["pending", "refunding"]),
                name="one_open_after_sale_per_order",
            ),
            # 0 only for units that cost no money (points-only orders): nothing to pay back.
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="after_sale_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return self.number


class AfterSaleLine(models.Model):
    after_sale = models.ForeignKey(AfterSale, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    amount = models.BigIntegerField(default=0)
