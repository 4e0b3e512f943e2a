"""Community data: groups and their members, group red packets and their shares."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class JoinMode(models.TextChoices):
    OPEN = "open", _("自由加入")
    INVITE = "invite", _("邀请加入")
    APPROVAL = "approval", _("审核加入")
    LEVEL = "level", _("会员等级")
    BUYERS = "buyers", _("购买指定商品")


class Group(models.Model):
    """A community group (社群): what it is for, whom it serves, its rules and how one gets in."""

    name = models.CharField(_("群名称"), max_length=64)
    theme = models.CharField(_("定位"), max_length=200, help_text=_("这个群为谁服务、做什么"))
    cover = models.ImageField(_("封面"), upload_to="community/covers/", blank=True)
    cover_colour = models.CharField(_("封面底色"), max_length=7, default="#e8f5e9")
    rules = models.TextField(_("群规"), max_length=4000)
    rules_version = models.PositiveIntegerField(_("群规版本"), default=1)
    join_mode = models.CharField(_("加入方式"), max_length=16, choices=JoinMode.choices, default=JoinMode.OPEN)
    required_level = models.ForeignKey(
        "loyalty.MemberLevel",
        verbose_name=_("所需等级"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    required_product = models.ForeignKey(
        "catalog.Product",
        verbose_name=_("所需购买商品"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    capacity = models.PositiveIntegerField(_("人数上限"))
    member_count = models.PositiveIntegerField(_("成员数"), default=0)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("群主"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("社群")
        verbose_name_plural = _("社群")
        constraints = [
            models.CheckConstraint(condition=Q(member_count__lte=F("capacity")), name="group_within_capacity"),
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    OWNER = "owner", _("群主")
    ADMIN = "admin", _("管理员")
    MEMBER = "member", _("成员")


class MemberStatus(models.TextChoices):
    PENDING = "pending", _("待审核")
    ACTIVE = "active", _("在群")
    LEFT = "left", _("已退出")
    REMOVED = "removed", _("已移出")
    REJECTED = "rejected", _("未通过")


class Membership(models.Model):
    """One person in one group (one row per pair, kept after leaving so history and credit stay)."""

    group = models.ForeignKey(Group, verbose_name=_("社群"), on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("成员"), on_delete=models.CASCADE, related_name="+"
    )
    role = models.CharField(_("角色"), max_length=8, choices=Role.choices, default=Role.MEMBER)
    status = models.CharField(_("状态"), max_length=10, choices=MemberStatus.choices, default=MemberStatus.ACTIVE)
    invite_code = models.CharField(_("邀请码"), max_length=12, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("邀请人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    rules_version_acked = models.PositiveIntegerField(_("已确认群规版本"), default=0)
    rules_acked_at = models.DateTimeField(_("确认群规时间"), null=True, blank=True)
    muted_until = models.DateTimeField(_("禁言至"), null=True, blank=True)
    digest_opt_out = models.BooleanField(_("不接收每日群报"), default=False)
    joined_at = models.DateTimeField(_("加入时间"), null=True, blank=True)
    left_at = models.DateTimeField(_("离开时间"), null=True, blank=True)
    last_active_at = models.DateTimeField(_("最近活跃"), null=True, blank=True)
    created_at = models.DateTimeField(_("申请时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("群成员")
        verbose_name_plural = _("群成员")
        constraints = [models.UniqueConstraint(fields=["group", "user"], name="one_membership_per_group")]
        indexes = [models.Index(fields=["user", "status"], name="membership_user_status")]

    def __str__(self) -> str:
        return f"{self.group} · {self.user}"


class RulesAcknowledgement(models.Model):
    """A member's acknowledgement of one version of a group's rules (kept as the record)."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    version = models.PositiveIntegerField()
    rules = models.TextField()  # the text as acknowledged
    acked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("群规确认")
        verbose_name_plural = _("群规确认")
        constraints = [models.UniqueConstraint(fields=["group", "user", "version"], name="ack_rules_once")]


class Invitation(models.Model):
    """Who brought whom into a group through an invite link (credit for core-fan scores)."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="+")
    inviter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    invitee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("邀请记录")
        verbose_name_plural = _("邀请记录")
        constraints = [models.UniqueConstraint(fields=["group", "invitee"], name="invited_into_group_once")]


class Split(models.TextChoices):
    RANDOM = "random", _("拼手气")
    EVEN = "even", _("平均")


class PacketSource(models.TextChoices):
    WALLET = "wallet", _("成员余额")
    BUDGET = "budget", _("运营预算")


class PacketStatus(models.TextChoices):
    ACTIVE = "active", _("可领取")
    EMPTY = "empty", _("已领完")
    REFUNDED = "refunded", _("已退回")


class GroupRedPacket(models.Model):
    """A group red packet (群红包): its amount sits on its own ledger account until claimed or refunded.

    ``amount = claimed_amount + refunded_amount + (what the packet's account still holds)``;
    check-ledger verifies it against the ledger for every packet.
    """

    group = models.ForeignKey(Group, verbose_name=_("社群"), on_delete=models.PROTECT, related_name="red_packets")
    funder = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发红包的人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    source = models.CharField(_("资金来源"), max_length=8, choices=PacketSource.choices)
    split = models.CharField(_("分配方式"), max_length=8, choices=Split.choices)
    greeting = models.CharField(_("祝福语"), max_length=40, blank=True)
    amount = models.BigIntegerField(_("总金额"))
    shares = models.PositiveIntegerField(_("份数"))
    claimed_count = models.PositiveIntegerField(_("已领份数"), default=0)
    claimed_amount = models.BigIntegerField(_("已领金额"), default=0)
    refunded_amount = models.BigIntegerField(_("退回金额"), default=0)
    status = models.CharField(_("状态"), max_length=8, choices=PacketStatus.choices, default=PacketStatus.ACTIVE)
    created_at = models.DateTimeField(_("发出时间"))
    expires_at = models.DateTimeField(_("退回时间"))
    refunded_at = models.DateTimeField(_("退回于"), null=True, blank=True)

    class Meta:
        verbose_name = _("群红包")
        verbose_name_plural = _("群红包")
        constraints = [
            models.CheckConstraint(condition=Q(claimed_count__lte=F("shares")), name="packet_claims_within_shares"),
            models.CheckConstraint(
                condition=Q(claimed_amount__gte=0, refunded_amount__gte=0)
                & Q(amount__gte=F("claimed_amount") + F("refunded_amount")),
                name="packet_never_overpaid",
            ),
        ]
        indexes = [models.Index(fields=["status", "expires_at"], name="packet_due_refund")]

    def __str__(self) -> str:
        return f"{self.group} · {self.amount}"

    @property
    def remaining(self) -> int:
        return self.amount - self.claimed_amount - self.refunded_amount


class RedPacketShare(models.Model):
    """One share of a packet, drawn when the packet is sent; a member claims at most one per packet."""

    packet = models.ForeignKey(GroupRedPacket, on_delete=models.CASCADE, related_name="share_rows")
    seq = models.PositiveIntegerField()
    amount = models.BigIntegerField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("红包份额")
        verbose_name_plural = _("红包份额")
        constraints = [
            models.UniqueConstraint(fields=["packet", "seq"], name="packet_share_seq"),
            models.UniqueConstraint(
                fields=["packet", "user"], condition=Q(user__isnull=False), name="one_share_per_member"
            ),
            models.CheckConstraint(condition=Q(amount__gte=1), name="share_at_least_one_fen"),
        ]


class TopicKind(models.TextChoices):
    TOPIC = "topic", _("话题")
    ANNOUNCEMENT = "announcement", _("公告")
    SHARE = "share", _("商品分享")
    SIGNUP = "signup", _("接龙")
    POLL = "poll", _("投票")
    QA = "qa", _("大咖问答")


class ModerationStatus(models.TextChoices):
    APPROVED = "approved", _("已通过")
    PENDING = "pending", _("待审核")
    REJECTED = "rejected", _("已驳回")


class Topic(models.Model):
    """Something said in a group: a discussion topic, a (pinned) announcement, a product card,
    a 接龙 sign-up list or a poll. Text passes content's banned-word screen and sanitiser."""

    group = models.ForeignKey(Group, verbose_name=_("社群"), on_delete=models.CASCADE, related_name="topics")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("作者"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("类型"), max_length=16, choices=TopicKind.choices, default=TopicKind.TOPIC)
    title = models.CharField(_("标题"), max_length=80)
    body_html = models.TextField(_("内容"), blank=True)
    product = models.ForeignKey(
        "catalog.Product", verbose_name=_("分享商品"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    pinned = models.BooleanField(_("置顶"), default=False)
    status = models.CharField(
        _("审核状态"), max_length=10, choices=ModerationStatus.choices, default=ModerationStatus.APPROVED
    )
    flagged_words = models.JSONField(_("命中词"), default=list, blank=True)
    reply_count = models.PositiveIntegerField(_("回复数"), default=0)
    like_count = models.PositiveIntegerField(_("点赞数"), default=0)
    signup_total = models.PositiveIntegerField(_("接龙总数"), default=0)
    signup_deadline = models.DateTimeField(_("接龙截止"), null=True, blank=True)
    created_at = models.DateTimeField(_("发布时间"), auto_now_add=True)
    last_activity_at = models.DateTimeField(_("最近互动"), auto_now_add=True)

    class Meta:
        verbose_name = _("群话题")
        verbose_name_plural = _("群话题")
        indexes = [models.Index(fields=["group", "status", "-pinned", "-last_activity_at"], name="topic_feed")]

    def __str__(self) -> str:
        return self.title


class Reply(models.Model):
    topic = models.ForeignKey(Topic, verbose_name=_("话题"), on_delete=models.CASCADE, related_name="replies")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("作者"), on_delete=models.PROTECT, related_name="+"
    )
    body = models.TextField(_("回复"), max_length=2000)
    status = models.CharField(
        _("审核状态"), max_length=10, choices=ModerationStatus.choices, default=ModerationStatus.APPROVED
    )
    flagged_words = models.JSONField(_("命中词"), default=list, blank=True)
    highlighted = models.BooleanField(_("嘉宾回答"), default=False)
    created_at = models.DateTimeField(_("回复时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("群回复")
        verbose_name_plural = _("群回复")
        indexes = [models.Index(fields=["topic", "status", "id"], name="reply_thread")]


class TopicLike(models.Model):
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["topic", "user"], name="like_topic_once")]


class SignupEntry(models.Model):
    """One member's line in a 接龙 list (one per member; joining again changes the quantity)."""

    topic = models.ForeignKey(Topic, verbose_name=_("接龙"), on_delete=models.CASCADE, related_name="signups")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("成员"), on_delete=models.CASCADE, related_name="+"
    )
    quantity = models.PositiveIntegerField(_("数量"))
    note = models.CharField(_("备注"), max_length=60, blank=True)
    created_at = models.DateTimeField(_("接龙时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("接龙记录")
        verbose_name_plural = _("接龙记录")
        constraints = [
            models.UniqueConstraint(fields=["topic", "user"], name="sign_up_once"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="sign_up_quantity_positive"),
        ]


class PollOption(models.Model):
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="options")
    seq = models.PositiveSmallIntegerField()
    text = models.CharField(max_length=40)
    votes = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["topic", "seq"], name="poll_option_seq")]


class PollVote(models.Model):
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="+")
    option = models.ForeignKey(PollOption, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["topic", "user"], name="vote_once_per_poll")]


class DigestRun(models.Model):
    """One group's daily digest (每日群报): one row per group per day, written with the notices it sent."""

    group = models.ForeignKey(Group, verbose_name=_("社群"), on_delete=models.CASCADE, related_name="digests")
    day = models.DateField(_("日期"))
    title = models.CharField(_("标题"), max_length=100)
    body = models.TextField(_("内容"))
    sent_count = models.PositiveIntegerField(_("发送人数"), default=0)
    skipped_active = models.PositiveIntegerField(_("近期活跃跳过"), default=0)
    skipped_opted_out = models.PositiveIntegerField(_("退订跳过"), default=0)
    created_at = models.DateTimeField(_("生成时间"))

    class Meta:
        verbose_name = _("每日群报")
        verbose_name_plural = _("每日群报")
        constraints = [models.UniqueConstraint(fields=["group", "day"], name="one_digest_per_group_day")]


class GuestSession(models.Model):
    """A featured guest's scheduled Q&A (大咖站台) in a group: its questions and answers are the replies
    of one pinned ``qa`` topic, which stays readable after the session ends."""

    group = models.ForeignKey(Group, verbose_name=_("社群"), on_delete=models.CASCADE, related_name="guest_sessions")
    topic = models.OneToOneField(
        Topic, verbose_name=_("问答帖"), on_delete=models.CASCADE, related_name="guest_session"
    )
    guest = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("嘉宾"), on_delete=models.PROTECT, related_name="+"
    )
    guest_title = models.CharField(_("嘉宾头衔"), max_length=60)
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    announced_count = models.PositiveIntegerField(_("预告人数"), default=0)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("大咖站台")
        verbose_name_plural = _("大咖站台")
        constraints = [models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="guest_session_span")]

    def __str__(self) -> str:
        return self.topic.title


class GroupPrice(models.Model):
    """A members-only price (群专享价) for one SKU: members of the group pay it; leaving ends it."""

    group = models.ForeignKey(Group, verbose_name=_("社群"), on_delete=models.CASCADE, related_name="prices")
    sku = models.ForeignKey("catalog.Sku", verbose_name=_("规格"), on_delete=models.CASCADE, related_name="+")
    price = models.BigIntegerField(_("群专享价"))
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("群专享价")
        verbose_name_plural = _("群专享价")
        constraints = [
            models.UniqueConstraint(fields=["group", "sku"], name="one_group_price_per_sku"),
            models.CheckConstraint(condition=Q(price__gte=1), name="group_price_positive"),
        ]


class GroupCoupon(models.Model):
    """A members-only coupon (群专享券): marketing's template, restricted to this group's members.

    The template carries ``audience="community_group"``; the rule registered in ``apps.ready``
    admits active members of the group linked here, so leaving ends it for every new order."""

    group = models.ForeignKey(Group, verbose_name=_("社群"), on_delete=models.CASCADE, related_name="coupons")
    template = models.OneToOneField(
        "marketing.CouponTemplate", verbose_name=_("优惠券模板"), on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("群专享券")
        verbose_name_plural = _("群专享券")

    def __str__(self) -> str:
        return f"{self.group} · {self.template_id}"


class FanReward(models.Model):
    """A core fan's reward for one group week (积分 and/or a coupon), given once per member per week."""

    group = models.ForeignKey(Group, verbose_name=_("社群"), on_delete=models.CASCADE, related_name="+")
    week = models.DateField(_("周（周一）"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("成员"), on_delete=models.CASCADE, related_name="+"
    )
    rank = models.PositiveIntegerField(_("名次"))
    score = models.PositiveIntegerField(_("活跃分"))
    points = models.PositiveIntegerField(_("奖励积分"), default=0)
    coupon_template_id = models.BigIntegerField(_("奖励优惠券"), null=True, blank=True)
    created_at = models.DateTimeField(_("奖励时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("核心粉丝奖励")
        verbose_name_plural = _("核心粉丝奖励")
        constraints = [models.UniqueConstraint(fields=["group", "week", "user"], name="reward_fan_once_a_week")]
