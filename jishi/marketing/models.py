"""Campaign data: coupon templates and issued coupons, flash sales, 拼团 groups, bargains, home banners."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from jishi.catalog.models import Sku

USER = settings.AUTH_USER_MODEL


class CampaignFlags(models.Model):
    """What a campaign's orders earn elsewhere: distribution reads ``commission``, loyalty ``points``."""

    commission = models.BooleanField(_("计佣金"), default=False)
    points = models.BooleanField(_("送积分"), default=True)

    class Meta:
        abstract = True


# --- coupons ------------------------------------------------------------------------------


class CouponKind(models.TextChoices):
    FIXED = "fixed", _("立减券")
    PERCENT = "percent", _("折扣券")
    THRESHOLD = "threshold", _("满减券")


class CouponScope(models.TextChoices):
    ALL = "all", _("全店通用")
    CATEGORIES = "categories", _("指定类目")
    PRODUCTS = "products", _("指定商品")


class CouponTemplate(models.Model):
    name = models.CharField(_("名称"), max_length=64)
    kind = models.CharField(_("类型"), max_length=16, choices=CouponKind.choices)
    amount = models.BigIntegerField(_("减免金额（分）"), default=0, help_text=_("立减券、满减券的面额"))
    percent_off_bp = models.PositiveIntegerField(
        _("折扣（基点）"), default=0, help_text=_("折扣券减去的比例，1500 表示减 15%（八五折）")
    )
    max_discount = models.BigIntegerField(_("最高优惠（分）"), default=0, help_text=_("折扣券封顶，0 表示不封顶"))
    min_spend = models.BigIntegerField(_("使用门槛（分）"), default=0, help_text=_("适用商品满多少可用，0 表示无门槛"))
    scope = models.CharField(_("适用范围"), max_length=16, choices=CouponScope.choices, default=CouponScope.ALL)
    category_ids = models.JSONField(_("适用类目"), default=list, blank=True)
    product_ids = models.JSONField(_("适用商品"), default=list, blank=True)
    valid_from = models.DateTimeField(_("生效时间"), null=True, blank=True)
    valid_until = models.DateTimeField(_("失效时间"), null=True, blank=True)
    valid_days = models.PositiveIntegerField(
        _("领取后有效天数"), default=0, help_text=_("大于 0 时按领取时间计算有效期")
    )
    claim_starts_at = models.DateTimeField(_("开始领取"), null=True, blank=True)
    claim_ends_at = models.DateTimeField(_("结束领取"), null=True, blank=True)
    total_quantity = models.PositiveIntegerField(_("发行总量"))
    issued = models.PositiveIntegerField(_("已发放"), default=0)
    used = models.PositiveIntegerField(_("已使用"), default=0)
    per_person_limit = models.PositiveIntegerField(_("每人限领"), default=1)
    new_member_only = models.BooleanField(_("仅限新人"), default=False)
    auto_issue_new_member = models.BooleanField(_("新人自动发放"), default=False)
    claimable = models.BooleanField(_("领券中心可领"), default=True)
    stack_with_coupons = models.BooleanField(_("可与其他券叠加"), default=False)
    stack_with_activity = models.BooleanField(_("可与活动价同享"), default=False)
    # Who may see, claim and use it: blank for everyone, else the name of a rule another app
    # registered (``coupons.register_audience``), e.g. community's "members of group 12".
    audience = models.CharField(_("适用人群"), max_length=32, blank=True, default="", editable=False)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("优惠券模板")
        verbose_name_plural = _("优惠券模板")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(issued__lte=models.F("total_quantity")), name="coupon_issued_le_total"
            ),
            models.CheckConstraint(condition=models.Q(used__lte=models.F("issued")), name="coupon_used_le_issued"),
            models.CheckConstraint(condition=models.Q(percent_off_bp__lte=10_000), name="coupon_percent_le_100"),
        ]

    def __str__(self) -> str:
        return self.name


class CouponStatus(models.TextChoices):
    UNUSED = "unused", _("未使用")
    USED = "used", _("已使用")
    EXPIRED = "expired", _("已过期")


class CouponSource(models.TextChoices):
    CLAIM = "claim", _("领取")
    ISSUE = "issue", _("运营发放")
    NEW_MEMBER = "new_member", _("新人礼")


class Coupon(models.Model):
    """One coupon a buyer holds. ``seq`` numbers a buyer's coupons of a template, so the
    per-person limit is a unique constraint and holds under concurrent claims."""

    template = models.ForeignKey(CouponTemplate, on_delete=models.PROTECT, related_name="coupons")
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="coupons")
    seq = models.PositiveIntegerField(default=1)
    status = models.CharField(_("状态"), max_length=16, choices=CouponStatus.choices, default=CouponStatus.UNUSED)
    source = models.CharField(_("来源"), max_length=16, choices=CouponSource.choices, default=CouponSource.CLAIM)
    valid_from = models.DateTimeField(_("生效时间"))
    valid_until = models.DateTimeField(_("失效时间"))
    order_id = models.BigIntegerField(_("使用订单"), null=True, blank=True)
    used_at = models.DateTimeField(_("使用时间"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("领取时间"))

    class Meta:
        verbose_name = _("优惠券")
        verbose_name_plural = _("优惠券")
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["template", "user", "seq"], name="coupon_per_person_seq")]
        indexes = [models.Index(fields=["user", "status", "valid_until"]), models.Index(fields=["order_id"])]


# --- flash sales --------------------------------------------------------------------------


class FlashSession(models.Model):
    name = models.CharField(_("场次"), max_length=64)
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    # A rolling session repeats its slot back to back: always live, with a countdown to the
    # end of the current slot (the demo's sale is on whenever the demo starts).
    rolling = models.BooleanField(_("循环场次"), default=False)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("秒杀场次")
        verbose_name_plural = _("秒杀场次")
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")), name="flash_session_span")
        ]

    def __str__(self) -> str:
        return self.name


class FlashItem(CampaignFlags):
    session = models.ForeignKey(FlashSession, on_delete=models.CASCADE, related_name="items")
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="+")
    flash_price = models.BigIntegerField(_("秒杀价（分）"))
    total_stock = models.PositiveIntegerField(_("秒杀库存"))
    # The source of truth for what is left; the Redis gate only turns losers away early.
    stock_left = models.PositiveIntegerField(_("剩余"))
    per_person_limit = models.PositiveIntegerField(_("每人限购"), default=1)
    sold_out_at = models.DateTimeField(_("售罄时间"), null=True, blank=True)
    sort = models.IntegerField(_("排序"), default=0)
    # Where the quota is set aside (reserved) from, and when what was left of it went back.
    location = models.ForeignKey(
        "inventory.Location", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    released_at = models.DateTimeField(_("库存已归还"), null=True, blank=True)

    class Meta:
        verbose_name = _("秒杀商品")
        verbose_name_plural = _("秒杀商品")
        ordering = ["sort", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(stock_left__lte=models.F("total_stock")), name="flash_stock_le_total"
            ),
            models.CheckConstraint(condition=models.Q(flash_price__gte=0), name="flash_price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.session} #{self.pk}"


class FlashQuota(models.Model):
    """How many units a buyer holds of an item: the per-person limit as a conditional update."""

    item = models.ForeignKey(FlashItem, on_delete=models.CASCADE, related_name="quotas")
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    bought = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["item", "user"], name="flash_quota_once")]


class FlashPurchaseStatus(models.TextChoices):
    RESERVED = "reserved", _("待付款")
    PAID = "paid", _("已付款")
    RETURNED = "returned", _("已退回库存")


class FlashPurchase(models.Model):
    item = models.ForeignKey(FlashItem, on_delete=models.CASCADE, related_name="purchases")
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    order_id = models.BigIntegerField(unique=True)
    quantity = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=FlashPurchaseStatus.choices, default=FlashPurchaseStatus.RESERVED)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("秒杀订单")
        verbose_name_plural = _("秒杀订单")
        ordering = ["-id"]


# --- 拼团 ----------------------------------------------------------------------------------


class GroupBuyCampaign(CampaignFlags):
    name = models.CharField(_("名称"), max_length=64)
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="+")
    group_price = models.BigIntegerField(_("拼团价（分）"))
    group_size = models.PositiveIntegerField(_("成团人数"))
    time_limit_hours = models.PositiveIntegerField(_("成团时限（小时）"), default=24)
    complete_percent = models.PositiveIntegerField(
        _("到期满多少比例也成团（%）"), default=0, help_text=_("0 表示必须满员")
    )
    leader_bonus = models.BigIntegerField(_("团长奖励（分）"), null=True, blank=True, help_text=_("留空用默认设置"))
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("拼团活动")
        verbose_name_plural = _("拼团活动")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(group_size__gte=2), name="group_size_at_least_two"),
            models.CheckConstraint(condition=models.Q(complete_percent__lte=100), name="group_percent_le_100"),
        ]

    def __str__(self) -> str:
        return self.name


class GroupStatus(models.TextChoices):
    PENDING = "pending", _("待团长付款")
    OPEN = "open", _("拼团中")
    COMPLETE = "complete", _("拼团成功")
    FAILED = "failed", _("拼团失败")
    CANCELLED = "cancelled", _("已取消")


class Group(models.Model):
    campaign = models.ForeignKey(GroupBuyCampaign, on_delete=models.PROTECT, related_name="groups")
    leader = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    share_code = models.CharField(max_length=16, unique=True)
    status = models.CharField(_("状态"), max_length=16, choices=GroupStatus.choices, default=GroupStatus.PENDING)
    size = models.PositiveIntegerField(_("成团人数"))
    seats_taken = models.PositiveIntegerField(_("已占座"), default=0)  # paid + awaiting payment
    paid_count = models.PositiveIntegerField(_("已付款"), default=0)
    created_at = models.DateTimeField(_("开团时间"), auto_now_add=True)
    expires_at = models.DateTimeField(_("截止时间"), null=True, blank=True)
    completed_at = models.DateTimeField(_("成团时间"), null=True, blank=True)
    failed_at = models.DateTimeField(_("失败时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("团")
        verbose_name_plural = _("团")
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "expires_at"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(seats_taken__lte=models.F("size")), name="group_seats_le_size"),
            models.CheckConstraint(
                condition=models.Q(paid_count__lte=models.F("seats_taken")), name="group_paid_le_seats"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} #{self.pk}"

    @property
    def seats_left(self) -> int:
        return self.size - self.seats_taken


class MemberStatus(models.TextChoices):
    PENDING = "pending", _("待付款")
    PAID = "paid", _("已付款")
    RELEASED = "released", _("未付款释放")
    REFUNDED = "refunded", _("已退款")


class GroupMember(models.Model):
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    order_id = models.BigIntegerField(null=True, blank=True, unique=True)
    is_leader = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=MemberStatus.choices, default=MemberStatus.PENDING)
    joined_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("团员")
        verbose_name_plural = _("团员")
        ordering = ["id"]
        constraints = [
            # One buyer once per group; a seat released unpaid does not count.
            models.UniqueConstraint(
                fields=["group", "user"], condition=~models.Q(status="released"), name="group_member_once"
            )
        ]


# --- bargain ------------------------------------------------------------------------------


class BargainCampaign(CampaignFlags):
    name = models.CharField(_("名称"), max_length=64)
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="+")
    floor_price = models.BigIntegerField(_("底价（分）"))
    helpers_needed = models.PositiveIntegerField(_("需要帮砍人数"))
    time_limit_hours = models.PositiveIntegerField(_("砍价时限（小时）"), default=24)
    allow_early_floor = models.BooleanField(_("允许提前砍到底价"), default=False)
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("砍价活动")
        verbose_name_plural = _("砍价活动")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(helpers_needed__gte=1), name="bargain_helpers_positive"),
            models.CheckConstraint(condition=models.Q(floor_price__gte=0), name="bargain_floor_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name


class BargainStatus(models.TextChoices):
    ACTIVE = "active", _("砍价中")
    FLOOR = "floor", _("已砍到底价")
    BOUGHT = "bought", _("已下单")
    EXPIRED = "expired", _("已过期")


class Bargain(models.Model):
    campaign = models.ForeignKey(BargainCampaign, on_delete=models.PROTECT, related_name="bargains")
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    original_price = models.BigIntegerField(_("原价"))
    floor_price = models.BigIntegerField(_("底价"))
    current_price = models.BigIntegerField(_("当前价"))
    helpers_needed = models.PositiveIntegerField(_("需要人数"))
    helper_count = models.PositiveIntegerField(_("已帮砍"), default=0)
    status = models.CharField(_("状态"), max_length=16, choices=BargainStatus.choices, default=BargainStatus.ACTIVE)
    order_id = models.BigIntegerField(_("订单"), null=True, blank=True)
    created_at = models.DateTimeField(_("发起时间"))
    expires_at = models.DateTimeField(_("截止时间"))
    floor_reached_at = models.DateTimeField(_("砍到底价时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("砍价")
        verbose_name_plural = _("砍价")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(current_price__gte=models.F("floor_price")), name="bargain_never_below_floor"
            ),
            # One running bargain per buyer per campaign.
            models.UniqueConstraint(
                fields=["campaign", "user"], condition=models.Q(status__in=["active", "floor"]), name="bargain_one_live"
            ),
        ]


class BargainHelp(models.Model):
    bargain = models.ForeignKey(Bargain, on_delete=models.CASCADE, related_name="helps")
    helper = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    amount = models.BigIntegerField(_("砍掉（分）"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("帮砍")
        verbose_name_plural = _("帮砍")
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["bargain", "helper"], name="bargain_help_once")]


# --- home page banners ----------------------------------------------------------------------

BLOCKED_LINK_PREFIXES = ("/console/", "/api/")


def validate_internal_link(value: str) -> None:
    """A banner links inside the storefront only: a path from the site root, never another site."""
    bad = (
        not value.startswith("/")
        or value.startswith("//")
        or "\\" in value
        or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in value)
        or value.startswith(BLOCKED_LINK_PREFIXES)
    )
    if bad:
        raise ValidationError(_("请填写站内页面路径，以 / 开头，例如 /flash/"), code="external_link")


def banner_image_path(instance: Banner, filename: str) -> str:
    return f"banners/{filename}"


class Banner(models.Model):
    """A slide of the home page carousel, shown while it is active and inside its window."""

    title = models.CharField(_("标题"), max_length=40)
    subtitle = models.CharField(_("副标题"), max_length=80, blank=True)
    image = models.ImageField(_("图片"), upload_to=banner_image_path, help_text=_("建议 1080×480，上传后裁成该比例"))
    link = models.CharField(
        _("链接"),
        max_length=200,
        validators=[validate_internal_link],
        help_text=_("站内页面路径，例如 /flash/、/groups/、/c/3/"),
    )
    sort = models.IntegerField(_("排序"), default=0, help_text=_("数字小的在前"))
    starts_at = models.DateTimeField(_("开始展示"), null=True, blank=True, help_text=_("留空表示立即"))
    ends_at = models.DateTimeField(_("结束展示"), null=True, blank=True, help_text=_("留空表示一直展示"))
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("首页轮播图")
        verbose_name_plural = _("首页轮播图")
        ordering = ["sort", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(starts_at__isnull=True)
                | models.Q(ends_at__isnull=True)
                | models.Q(ends_at__gt=models.F("starts_at")),
                name="banner_window_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("结束时间须晚于开始时间")})
