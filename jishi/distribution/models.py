"""Distribution (分销): shop rules, promoters and their levels, buyer→promoter bindings, overrides."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class BindingMode(models.TextChoices):
    PERMANENT = "permanent", _("永久首次绑定")
    DAYS = "days", _("首次绑定 N 天有效")
    LAST_TOUCH = "last_touch", _("最后一次绑定")


class JoinMode(models.TextChoices):
    EVERYONE = "everyone", _("所有人")
    APPROVAL = "approval", _("申请审核")
    SPEND = "spend", _("累计消费达标")


class DistributionSettings(models.Model):
    """The shop's distribution rules: one row, edited by operators (defaults from DESIGN §5.2)."""

    enabled = models.BooleanField(_("启用分销"), default=True)
    levels = models.PositiveSmallIntegerField(_("分销层级"), default=2)
    rates_bp = models.JSONField(_("各级佣金比例（基点）"), default=list)
    freeze_days = models.PositiveSmallIntegerField(_("冻结天数"), default=7)
    binding = models.CharField(_("绑定方式"), max_length=16, choices=BindingMode.choices, default=BindingMode.PERMANENT)
    binding_days = models.PositiveSmallIntegerField(_("绑定有效天数"), default=30)
    join = models.CharField(_("成为分销员"), max_length=16, choices=JoinMode.choices, default=JoinMode.EVERYONE)
    join_spend = models.BigIntegerField(_("累计消费门槛（分）"), default=0)
    self_purchase = models.BooleanField(_("自购返佣"), default=False)
    withdrawal_min = models.BigIntegerField(_("最低提现（分）"), default=1000)
    withdrawal_fee_bp = models.PositiveIntegerField(_("提现手续费（基点）"), default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("分销设置")
        verbose_name_plural = _("分销设置")

    def __str__(self) -> str:
        return str(_("分销设置"))


class PromoterLevel(models.Model):
    """A promoter grade with its own rates; promoters move up when they meet its conditions."""

    name = models.CharField(_("名称"), max_length=32)
    rank = models.PositiveSmallIntegerField(_("等级"), unique=True)
    rates_bp = models.JSONField(_("各级佣金比例（基点）"), default=list, blank=True)
    min_spend = models.BigIntegerField(_("累计消费（分）"), default=0)
    min_orders = models.PositiveIntegerField(_("累计订单数"), default=0)
    min_team = models.PositiveIntegerField(_("直属团队人数"), default=0)
    min_commission = models.BigIntegerField(_("累计佣金（分）"), default=0)
    match_all = models.BooleanField(_("需同时满足全部条件"), default=True)

    class Meta:
        verbose_name = _("分销员等级")
        verbose_name_plural = _("分销员等级")
        ordering = ["rank"]

    def __str__(self) -> str:
        return self.name


class PromoterStatus(models.TextChoices):
    PENDING = "pending", _("待审核")
    ACTIVE = "active", _("正常")
    REJECTED = "rejected", _("已拒绝")
    FROZEN = "frozen", _("已冻结")


class Promoter(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="promoter")
    code = models.CharField(_("邀请码"), max_length=12, unique=True)
    status = models.CharField(_("状态"), max_length=16, choices=PromoterStatus.choices, default=PromoterStatus.PENDING)
    level = models.ForeignKey(PromoterLevel, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    applied_at = models.DateTimeField(auto_now_add=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("分销员")
        verbose_name_plural = _("分销员")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.user} ({self.code})"


class BindingSource(models.TextChoices):
    LINK = "link", _("分享链接")
    QR = "qr", _("二维码海报")
    CODE = "code", _("邀请码")
    ORDER = "order", _("下单")


class Binding(models.Model):
    """The buyer's current promoter (one row per buyer); history keeps every change."""

    buyer = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="binding")
    promoter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="team")
    source = models.CharField(max_length=8, choices=BindingSource.choices, default=BindingSource.CODE)
    bound_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("绑定关系")
        verbose_name_plural = _("绑定关系")
        indexes = [models.Index(fields=["promoter", "bound_at"])]


class BindingHistory(models.Model):
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    promoter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=8, choices=BindingSource.choices)
    action = models.CharField(max_length=16)  # bound, rebound
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("绑定记录")
        verbose_name_plural = _("绑定记录")
        ordering = ["-id"]


class CommissionRule(models.Model):
    """Per-product or per-SKU override: a rate or a fixed amount per unit, for each level."""

    product_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    sku_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    fixed = models.BooleanField(_("固定金额"), default=False)
    values = models.JSONField(_("各级数值（基点或分/件）"), default=list)

    class Meta:
        verbose_name = _("商品佣金规则")
        verbose_name_plural = _("商品佣金规则")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(product_id__isnull=False) | models.Q(sku_id__isnull=False),
                name="commission_rule_has_target",
            ),
        ]
