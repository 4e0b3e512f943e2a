"""Content commerce: posts, images, topics, tags, interactions, moderation words, reward rules and attribution."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ContentSettings(models.Model):
    """The operator-editable rules (one row; starts from ``conf.DEFAULTS``)."""

    attribution_days = models.PositiveSmallIntegerField(_("归因窗口（天）"), default=7)
    commission_bp = models.PositiveIntegerField(
        _("内容佣金（基点）"), default=500, help_text=_("万分比，500 = 5%；0 关闭")
    )
    commission_freeze_days = models.PositiveSmallIntegerField(_("佣金冻结期（天）"), default=7)
    reward_threshold = models.PositiveIntegerField(_("默认奖励互动数"), default=10)
    exclude_new_accounts = models.BooleanField(
        _("防刷：不计发帖后注册的账号"), default=True, help_text=_("自己的点赞与评论始终不计入")
    )
    comment_auto_approve = models.BooleanField(_("评论免审"), default=True)
    hot_window_days = models.PositiveSmallIntegerField(_("热门榜时间窗口（天）"), default=30)

    class Meta:
        verbose_name = _("内容设置")
        verbose_name_plural = _("内容设置")
        constraints = [
            models.CheckConstraint(condition=Q(commission_bp__lte=10000), name="content_commission_within_100pct"),
        ]

    def __str__(self) -> str:
        return str(_("内容设置"))


class PostForm(models.TextChoices):
    LIST = "list", _("清单")
    REVIEW = "review", _("测评")
    SHARE = "share", _("达人分享")
    KOL = "kol", _("种草")


class PostStatus(models.TextChoices):
    PENDING = "pending", _("待审核")
    APPROVED = "approved", _("已发布")
    REJECTED = "rejected", _("已驳回")
    TAKEN_DOWN = "taken_down", _("已下架")


class Tag(models.Model):
    name = models.CharField(_("名称"), max_length=20, unique=True)

    class Meta:
        verbose_name = _("标签")
        verbose_name_plural = _("标签")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Post(models.Model):
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="posts", verbose_name=_("作者")
    )
    by_operator = models.BooleanField(_("官方发布"), default=False)
    form = models.CharField(_("形式"), max_length=16, choices=PostForm.choices)
    title = models.CharField(_("标题"), max_length=80)
    body = models.TextField(_("正文（原文）"), blank=True)
    body_html = models.TextField(_("正文（已净化）"), blank=True)
    # A review's scores: [{"aspect": "口感", "score": 5}, ...] (1–5 each).
    scores = models.JSONField(_("评分"), default=list, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=PostStatus.choices, default=PostStatus.PENDING, db_index=True
    )
    reject_reason = models.CharField(_("驳回原因"), max_length=200, blank=True)
    flagged_words = models.JSONField(_("命中敏感词"), default=list, blank=True)
    pinned = models.BooleanField(_("置顶"), default=False)
    featured = models.BooleanField(_("精选"), default=False)
    tags = models.ManyToManyField(Tag, blank=True, related_name="posts", verbose_name=_("标签"))
    products: models.ManyToManyField[Any, Any] = models.ManyToManyField(
        "catalog.Product", through="PostProduct", related_name="posts", verbose_name=_("关联商品")
    )
    like_count = models.PositiveIntegerField(_("点赞"), default=0)
    favourite_count = models.PositiveIntegerField(_("收藏"), default=0)
    comment_count = models.PositiveIntegerField(_("评论"), default=0)
    share_count = models.PositiveIntegerField(_("分享"), default=0)
    view_count = models.PositiveIntegerField(_("浏览"), default=0)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("笔记")
        verbose_name_plural = _("笔记")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["status", "-published_at"]),
            models.Index(fields=["author", "-id"]),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def interaction_count(self) -> int:
        return self.like_count + self.comment_count + self.favourite_count + self.share_count


class PostProduct(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="product_links")
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="post_links")
    sort = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sort", "id"]
        constraints = [models.UniqueConstraint(fields=["post", "product"], name="post_product_once")]


def post_image_path(instance: PostImage, filename: str) -> str:
    return f"posts/{instance.uploader_id}/{filename}"


class PostImage(models.Model):
    """Uploaded (normalised) before the post exists; attached when the post is saved."""

    uploader = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    post = models.ForeignKey(Post, null=True, blank=True, on_delete=models.SET_NULL, related_name="images")
    image = models.ImageField(upload_to=post_image_path)
    sort = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("笔记图片")
        verbose_name_plural = _("笔记图片")
        ordering = ["sort", "id"]


class Topic(models.Model):
    """专题: an operator's theme grouping posts and products into one page."""

    title = models.CharField(_("标题"), max_length=40)
    intro = models.CharField(_("导语"), max_length=200, blank=True)
    cover_colour = models.CharField(_("封面色"), max_length=7, default="#ff4d2d")
    posts = models.ManyToManyField(Post, blank=True, related_name="topics", verbose_name=_("笔记"))
    products = models.ManyToManyField("catalog.Product", blank=True, related_name="topics", verbose_name=_("商品"))
    is_active = models.BooleanField(_("上线"), default=True)
    sort = models.IntegerField(_("排序"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("专题")
        verbose_name_plural = _("专题")
        ordering = ["-sort", "-id"]

    def __str__(self) -> str:
        return self.title


class Like(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="likes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "user"], name="like_once")]


class Favourite(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="favourites")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "user"], name="favourite_once")]
        indexes = [models.Index(fields=["user", "-id"])]


class CommentStatus(models.TextChoices):
    PENDING = "pending", _("待审核")
    APPROVED = "approved", _("已通过")
    REJECTED = "rejected", _("已驳回")


class Comment(models.Model):
    """Threaded one level: a reply's ``parent`` is always a top-level comment."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="comments", verbose_name=_("笔记"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies")
    body = models.CharField(_("内容"), max_length=500)
    status = models.CharField(
        _("状态"), max_length=16, choices=CommentStatus.choices, default=CommentStatus.PENDING, db_index=True
    )
    reject_reason = models.CharField(_("驳回原因"), max_length=200, blank=True)
    flagged_words = models.JSONField(_("命中敏感词"), default=list, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("评论")
        verbose_name_plural = _("评论")
        ordering = ["id"]
        indexes = [models.Index(fields=["post", "status"])]

    def __str__(self) -> str:
        return self.body[:30]


class PostShare(models.Model):
    """One sharer's link to one post; ``opens`` counts visits through it."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="shares")
    sharer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    opens = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "sharer"], name="share_once")]


class PostView(models.Model):
    """A signed-in buyer's views of a post: what attribution looks back on."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="views")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    share = models.ForeignKey(PostShare, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    views = models.PositiveIntegerField(default=1)
    first_viewed_at = models.DateTimeField()
    last_viewed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "user"], name="post_view_once")]
        indexes = [models.Index(fields=["user", "-last_viewed_at"])]


class Follow(models.Model):
    follower = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    creator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["follower", "creator"], name="follow_once"),
            models.CheckConstraint(condition=~Q(follower=models.F("creator")), name="follow_not_self"),
        ]


class BannedWordAction(models.TextChoices):
    REJECT = "reject", _("直接驳回")
    FLAG = "flag", _("转人工审核")


class BannedWord(models.Model):
    word = models.CharField(_("词"), max_length=40, unique=True)
    action = models.CharField(
        _("处理"), max_length=8, choices=BannedWordAction.choices, default=BannedWordAction.REJECT
    )
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("违禁词")
        verbose_name_plural = _("违禁词")
        ordering = ["word"]

    def __str__(self) -> str:
        return self.word


class RewardRule(models.Model):
    """When a post reaches ``threshold`` interactions, its creator gets a red packet and/or points, once."""

    name = models.CharField(_("名称"), max_length=40)
    threshold = models.PositiveIntegerField(
        _("互动数门槛"), default=10, help_text=_("不同用户的点赞 + 评论（不含作者本人）")
    )
    red_packet = models.PositiveBigIntegerField(_("红包（分）"), default=0)
    points = models.PositiveIntegerField(_("积分"), default=0)
    daily_budget = models.PositiveBigIntegerField(_("每日红包预算（分）"), default=0)
    daily_points_budget = models.PositiveBigIntegerField(_("每日积分预算"), default=0)
    budget_code = models.SlugField(
        _("红包预算代码"), max_length=40, default="content", help_text=_("会员积分 › 红包预算 中的代码")
    )
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("奖励规则")
        verbose_name_plural = _("奖励规则")
        ordering = ["threshold", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(red_packet__gt=0) | Q(points__gt=0), name="reward_rule_pays"),
            models.CheckConstraint(condition=Q(threshold__gte=1), name="reward_rule_threshold_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class RewardBudgetDay(models.Model):
    """What one rule has paid out on one day: spent only by a conditional update within the budget."""

    rule = models.ForeignKey(RewardRule, on_delete=models.CASCADE, related_name="days", verbose_name=_("规则"))
    day = models.DateField(_("日期"))
    spent = models.PositiveBigIntegerField(_("已发红包（分）"), default=0)
    spent_points = models.PositiveBigIntegerField(_("已发积分"), default=0)
    grants = models.PositiveIntegerField(_("发放次数"), default=0)

    class Meta:
        verbose_name = _("奖励预算（按日）")
        verbose_name_plural = _("奖励预算（按日）")
        ordering = ["-day", "rule_id"]
        constraints = [models.UniqueConstraint(fields=["rule", "day"], name="reward_budget_day_once")]


class RewardGrant(models.Model):
    rule = models.ForeignKey(RewardRule, on_delete=models.PROTECT, related_name="grants", verbose_name=_("规则"))
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="rewards", verbose_name=_("笔记"))
    creator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    day = models.DateField(_("日期"))
    red_packet = models.PositiveBigIntegerField(_("红包（分）"), default=0)
    points = models.PositiveIntegerField(_("积分"), default=0)
    red_packet_id = models.BigIntegerField(null=True, blank=True)
    interactions = models.PositiveIntegerField(_("达标时互动数"), default=0)
    created_at = models.DateTimeField(_("发放时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("奖励记录")
        verbose_name_plural = _("奖励记录")
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["rule", "post"], name="reward_once_per_rule_post")]


class AttributedLine(models.Model):
    """An order line bought within the window after opening a post about the product."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="attributed_lines")
    creator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    buyer_id = models.BigIntegerField()
    order_id = models.BigIntegerField(db_index=True)
    line_id = models.BigIntegerField(unique=True)
    product_id = models.BigIntegerField()
    quantity = models.PositiveIntegerField(default=1)
    paid_amount = models.BigIntegerField(_("实付"))
    refunded_amount = models.BigIntegerField(_("已退"), default=0)
    commission = models.BigIntegerField(_("内容佣金"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("归因订单行")
        verbose_name_plural = _("归因订单行")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(refunded_amount__lte=models.F("paid_amount")), name="attributed_refund_within_paid"
            ),
        ]


class ProductReview(models.Model):
    """A buyer's review of one completed order line: stars, and a 测评 post (text, photos) that
    goes through moderation and earns loyalty's review points like any other review."""

    order_line = models.OneToOneField(
        "orders.OrderLine", on_delete=models.CASCADE, related_name="+", verbose_name=_("订单商品")
    )
    post = models.OneToOneField(Post, on_delete=models.CASCADE, related_name="product_review", verbose_name=_("笔记"))
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="+", verbose_name=_("商品"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    stars = models.PositiveSmallIntegerField(_("星级"))
    created_at = models.DateTimeField(_("评价时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("商品评价")
        verbose_name_plural = _("商品评价")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["product", "-created_at"])]
        constraints = [models.CheckConstraint(condition=Q(stars__gte=1, stars__lte=5), name="review_stars_1_to_5")]

    def __str__(self) -> str:
        return f"{self.post.title} ({self.stars}★)"
