"""Loyalty data: settings, members and levels, point lots, sign-ins, the points mall, red packets, notices."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .conf import DEFAULTS


def _default(name: str) -> Any:
    return DEFAULTS[name]


def default_sign_in_tiers() -> list[dict[str, int]]:
    return [dict(tier) for tier in DEFAULTS["sign_in_tiers"]]


class SignInReset(models.TextChoices):
    WEEKLY = "weekly", _("每周一重新计算")
    MONTHLY = "monthly", _("每月 1 日重新计算")
    NEVER = "never", _("不重置（断签才重置）")


class ExpiryMode(models.TextChoices):
    NEVER = "never", _("永不过期")
    YEAR_END_NEXT = "year_end_next", _("次年年底过期")


class LoyaltySettings(models.Model):
    """The operator-editable rules; one row (pk=1)."""

    points_per_yuan = models.PositiveIntegerField(_("每消费 1 元得积分"), default=_default("points_per_yuan"))
    first_order_points = models.PositiveIntegerField(_("每日首单奖励积分"), default=_default("first_order_points"))
    invite_points = models.PositiveIntegerField(_("邀请新用户奖励积分"), default=_default("invite_points"))
    post_points = models.PositiveIntegerField(_("发布笔记奖励积分"), default=_default("post_points"))
    review_points = models.PositiveIntegerField(_("发布评价奖励积分"), default=_default("review_points"))
    content_points_daily_limit = models.PositiveIntegerField(
        _("笔记/评价每日奖励次数上限"), default=_default("content_points_daily_limit")
    )
    sign_in_tiers = models.JSONField(
        _("签到阶梯"),
        default=default_sign_in_tiers,
        help_text=_('连续签到第 N 天起每次得 P 积分，如 [{"day": 1, "points": 5}, {"day": 7, "points": 20}]'),
    )
    sign_in_reset = models.CharField(
        _("连签重置方式"), max_length=16, choices=SignInReset.choices, default=_default("sign_in_reset")
    )
    expiry_mode = models.CharField(
        _("积分有效期"), max_length=16, choices=ExpiryMode.choices, default=_default("expiry_mode")
    )
    expiry_notice_days = models.PositiveIntegerField(_("即将过期提示天数"), default=_default("expiry_notice_days"))
    redeem_points_per_yuan = models.PositiveIntegerField(
        _("多少积分抵 1 元"), default=_default("redeem_points_per_yuan")
    )
    max_deduction_bp = models.PositiveIntegerField(
        _("积分最多抵扣比例（基点）"), default=_default("max_deduction_bp"), help_text=_("5000 = 商品金额的 50%")
    )
    red_packet_valid_days = models.PositiveIntegerField(_("红包有效天数"), default=_default("red_packet_valid_days"))
    growth_window_days = models.PositiveIntegerField(
        _("成长值有效天数"),
        default=_default("growth_window_days"),
        help_text=_("会员等级按最近这些天获得的成长值计算，过期后自动降级；0 表示永久有效"),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("积分规则")
        verbose_name_plural = _("积分规则")
        constraints = [
            models.CheckConstraint(condition=models.Q(pk=1), name="loyalty_settings_singleton"),
            models.CheckConstraint(condition=models.Q(redeem_points_per_yuan__gte=1), name="loyalty_redeem_rate_pos"),
            models.CheckConstraint(
                condition=models.Q(max_deduction_bp__lte=10000), name="loyalty_max_deduction_le_100"
            ),
        ]

    def __str__(self) -> str:
        return str(_("积分规则"))


class MemberLevel(models.Model):
    """A level reached at ``threshold`` growth, with its benefits."""

    name = models.CharField(_("等级名称"), max_length=32)
    threshold = models.PositiveBigIntegerField(_("所需成长值"), unique=True)
    discount_bp = models.PositiveIntegerField(
        _("会员折扣（基点）"), default=0, help_text=_("500 = 商品金额减 5%（不与活动价叠加）")
    )
    free_shipping = models.BooleanField(_("包邮"), default=False)
    points_multiplier_bp = models.PositiveIntegerField(
        _("购物积分倍率（基点）"), default=10000, help_text=_("10000 = 1 倍，15000 = 1.5 倍")
    )
    description = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("会员等级")
        verbose_name_plural = _("会员等级")
        ordering = ["threshold"]
        constraints = [
            models.CheckConstraint(condition=models.Q(discount_bp__lte=5000), name="level_discount_at_most_half"),
        ]

    def __str__(self) -> str:
        return self.name


class Member(models.Model):
    """A buyer's loyalty state; its row is the per-buyer lock every point change takes first."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="loyalty")
    growth = models.BigIntegerField(_("成长值"), default=0)
    level = models.ForeignKey(
        MemberLevel, null=True, blank=True, on_delete=models.SET_NULL, related_name="members", verbose_name=_("等级")
    )
    # Points a refund should have taken back but the buyer had already spent: settled from later earning.
    points_debt = models.BigIntegerField(_("待扣回积分"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("会员")
        verbose_name_plural = _("会员")
        constraints = [
            models.CheckConstraint(condition=models.Q(growth__gte=0), name="member_growth_not_negative"),
            models.CheckConstraint(condition=models.Q(points_debt__gte=0), name="member_points_debt_not_negative"),
        ]

    def __str__(self) -> str:
        return str(self.user)


class GrowthEntry(models.Model):
    """One change of a member's growth, kept so that growth can count over a window of days."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    delta = models.BigIntegerField()
    reference = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("成长值记录")
        verbose_name_plural = _("成长值记录")
        indexes = [models.Index(fields=["user", "created_at"])]


class PointsLot(models.Model):
    """Points earned together: spends take from the oldest lots, expiry empties due ones.

    Invariant: a buyer's lots' ``remaining`` sum to their POINTS ledger balance.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    amount = models.BigIntegerField()
    remaining = models.BigIntegerField()
    expired = models.BigIntegerField(default=0)
    kind = models.CharField(max_length=32)
    reference = models.CharField(max_length=120, blank=True)
    earned_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("积分批次")
        verbose_name_plural = _("积分批次")
        indexes = [
            models.Index(fields=["user", "id"], name="lot_open_idx", condition=models.Q(remaining__gt=0)),
            models.Index(fields=["expires_at"], name="lot_due_idx", condition=models.Q(remaining__gt=0)),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(remaining__gte=0) & models.Q(remaining__lte=models.F("amount")),
                name="lot_remaining_within_amount",
            ),
        ]


class LotUse(models.Model):
    """Which lots a spend took from, so a refund puts points back where they came from."""

    lot = models.ForeignKey(PointsLot, on_delete=models.CASCADE, related_name="uses")
    key = models.CharField(max_length=160, db_index=True)
    amount = models.BigIntegerField()
    returned = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(returned__lte=models.F("amount")), name="lot_use_returned_within_amount"
            ),
        ]


class PointsDebtLog(models.Model):
    """Every change of a member's points debt (positive: owed; negative: settled), once per key."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=160, unique=True)
    amount = models.BigIntegerField()
    reference = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)


class OrderPoints(models.Model):
    """What an order moved in loyalty, so refunds reverse exactly their share (cumulatively)."""

    order = models.OneToOneField("orders.Order", on_delete=models.CASCADE, related_name="loyalty")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    used = models.BigIntegerField(_("抵扣积分"), default=0)
    used_value = models.BigIntegerField(_("抵扣金额"), default=0)
    used_returned = models.BigIntegerField(default=0)
    spend_key = models.CharField(max_length=160, blank=True)  # the ledger key the used points were spent under
    earned = models.BigIntegerField(_("奖励积分"), default=0)
    earn_base = models.BigIntegerField(default=0)  # fen the earning was computed on
    earned_clawed = models.BigIntegerField(default=0)
    refunded = models.BigIntegerField(default=0)  # fen refunded so far (from order.refunded events)
    goods_refunded = models.BigIntegerField(default=0)  # of which for goods (shipping excluded)
    refunded_after_earn = models.BigIntegerField(default=0)
    paid_amount = models.BigIntegerField(default=0)
    growth_added = models.BigIntegerField(default=0)
    growth_removed = models.BigIntegerField(default=0)
    earned_at = models.DateTimeField(null=True, blank=True)
    refunds_applied = models.JSONField(default=list, blank=True)  # after-sale ids already reversed (replays)

    class Meta:
        verbose_name = _("订单积分")
        verbose_name_plural = _("订单积分")


class SignIn(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()  # in the shop's time zone
    streak = models.PositiveIntegerField()
    points = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("签到")
        verbose_name_plural = _("签到")
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="sign_in_once_a_day")]
        indexes = [models.Index(fields=["user", "-day"])]


class DailyAward(models.Model):
    """Once-per-something awards (first order of a day, a post, a review, an invitee)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=32)
    subject = models.CharField(max_length=64)  # the day, the post id, the invitee id
    day = models.DateField()
    points = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind", "subject"], name="daily_award_once")]
        indexes = [models.Index(fields=["user", "kind", "day"])]


class MallItem(models.Model):
    """Goods redeemable for points (+ cash), sold as a normal order of ``sku``."""

    name = models.CharField(_("名称"), max_length=120)
    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+", verbose_name=_("商品 SKU"))
    points = models.PositiveIntegerField(_("所需积分"))
    cash = models.PositiveBigIntegerField(_("另付现金（分）"), default=0)
    stock = models.PositiveIntegerField(_("剩余库存"), default=0)
    per_person_limit = models.PositiveIntegerField(_("每人限兑"), default=0, help_text=_("0 = 不限"))
    free_shipping = models.BooleanField(_("包邮"), default=True)
    is_active = models.BooleanField(_("上架"), default=True)
    sort = models.IntegerField(_("排序"), default=0)
    description = models.CharField(_("说明"), max_length=200, blank=True)
    image = models.ImageField(_("图片"), upload_to="mall/%Y/%m/", blank=True)
    redeemed = models.PositiveIntegerField(_("已兑换"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("积分商城商品")
        verbose_name_plural = _("积分商城商品")
        ordering = ["sort", "id"]
        constraints = [models.CheckConstraint(condition=models.Q(points__gt=0), name="mall_item_points_positive")]

    def __str__(self) -> str:
        return self.name


class MallQuota(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey(MallItem, on_delete=models.CASCADE, related_name="+")
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "item"], name="mall_quota_once")]


class RedemptionStatus(models.TextChoices):
    PENDING = "pending", _("待付款")
    ACTIVE = "active", _("已兑换")
    RETURNED = "returned", _("已退回")


class MallRedemption(models.Model):
    order = models.OneToOneField("orders.Order", on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey(MallItem, on_delete=models.PROTECT, related_name="redemptions")
    quantity = models.PositiveIntegerField()
    points = models.PositiveBigIntegerField()
    cash = models.PositiveBigIntegerField()
    status = models.CharField(max_length=16, choices=RedemptionStatus.choices, default=RedemptionStatus.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("积分兑换记录")
        verbose_name_plural = _("积分兑换记录")
        ordering = ["-id"]


class RedPacketBudget(models.Model):
    """Money set aside for red packets; ``remaining`` equals its ledger account's balance."""

    code = models.SlugField(_("预算代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    funded = models.BigIntegerField(_("累计注资（分）"), default=0)
    remaining = models.BigIntegerField(_("可用余额（分）"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("红包预算")
        verbose_name_plural = _("红包预算")
        constraints = [models.CheckConstraint(condition=models.Q(remaining__gte=0), name="budget_not_overspent")]

    def __str__(self) -> str:
        return self.name

    @property
    def account_name(self) -> str:
        return f"red_packet:{self.code}"


class RedPacketStatus(models.TextChoices):
    PENDING = "pending", _("待领取")
    CLAIMED = "claimed", _("已领取")
    EXPIRED = "expired", _("已过期")


class RedPacket(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    budget = models.ForeignKey(RedPacketBudget, on_delete=models.PROTECT, related_name="packets")
    key = models.CharField(max_length=160, unique=True)
    amount = models.BigIntegerField(_("金额（分）"))
    reason = models.CharField(_("原因"), max_length=120)
    status = models.CharField(
        _("状态"), max_length=16, choices=RedPacketStatus.choices, default=RedPacketStatus.PENDING
    )
    expires_at = models.DateTimeField(_("过期时间"))
    granted_at = models.DateTimeField(_("发放时间"))
    claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("红包")
        verbose_name_plural = _("红包")
        ordering = ["-id"]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="red_packet_positive")]
        indexes = [
            models.Index(fields=["expires_at"], name="red_packet_due_idx", condition=models.Q(status="pending")),
            models.Index(fields=["user", "-id"]),
        ]


class PointsAdjustment(models.Model):
    """An operator's manual points change; posted to the ledger and audited."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    amount = models.BigIntegerField(_("积分变动"), help_text=_("正数增加，负数扣减"))
    reason = models.CharField(_("原因"), max_length=120)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("操作人")
    )
    transaction_id = models.BigIntegerField(null=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("积分调整")
        verbose_name_plural = _("积分调整")
        ordering = ["-id"]
