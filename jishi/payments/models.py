"""Payments of orders, refunds back to where the money came from, and a log of every notify."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from jishi.orders.models import Order


class PaymentMethod(models.TextChoices):
    WALLET = "wallet", _("余额")
    SANDBOX = "sandbox", _("沙箱支付")
    ALIPAY = "alipay", _("支付宝")
    WECHATPAY = "wechatpay", _("微信支付")


class PaymentStatus(models.TextChoices):
    PENDING = "pending", _("待支付")
    PAID = "paid", _("已支付")
    FAILED = "failed", _("失败")
    CLOSED = "closed", _("已关闭")  # the order closed unpaid: the trade is closed at the provider too
    REFUNDED_LATE = "refunded_late", _("迟到已退")


class Payment(models.Model):
    payment_no = models.CharField(_("支付单号"), max_length=32, unique=True)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    method = models.CharField(_("方式"), max_length=16, choices=PaymentMethod.choices)
    amount = models.BigIntegerField(_("金额"))
    currency = models.CharField(max_length=3, default="CNY")
    status = models.CharField(
        _("状态"), max_length=16, choices=PaymentStatus.choices, default=PaymentStatus.PENDING, db_index=True
    )
    provider_txn_id = models.CharField(_("渠道流水号"), max_length=64, blank=True)
    refunded_amount = models.BigIntegerField(default=0)
    meta = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("支付")
        verbose_name_plural = _("支付")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["order"], condition=models.Q(status="paid"), name="one_paid_payment"),
            models.CheckConstraint(
                condition=models.Q(refunded_amount__lte=models.F("amount")),
                name="payment_refund_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return self.payment_no


class RefundStatus(models.TextChoices):
    REQUESTED = "requested", _("待退款")  # recorded; the provider call may not have happened
    PROCESSING = "processing", _("退款处理中")  # the provider accepted it and has not finished
    SUCCEEDED = "succeeded", _("退款成功")
    FAILED = "failed", _("退款失败")  # the provider refused it: an operator retries or settles it


class Refund(models.Model):
    """A refund, written before the provider is asked: ``refund_no`` is the provider's
    out-refund number, the same on every attempt, so a retried call is one refund there."""

    refund_no = models.CharField(max_length=32, unique=True)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    after_sale = models.ForeignKey(
        "orders.AfterSale", null=True, blank=True, on_delete=models.PROTECT, related_name="refunds"
    )
    amount = models.BigIntegerField(_("金额"))
    status = models.CharField(
        _("状态"), max_length=16, choices=RefundStatus.choices, default=RefundStatus.REQUESTED, db_index=True
    )
    provider_refund_id = models.CharField(max_length=64, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("退款")
        verbose_name_plural = _("退款")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="refund_amount_positive"),
        ]

    def __str__(self) -> str:
        return self.refund_no


class NoticeLog(models.Model):
    """Every notify received, trusted or not: the audit trail of what providers told us."""

    provider = models.CharField(max_length=16)
    payment_no = models.CharField(max_length=64, blank=True, db_index=True)
    verified = models.BooleanField(default=False)
    outcome = models.CharField(max_length=32)
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("支付通知")
        verbose_name_plural = _("支付通知")
        ordering = ["-id"]
