"""Community group-buy (社区团购): leaders and pickup points, member bindings, daily batches with a
cut-off, pickup orders with codes, pick lists, supplier summaries, routes, deliveries and shortages."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from jishi.catalog.models import Sku
from jishi.orders.models import Order


class LeaderStatus(models.TextChoices):
    PENDING = "pending", _("待审核")
    APPROVED = "approved", _("已通过")
    REJECTED = "rejected", _("已拒绝")
    SUSPENDED = "suspended", _("已暂停")


class PointType(models.TextChoices):
    MOM = "mom", _("宝妈")
    CONVENIENCE = "convenience", _("便利店")
    PARCEL = "parcel", _("快递站")
    PROPERTY = "property", _("物业")
    STORE = "store", _("门店")


class LeaderLevel(models.Model):
    name = models.CharField(_("等级名称"), max_length=32)
    rank = models.PositiveSmallIntegerField(_("排序"), default=0, unique=True)
    rate_bp = models.PositiveIntegerField(_("佣金比例（基点）"), default=1000)

    class Meta:
        verbose_name = _("团长等级")
        verbose_name_plural = _("团长等级")
        ordering = ["rank"]
        constraints = [models.CheckConstraint(condition=models.Q(rate_bp__lte=10000), name="gb_level_rate_max")]

    def __str__(self) -> str:
        return self.name


class Leader(models.Model):
    """A 团长: the ID number is kept whole for the operators allowed to see it, shown masked to others."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="gb_leader")
    name = models.CharField(_("真实姓名"), max_length=32)
    phone = models.CharField(_("手机号"), max_length=20)
    id_number = models.CharField(_("身份证号"), max_length=18)
    status = models.CharField(
        _("状态"), max_length=16, choices=LeaderStatus.choices, default=LeaderStatus.PENDING, db_index=True
    )
    level = models.ForeignKey(
        LeaderLevel, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("等级")
    )
    share_code = models.CharField(_("分享码"), max_length=12, unique=True)
    reason = models.CharField(_("审核意见"), max_length=200, blank=True)
    applied_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("团长")
        verbose_name_plural = _("团长")
        ordering = ["-id"]
        permissions = [("view_leader_id_number", _("查看团长完整身份证号"))]

    def __str__(self) -> str:
        return self.name

    @property
    def id_number_masked(self) -> str:
        value = self.id_number
        return f"{value[:3]}{'*' * (len(value) - 7)}{value[-4:]}" if len(value) > 7 else "*" * len(value)

    @property
    def phone_masked(self) -> str:
        return f"{self.phone[:3]}****{self.phone[-4:]}" if len(self.phone) >= 7 else self.phone


class PickupPoint(models.Model):
    leader = models.OneToOneField(Leader, on_delete=models.CASCADE, related_name="point", verbose_name=_("团长"))
    name = models.CharField(_("自提点名称"), max_length=64)
    type = models.CharField(_("类型"), max_length=16, choices=PointType.choices)
    address = models.CharField(_("地址"), max_length=200)
    latitude = models.FloatField(_("纬度"))
    longitude = models.FloatField(_("经度"))
    hours = models.CharField(_("营业时间"), max_length=64, blank=True)
    daily_capacity = models.PositiveIntegerField(_("每日可接单量"), default=200)
    photos = models.JSONField(_("照片"), default=list, blank=True)

    class Meta:
        verbose_name = _("自提点")
        verbose_name_plural = _("自提点")
        indexes = [models.Index(fields=["latitude", "longitude"])]

    def __str__(self) -> str:
        return self.name


class ProductRate(models.Model):
    """A per-product leader commission rate that overrides the level's and the default."""

    product_id = models.BigIntegerField(_("商品"), unique=True)
    rate_bp = models.PositiveIntegerField(_("团长佣金比例（基点）"))

    class Meta:
        verbose_name = _("商品团长佣金")
        verbose_name_plural = _("商品团长佣金")
        constraints = [models.CheckConstraint(condition=models.Q(rate_bp__lte=10000), name="gb_product_rate_max")]


class BindingSource(models.TextChoices):
    CHOSEN = "chosen", _("自选")
    SHARE = "share", _("分享链接")


class MemberBinding(models.Model):
    """The leader a member collects from: one per member, changed only after the cool-down."""

    member = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="gb_binding")
    leader = models.ForeignKey(Leader, on_delete=models.PROTECT, related_name="members", verbose_name=_("团长"))
    source = models.CharField(_("来源"), max_length=16, choices=BindingSource.choices, default=BindingSource.CHOSEN)
    bound_at = models.DateTimeField(_("绑定时间"))

    class Meta:
        verbose_name = _("团员绑定")
        verbose_name_plural = _("团员绑定")


class BatchStatus(models.TextChoices):
    OPEN = "open", _("售卖中")
    CUT_OFF = "cut_off", _("已截单")
    PURCHASING = "purchasing", _("采购中")
    DELIVERING = "delivering", _("配送中")
    AT_POINTS = "at_points", _("已到自提点")
    CLOSED = "closed", _("已结束")


# The batch's pipeline as data: a transition not listed here raises.
BATCH_TRANSITIONS: dict[str, set[str]] = {
    BatchStatus.OPEN: {BatchStatus.CUT_OFF},
    BatchStatus.CUT_OFF: {BatchStatus.PURCHASING},
    BatchStatus.PURCHASING: {BatchStatus.DELIVERING},
    BatchStatus.DELIVERING: {BatchStatus.AT_POINTS},
    BatchStatus.AT_POINTS: {BatchStatus.CLOSED},
    BatchStatus.CLOSED: set(),
}


class Batch(models.Model):
    """A 团期: what sells until the cut-off, delivered to leaders on one day, collected on another."""

    name = models.CharField(_("团期名称"), max_length=64)
    status = models.CharField(
        _("状态"), max_length=16, choices=BatchStatus.choices, default=BatchStatus.OPEN, db_index=True
    )
    sale_starts_at = models.DateTimeField(_("开售时间"))
    cutoff_at = models.DateTimeField(_("截单时间"), db_index=True)
    delivery_date = models.DateField(_("送达团长日期"))
    pickup_date = models.DateField(_("自提日期"))
    cut_off_done_at = models.DateTimeField(_("截单处理时间"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("团期")
        verbose_name_plural = _("团期")
        ordering = ["-cutoff_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(cutoff_at__gt=models.F("sale_starts_at")), name="gb_batch_window")
        ]

    def __str__(self) -> str:
        return self.name


class BatchItem(models.Model):
    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="items", verbose_name=_("团期"))
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="+", verbose_name=_("商品规格"))
    group_price = models.BigIntegerField(_("团购价"))
    per_person_limit = models.PositiveIntegerField(_("每人限购"), default=5)
    stock_total = models.PositiveIntegerField(_("团期库存"))
    stock_left = models.PositiveIntegerField(_("剩余库存"))
    sort = models.IntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("团期商品")
        verbose_name_plural = _("团期商品")
        ordering = ["sort", "id"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "sku"], name="gb_item_once_per_batch"),
            models.CheckConstraint(condition=models.Q(stock_left__lte=models.F("stock_total")), name="gb_stock_left"),
            models.CheckConstraint(condition=models.Q(group_price__gt=0), name="gb_group_price_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.batch_id}:{self.sku_id}"


class BatchQuota(models.Model):
    """Units a member holds of one batch item: the per-person limit by conditional update."""

    item = models.ForeignKey(BatchItem, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    bought = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["item", "user"], name="gb_quota_once")]


class PointLoad(models.Model):
    """Orders a pickup point takes for one pickup day, held below its daily capacity by a
    conditional update in the order's transaction."""

    leader = models.ForeignKey(Leader, on_delete=models.CASCADE, related_name="+")
    pickup_date = models.DateField()
    orders = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["leader", "pickup_date"], name="gb_point_load_once")]


class PickupStatus(models.TextChoices):
    AWAITING_PAYMENT = "awaiting_payment", _("待付款")
    PAID = "paid", _("待配送")
    READY = "ready", _("待自提")
    COLLECTED = "collected", _("已自提")
    UNCOLLECTED = "uncollected", _("逾期未取")
    REFUNDED = "refunded", _("已退款")
    CLOSED = "closed", _("已关闭")


class PickupOrder(models.Model):
    """A batch order collected at a leader's pickup point with its code."""

    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="gb_pickup", verbose_name=_("订单"))
    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="orders", verbose_name=_("团期"))
    leader = models.ForeignKey(Leader, on_delete=models.PROTECT, related_name="orders", verbose_name=_("团长"))
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    code = models.CharField(_("提货码"), max_length=8, unique=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=PickupStatus.choices, default=PickupStatus.AWAITING_PAYMENT
    )
    verified_at = models.DateTimeField(_("核销时间"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("自提订单")
        verbose_name_plural = _("自提订单")
        ordering = ["-id"]
        indexes = [models.Index(fields=["batch", "leader", "status"]), models.Index(fields=["leader", "status"])]

    def __str__(self) -> str:
        return self.code


class PickListLine(models.Model):
    """分拣单: written by the cut-off job, one row per leader and SKU."""

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="pick_lines")
    leader = models.ForeignKey(Leader, on_delete=models.PROTECT, related_name="+", verbose_name=_("团长"))
    sku_id = models.BigIntegerField()
    product_name = models.CharField(_("商品"), max_length=120)
    quantity = models.PositiveIntegerField(_("数量"))
    orders = models.PositiveIntegerField(_("订单数"))

    class Meta:
        verbose_name = _("分拣单")
        verbose_name_plural = _("分拣单")
        ordering = ["leader_id", "sku_id"]
        constraints = [models.UniqueConstraint(fields=["batch", "leader", "sku_id"], name="gb_pick_line_once")]


class SupplyLine(models.Model):
    """Supplier purchase summary: one row per SKU of the batch, written by the cut-off job."""

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="supply_lines")
    sku_id = models.BigIntegerField()
    product_name = models.CharField(_("商品"), max_length=120)
    quantity = models.PositiveIntegerField(_("采购数量"))
    leaders = models.PositiveIntegerField(_("团长数"))

    class Meta:
        verbose_name = _("采购汇总")
        verbose_name_plural = _("采购汇总")
        ordering = ["sku_id"]
        constraints = [models.UniqueConstraint(fields=["batch", "sku_id"], name="gb_supply_line_once")]


class Route(models.Model):
    name = models.CharField(_("线路名称"), max_length=64)
    driver = models.CharField(_("司机"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("配送线路")
        verbose_name_plural = _("配送线路")

    def __str__(self) -> str:
        return self.name


class RouteStop(models.Model):
    route = models.ForeignKey(Route, on_delete=models.CASCADE, related_name="stops")
    leader = models.OneToOneField(Leader, on_delete=models.CASCADE, related_name="stop", verbose_name=_("团长"))
    position = models.PositiveSmallIntegerField(_("顺序"))

    class Meta:
        verbose_name = _("线路站点")
        verbose_name_plural = _("线路站点")
        ordering = ["route_id", "position"]
        constraints = [models.UniqueConstraint(fields=["route", "position"], name="gb_stop_position_once")]


class Delivery(models.Model):
    """A batch's goods received by one leader (with what was short)."""

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="deliveries", verbose_name=_("团期"))
    leader = models.ForeignKey(Leader, on_delete=models.PROTECT, related_name="deliveries", verbose_name=_("团长"))
    received_at = models.DateTimeField(_("签收时间"))
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("团长签收")
        verbose_name_plural = _("团长签收")
        constraints = [models.UniqueConstraint(fields=["batch", "leader"], name="gb_delivery_once")]


class Shortage(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="shortages")
    sku_id = models.BigIntegerField()
    product_name = models.CharField(_("商品"), max_length=120)
    quantity = models.PositiveIntegerField(_("缺货数量"))
    refunded_amount = models.BigIntegerField(_("已退款"), default=0)

    class Meta:
        verbose_name = _("缺货")
        verbose_name_plural = _("缺货")
        constraints = [models.UniqueConstraint(fields=["delivery", "sku_id"], name="gb_shortage_once")]


class ShortageRefund(models.Model):
    """The part of a shortage one order bears: planned with the receipt, refunded in its own
    transaction (``after_sale_id`` set then), resumed by a job if a crash fell in between."""

    shortage = models.ForeignKey(Shortage, on_delete=models.CASCADE, related_name="refunds")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="+")
    order_line_id = models.BigIntegerField()
    quantity = models.PositiveIntegerField()
    amount = models.BigIntegerField(default=0)
    after_sale_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shortage", "order"], name="gb_shortage_refund_once")]
