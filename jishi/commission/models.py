"""Commissions earned on order lines (by promoters, creators, leaders) and their withdrawal."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CommissionSource(models.TextChoices):
    DISTRIBUTION = "distribution", _("分销佣金")
    CONTENT = "content", _("内容佣金")
    LEADER = "leader", _("团长佣金")
    GROUP_LEADER = "group_leader", _("拼团团长奖励")
    REBATE = "rebate", _("导购返利")  # order_id is a rebate network order's id, not a shop order's


# Sources whose order_id is a shop order (order events address their commissions).
SHOP_ORDER_SOURCES = (
    CommissionSource.DISTRIBUTION,
    CommissionSource.CONTENT,
    CommissionSource.LEADER,
    CommissionSource.GROUP_LEADER,
)


class CommissionStatus(models.TextChoices):
    FROZEN = "frozen", _("冻结中")
    AVAILABLE = "available", _("可提现")
    REVERSED = "reversed", _("已退回")


class Commission(models.Model):
    """One beneficiary's share of one order line. Money lives in the ledger; this row says why."""

    key = models.CharField(max_length=120, unique=True)
    source = models.CharField(max_length=16, choices=CommissionSource.choices)
    beneficiary = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="commissions")
    buyer_id = models.BigIntegerField()
    order_id = models.BigIntegerField(db_index=True)
    order_number = models.CharField(max_length=24, blank=True)
    line_id = models.BigIntegerField(null=True)
    product_id = models.BigIntegerField(null=True)
    level = models.PositiveSmallIntegerField(default=1)
    base_amount = models.BigIntegerField(_("计佣金额"))
    rate_bp = models.PositiveIntegerField(null=True, blank=True)
    amount = models.BigIntegerField(_("佣金"))
    reversed_amount = models.BigIntegerField(_("已退回"), default=0)
    refunded_base = models.BigIntegerField(default=0)
    status = models.CharField(max_length=16, choices=CommissionStatus.choices, default=CommissionStatus.FROZEN)
    freeze_days = models.PositiveSmallIntegerField(default=7)
    unfreeze_at = models.DateTimeField(null=True, blank=True)
    available_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("佣金")
        verbose_name_plural = _("佣金")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["beneficiary", "status"]),
            models.Index(fields=["status", "unfreeze_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(reversed_amount__lte=models.F("amount")), name="commission_reversal_within_amount"
            ),
        ]

    def __str__(self) -> str:
        return self.key

    @property
    def remaining(self) -> int:
        return self.amount - self.reversed_amount


class WithdrawalChannel(models.TextChoices):
    WALLET = "wallet", _("余额")
    WECHAT = "wechat", _("微信")
    ALIPAY = "alipay", _("支付宝")
    BANK = "bank", _("银行卡")


class WithdrawalStatus(models.TextChoices):
    PENDING = "pending", _("待审核")
    PAID = "paid", _("已打款")
    REJECTED = "rejected", _("已拒绝")


class Withdrawal(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="withdrawals")
    amount = models.BigIntegerField(_("提现金额"))
    fee = models.BigIntegerField(_("手续费"), default=0)
    net = models.BigIntegerField(_("到账金额"))
    debt_repaid = models.BigIntegerField(_("抵扣欠款"), default=0)
    channel = models.CharField(_("渠道"), max_length=16, choices=WithdrawalChannel.choices)
    account = models.CharField(_("收款账号"), max_length=120, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=WithdrawalStatus.choices, default=WithdrawalStatus.PENDING, db_index=True
    )
    reference = models.CharField(_("打款凭证"), max_length=64, blank=True)
    reject_reason = models.CharField(max_length=200, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("提现")
        verbose_name_plural = _("提现")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="withdrawal_amount_positive"),
        ]

    def __str__(self) -> str:
        return str(_("提现 #%(id)s")) % {"id": self.pk}


class CommissionRefund(models.Model):
    """One refund's reversal was applied to an order's commissions: a replayed event applies nothing."""

    order_id = models.BigIntegerField()
    refund_key = models.CharField(max_length=64)
    applied_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["order_id", "refund_key"], name="commission_refund_once"),
        ]
