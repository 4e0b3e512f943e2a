"""Member outreach: inbox messages (one per member and once-only key)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Category(models.TextChoices):
    ORDER = "order", _("订单")
    AFTER_SALE = "after_sale", _("售后")
    PROMOTION = "promotion", _("活动")
    COMMUNITY = "community", _("社区")
    SYSTEM = "system", _("系统")


class Message(models.Model):
    """One notice in one member's inbox. ``key`` makes a notice once-only per member."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="inbox",
        verbose_name=_("会员"),
        db_index=False,  # the unique (user, key) index leads with it
    )
    category = models.CharField(_("类别"), max_length=16, choices=Category.choices)
    title = models.CharField(_("标题"), max_length=100)
    body = models.TextField(_("内容"), blank=True)
    link = models.CharField(_("链接"), max_length=300, blank=True)
    key = models.CharField(_("去重键"), max_length=120)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("时间"))
    # No database constraint: a 200,000-member campaign would pay a foreign-key check per row at
    # commit for a link the campaign writer itself sets (Django still nulls it if one is deleted).
    campaign = models.ForeignKey(
        "notify.Campaign",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("活动"),
        db_constraint=False,
    )
    variant = models.CharField(_("分组"), max_length=1, blank=True)

    class Meta:
        verbose_name = _("站内消息")
        verbose_name_plural = _("站内消息")
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="notify_message_once_per_key")]
        # The unique (user, key) index serves every per-member read (an inbox is short); few
        # indexes keep a 200,000-member campaign's inserts fast.

    def __str__(self) -> str:
        return self.title

    @property
    def read(self) -> bool:
        return self.read_at is not None


class Channel(models.TextChoices):
    INBOX = "inbox", _("站内信")
    SMS = "sms", _("短信")
    WECHAT = "wechat", _("微信")
    EMAIL = "email", _("邮件")


# Channels that reach a member outside Jishi (each through a backend, in the worker).
OUTSIDE_CHANNELS = (Channel.SMS, Channel.WECHAT, Channel.EMAIL)


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    SENT = "sent", _("已发送")
    DELIVERED = "delivered", _("已送达")
    FAILED = "failed", _("失败")
    READ = "read", _("已读")


class MemberChannels(models.Model):
    """A member's addresses outside the inbox, marketing opt-outs per channel and quiet hours."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notice_settings", verbose_name=_("会员")
    )
    # The phone is the account's own (accounts.User.phone); these are the other addresses.
    email = models.EmailField(_("邮箱"), blank=True)
    wechat_openid = models.CharField(_("微信 openid"), max_length=64, blank=True)
    wechat_kind = models.CharField(
        _("微信渠道"),
        max_length=16,
        choices=[("miniprogram", _("小程序订阅消息")), ("official", _("公众号模板消息"))],
        default="miniprogram",
    )
    sms_marketing = models.BooleanField(_("接收短信营销"), default=True)
    wechat_marketing = models.BooleanField(_("接收微信营销"), default=True)
    email_marketing = models.BooleanField(_("接收邮件营销"), default=True)
    # Marketing sends wait out these hours (local time); transactional notices do not.
    quiet_start = models.TimeField(_("免打扰开始"), null=True, blank=True)
    quiet_end = models.TimeField(_("免打扰结束"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("通知设置")
        verbose_name_plural = _("通知设置")

    def __str__(self) -> str:
        return str(self.user)


class Delivery(models.Model):
    """One message to one member on one channel: queued → sent → delivered / failed → read."""

    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("消息"), db_index=False
    )  # the unique (message, channel) index leads with it
    # The member and campaign repeat the message's (set from it in the same INSERT … SELECT), so
    # the message's constraint is the one the database checks; these two carry none.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("会员"),
        db_constraint=False,
    )
    channel = models.CharField(_("渠道"), max_length=16, choices=Channel.choices)
    status = models.CharField(_("状态"), max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED)
    reason = models.CharField(_("失败原因"), max_length=64, blank=True)
    marketing = models.BooleanField(_("营销"), default=False)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试"), null=True, blank=True)
    # A worker that claimed the row owns it until then; a crashed worker's claim simply lapses.
    claimed_until = models.DateTimeField(null=True, blank=True)
    claim = models.CharField(max_length=32, blank=True)
    campaign = models.ForeignKey(
        "notify.Campaign",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("活动"),
        db_index=False,  # the (campaign, channel, status) index leads with it
        db_constraint=False,
    )
    vendor_id = models.CharField(_("渠道回执号"), max_length=128, blank=True)  # e-mail Message-IDs run long
    created_at = models.DateTimeField(_("创建时间"))
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("投递记录")
        verbose_name_plural = _("投递记录")
        constraints = [models.UniqueConstraint(fields=["message", "channel"], name="notify_delivery_once")]
        indexes = [
            models.Index(
                fields=["next_attempt_at", "id"],
                condition=models.Q(status="queued"),
                name="notify_delivery_due",
            ),
            models.Index(fields=["channel", "vendor_id"], name="notify_delivery_vendor"),
            models.Index(fields=["campaign", "channel", "status"], name="notify_delivery_campaign"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} · {self.get_status_display()}"


class MemberTag(models.Model):
    """An operator's label on members (segments select by it)."""

    name = models.CharField(_("名称"), max_length=32, unique=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="notify_tags", blank=True)

    class Meta:
        verbose_name = _("会员标签")
        verbose_name_plural = _("会员标签")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Segment(models.Model):
    """A saved audience: ``rules`` is ``{"op": "and"|"or", "conditions": [...]}`` (see ``segments.py``)."""

    name = models.CharField(_("名称"), max_length=64)
    rules = models.JSONField(_("条件"), default=dict)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("人群")
        verbose_name_plural = _("人群")
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.name


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SCHEDULED = "scheduled", _("已排期")
    RUNNING = "running", _("发送中")
    PAUSED = "paused", _("已暂停")
    FINISHED = "finished", _("已完成")
    CANCELLED = "cancelled", _("已取消")


class Campaign(models.Model):
    """A message to a segment on the inbox and chosen channels, written and sent by the worker."""

    name = models.CharField(_("名称"), max_length=64)
    segment = models.ForeignKey(Segment, on_delete=models.PROTECT, related_name="campaigns", verbose_name=_("人群"))
    status = models.CharField(_("状态"), max_length=16, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT)
    title = models.CharField(_("标题"), max_length=100, help_text=_("可用变量 {name}、{coupon}"))
    body = models.TextField(_("正文"), help_text=_("可用变量 {name}、{coupon}"))
    link = models.CharField(_("落地页"), max_length=300, blank=True, help_text=_("站内路径，如 /p/12/"))
    # {"sms": {"body": "..."}, "wechat": {"title": "...", "body": "..."}, "email": {...}}: channels beyond the inbox
    channel_content = models.JSONField(_("渠道内容"), default=dict, blank=True)
    # sends per second per channel ({"sms": 50}); absent: the channel's default
    throttle = models.JSONField(_("限速（条/秒）"), default=dict, blank=True)
    # A/B: this share of the segment (0–100) gets variant B's title and body
    b_percent = models.PositiveSmallIntegerField(_("B 组比例（%）"), default=0)
    b_title = models.CharField(_("B 组标题"), max_length=100, blank=True)
    b_body = models.TextField(_("B 组正文"), blank=True)
    coupon_template = models.ForeignKey(
        "marketing.CouponTemplate",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("赠送优惠券"),
    )
    gift_points = models.PositiveIntegerField(_("赠送积分"), default=0)
    attribution_days = models.PositiveSmallIntegerField(_("归因天数"), default=7)
    scheduled_at = models.DateTimeField(_("计划发送时间"), null=True, blank=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    # Resumable progress: members are written in id order; everything up to here is written.
    cursor = models.BigIntegerField(default=0)
    targeted = models.PositiveIntegerField(_("目标人数"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("触达活动")
        verbose_name_plural = _("触达活动")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(b_percent__lte=100), name="notify_campaign_b_within_100")
        ]

    def __str__(self) -> str:
        return self.name


class CampaignGift(models.Model):
    """A campaign's coupon/points gift to one member: once (the unique pair)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="gifts")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    granted_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "user"], name="notify_gift_once")]


class CampaignClick(models.Model):
    """A member opened a campaign's tracked link (first time kept)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="clicks")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    clicked_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "user"], name="notify_click_once")]
