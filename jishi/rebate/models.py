"""Shopping-guide rebate (导购返佣): network sources, affiliate goods, tracked links, network orders
and the split rules. Money on these rows is a record of what the network reported and what was
credited; balances live in the ledger (through ``jishi.commission``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Network(models.TextChoices):
    TAOBAO = "taobao", _("淘宝联盟")
    PDD = "pdd", _("多多进宝")
    JD = "jd", _("京东联盟")


NETWORK_APPS = {Network.TAOBAO: _("淘宝"), Network.PDD: _("拼多多"), Network.JD: _("京东")}  # the apps buyers open


TAOBAO_OAUTH_URL = "https://oauth.taobao.com/authorize"  # the server-side flow's authorisation page


class RebateSource(models.Model):
    """One network account: credentials (the secret encrypted at rest), PID, and the sync watermark."""

    name = models.CharField(_("名称"), max_length=64)
    network = models.CharField(_("联盟"), max_length=8, choices=Network.choices)
    app_key = models.CharField(_("App Key"), max_length=64)
    secret_encrypted = models.TextField(_("密钥（加密）"), editable=False)
    pid = models.CharField(_("推广位 PID"), max_length=64, blank=True)
    endpoint = models.CharField(_("接口地址"), max_length=200)
    enabled = models.BooleanField(_("启用"), default=True)
    promotion_mode = models.BooleanField(_("大促模式（淘宝 20 分钟窗口）"), default=False)
    synced_until = models.DateTimeField(_("已同步至"), null=True, blank=True)
    refunds_until = models.DateTimeField(_("维权退款已同步至"), null=True, blank=True)
    last_run_at = models.DateTimeField(_("最近同步"), null=True, blank=True)
    last_success_at = models.DateTimeField(_("最近成功"), null=True, blank=True)
    last_error = models.CharField(_("最近错误"), max_length=500, blank=True)
    last_error_at = models.DateTimeField(_("错误时间"), null=True, blank=True)
    inviter_code = models.CharField(
        _("渠道邀请码（淘宝）"), max_length=32, blank=True, help_text=_("淘宝联盟渠道管理的邀请码，用于买家渠道备案")
    )
    oauth_url = models.CharField(
        _("买家授权地址（淘宝）"),
        max_length=200,
        blank=True,
        default=TAOBAO_OAUTH_URL,
        help_text=_("网页版领券时买家跳转此地址授权淘宝账号（OAuth 2.0），留空则只接受 App 授权"),
    )
    goods_keywords = models.CharField(
        _("选品关键词"), max_length=500, blank=True, help_text=_("逗号分隔；定时从联盟搜索带券商品")
    )
    goods_refreshed_at = models.DateTimeField(_("商品刷新时间"), null=True, blank=True)
    goods_error = models.CharField(_("商品刷新错误"), max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("联盟账号")
        verbose_name_plural = _("联盟账号")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.get_network_display()} · {self.name}"


class RebateSplit(models.Model):
    """Per network: the buyer's (自购) and the promoter's (分享) share of the net commission."""

    network = models.CharField(_("联盟"), max_length=8, choices=Network.choices, unique=True)
    buyer_bp = models.PositiveIntegerField(_("自购比例（基点）"), default=5000)
    promoter_bp = models.PositiveIntegerField(_("分享比例（基点）"), default=2000)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("返佣比例")
        verbose_name_plural = _("返佣比例")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(buyer_bp__lte=10000 - models.F("promoter_bp")), name="rebate_split_within_100"
            ),
        ]

    def __str__(self) -> str:
        return str(self.get_network_display())


class RebateGoods(models.Model):
    """An affiliate item with its coupon. Image URLs are data shown to browsers, never fetched by us."""

    network = models.CharField(_("联盟"), max_length=8, choices=Network.choices)
    item_id = models.CharField(_("商品编号"), max_length=64)
    title = models.CharField(_("标题"), max_length=200)
    image_urls = models.JSONField(_("图片地址"), default=list, blank=True)
    category = models.CharField(_("类目"), max_length=32, blank=True, db_index=True)
    shop_name = models.CharField(_("店铺"), max_length=100, blank=True)
    price = models.BigIntegerField(_("原价（分）"))
    coupon_amount = models.BigIntegerField(_("券面额（分）"), default=0)
    coupon_threshold = models.BigIntegerField(_("用券门槛（分）"), default=0)
    coupon_start = models.DateTimeField(_("券开始"), null=True, blank=True)
    coupon_end = models.DateTimeField(_("券结束"), null=True, blank=True)
    coupon_remaining = models.PositiveIntegerField(_("券剩余"), default=0)
    commission_rate_bp = models.PositiveIntegerField(_("佣金比例（基点）"), default=0)
    sales = models.PositiveIntegerField(_("销量"), default=0)
    item_url = models.CharField(_("商品链接"), max_length=500, blank=True)
    coupon_url = models.CharField(_("领券链接"), max_length=500, blank=True)
    is_active = models.BooleanField(_("上架"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("返佣商品")
        verbose_name_plural = _("返佣商品")
        ordering = ["-sales", "id"]
        constraints = [models.UniqueConstraint(fields=["network", "item_id"], name="rebate_goods_once")]
        indexes = [models.Index(fields=["network", "is_active", "-sales"])]

    def __str__(self) -> str:
        return self.title

    @property
    def app_name(self) -> str:
        return str(NETWORK_APPS[Network(self.network)])


class GoodsSearchTerm(models.Model):
    """The goods' search index, built by the catalogue's ``terms_for`` (words, characters, pinyin)."""

    goods = models.ForeignKey(RebateGoods, on_delete=models.CASCADE, related_name="search_terms")
    term = models.CharField(max_length=64)
    weight = models.PositiveSmallIntegerField(default=1)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["goods", "term"], name="rebate_search_term_once")]
        indexes = [models.Index(fields=["term"])]


class TrackedLink(models.Model):
    """A buyer's own tracking id on one network (relation_id / custom_parameters uid / subUnionId)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="rebate_links")
    network = models.CharField(_("联盟"), max_length=8, choices=Network.choices)
    tracking_id = models.CharField(_("跟踪编号"), max_length=64)
    share_code = models.CharField(_("口令"), max_length=16, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("推广链接")
        verbose_name_plural = _("推广链接")
        constraints = [
            models.UniqueConstraint(fields=["user", "network"], name="rebate_link_per_user"),
            models.UniqueConstraint(fields=["network", "tracking_id"], name="rebate_tracking_once"),
        ]

    def __str__(self) -> str:
        return f"{self.network}:{self.tracking_id}"


class RegistrationState(models.TextChoices):
    PENDING = "pending", _("备案中")
    AWAITING_BUYER = "awaiting_buyer", _("待买家授权")
    DONE = "done", _("已备案")
    FAILED = "failed", _("备案失败")


class LinkRegistration(models.Model):
    """A buyer's registration (备案) on a network that needs one before its tracking id counts:
    Taobao's channel ``relation_id`` (``taobao.tbk.sc.publisher.info.save``), Pinduoduo's member
    authority for ``custom_parameters`` (``pdd.ddk.rp.prom.url.generate`` with ``channel_type`` 10).
    Written as an intent before the network is called and settled after, so a crash in between
    leaves a row the resume job finishes."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="rebate_registrations")
    network = models.CharField(_("联盟"), max_length=8, choices=Network.choices)
    source = models.ForeignKey(RebateSource, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    state = models.CharField(_("状态"), max_length=16, choices=RegistrationState.choices)
    uid = models.CharField(_("自定义参数 uid"), max_length=32)
    external_id = models.CharField(_("联盟编号（relation_id）"), max_length=64, blank=True)
    authorize_url = models.CharField(_("买家授权链接"), max_length=500, blank=True)
    session_encrypted = models.TextField(_("买家授权（加密）"), blank=True, editable=False)
    attempts = models.PositiveIntegerField(_("尝试次数"), default=0)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(_("最近错误"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("买家备案")
        verbose_name_plural = _("买家备案")
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["user", "network"], name="rebate_registration_per_user")]
        indexes = [models.Index(fields=["state", "updated_at"])]

    def __str__(self) -> str:
        return f"{self.network}:{self.uid}"


class OrderStatus(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", _("待付款")
    PAID = "paid", _("已付款")
    CONFIRMED = "confirmed", _("已收货")
    SETTLED = "settled", _("已结算")
    INVALID = "invalid", _("已失效")
    REFUNDED = "refunded", _("已退款")
    PENALISED = "penalised", _("违规处罚")
    UNKNOWN = "unknown", _("未知状态")


class CreditState(models.TextChoices):
    NONE = "none", _("未入账")
    PENDING = "pending", _("待结算")
    AVAILABLE = "available", _("已到账")
    REVERSED = "reversed", _("已扣回")


class ReviewState(models.TextChoices):
    MATCHED = "matched", _("已匹配")
    PENDING = "pending", _("待认领")
    DISMISSED = "dismissed", _("已忽略")


class NetworkOrder(models.Model):
    """One order line as the network reports it, once per (network, order, sub-order)."""

    source = models.ForeignKey(RebateSource, null=True, blank=True, on_delete=models.SET_NULL, related_name="orders")
    network = models.CharField(_("联盟"), max_length=8, choices=Network.choices)
    order_id = models.CharField(_("订单号"), max_length=64)
    sub_order_id = models.CharField(_("子订单号"), max_length=64)
    item_id = models.CharField(_("商品编号"), max_length=64, blank=True)
    item_title = models.CharField(_("商品"), max_length=200, blank=True)
    paid_amount = models.BigIntegerField(_("付款金额（分）"), default=0)
    commission_estimate = models.BigIntegerField(_("预估佣金（分）"), default=0)
    commission_actual = models.BigIntegerField(_("结算佣金（分）"), null=True, blank=True)
    service_fee = models.BigIntegerField(_("服务费（分）"), default=0)
    status = models.CharField(_("状态"), max_length=16, choices=OrderStatus.choices)
    raw_status = models.CharField(_("联盟状态码"), max_length=16)
    tracking_id = models.CharField(_("跟踪编号"), max_length=64, blank=True, db_index=True)
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="rebate_orders"
    )
    promoter = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    review = models.CharField(_("认领"), max_length=12, choices=ReviewState.choices, default=ReviewState.MATCHED)
    credit = models.CharField(_("返利"), max_length=12, choices=CreditState.choices, default=CreditState.NONE)
    base_amount = models.BigIntegerField(_("计返金额（分）"), default=0)
    buyer_share = models.BigIntegerField(_("自购返利（分）"), default=0)
    promoter_share = models.BigIntegerField(_("分享返利（分）"), default=0)
    platform_share = models.BigIntegerField(_("平台留存（分）"), default=0)
    reversed_amount = models.BigIntegerField(_("已扣回（分）"), default=0)
    commission_refunded = models.BigIntegerField(_("维权退回佣金（分）"), default=0)
    ordered_at = models.DateTimeField(_("下单时间"), null=True, blank=True)
    network_updated_at = models.DateTimeField(_("联盟更新时间"), null=True, blank=True)
    settled_at = models.DateTimeField(_("结算时间"), null=True, blank=True)
    settle_month = models.CharField(_("结算月份"), max_length=7, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("联盟订单")
        verbose_name_plural = _("联盟订单")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["network", "order_id", "sub_order_id"], name="rebate_order_once"),
        ]
        indexes = [
            models.Index(fields=["buyer", "-id"]),
            models.Index(fields=["review", "-id"]),
        ]

    def __str__(self) -> str:
        return f"{self.network}:{self.order_id}/{self.sub_order_id}"

    @property
    def app_name(self) -> str:
        return str(NETWORK_APPS[Network(self.network)])


class UnmatchedOrder(NetworkOrder):
    """The review queue: orders whose tracking id matched no buyer (a console page of its own)."""

    class Meta:
        proxy = True
        verbose_name = _("待认领订单")
        verbose_name_plural = _("待认领订单")


class AnomalyKind(models.TextChoices):
    STATUS_BACKWARDS = "status_backwards", _("状态倒退")
    CHANGED_AFTER_SETTLEMENT = "changed_after_settlement", _("结算后佣金变动")
    UNKNOWN_STATUS = "unknown_status", _("未知状态码")
    SETTLED_ABOVE_ESTIMATE = "settled_above_estimate", _("结算佣金高于预估")
    REFUND_CHANGED = "refund_changed", _("维权金额变动")
    PENALTY_LIFTED = "penalty_lifted", _("处罚解冻")


class OrderAnomaly(models.Model):
    """Something a report said that the rebate life cycle refused to follow, listed once."""

    order = models.ForeignKey(NetworkOrder, on_delete=models.CASCADE, related_name="anomalies")
    kind = models.CharField(_("类型"), max_length=32, choices=AnomalyKind.choices)
    detail = models.CharField(_("说明"), max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("异常")
        verbose_name_plural = _("异常")
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["order", "kind", "detail"], name="rebate_anomaly_once")]


class SyncRun(models.Model):
    """One pass of a source's sync job: how far it got, how many pages and rows, what failed."""

    source = models.ForeignKey(RebateSource, on_delete=models.CASCADE, related_name="runs")
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    window_start = models.DateTimeField(null=True, blank=True)
    window_end = models.DateTimeField(null=True, blank=True)
    windows = models.PositiveIntegerField(default=0)
    pages = models.PositiveIntegerField(default=0)
    rows = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name = _("同步记录")
        verbose_name_plural = _("同步记录")
        ordering = ["-id"]


class AdjustmentKind(models.TextChoices):
    REFUND = "refund", _("维权退款")
    PENALTY = "penalty", _("违规处罚")


class OrderAdjustment(models.Model):
    """One refund (维权) case or penalty the network reported against an order line, applied once.

    Kept even when the order is not known yet (or not yet credited): it is applied when it is."""

    source = models.ForeignKey(RebateSource, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    network = models.CharField(_("联盟"), max_length=8, choices=Network.choices)
    kind = models.CharField(_("类型"), max_length=8, choices=AdjustmentKind.choices)
    key = models.CharField(_("联盟编号"), max_length=128)
    network_order_id = models.CharField(_("订单号"), max_length=64, blank=True)
    sub_order_id = models.CharField(_("子订单号"), max_length=64)
    order = models.ForeignKey(NetworkOrder, null=True, blank=True, on_delete=models.CASCADE, related_name="adjustments")
    raw_status = models.CharField(_("联盟状态码"), max_length=16)
    commission_refund = models.BigIntegerField(_("应退佣金（分）"), default=0)
    refund_fee = models.BigIntegerField(_("维权金额（分）"), default=0)
    applied_amount = models.BigIntegerField(_("已扣回佣金（分）"), default=0)
    applied_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    reported_at = models.DateTimeField(_("联盟时间"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("维权与处罚")
        verbose_name_plural = _("维权与处罚")
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["network", "kind", "key"], name="rebate_adjustment_once")]
        indexes = [models.Index(fields=["applied_at", "kind"])]

    def __str__(self) -> str:
        return f"{self.kind}:{self.key}"
