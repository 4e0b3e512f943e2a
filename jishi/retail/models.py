"""Stores (each an inventory location), their staff, hours, delivery areas and slots; the
fulfilment of every store order; transfers and stock counts; offline (POS) sales."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from jishi.inventory.models import Location
from jishi.orders.models import Order


class StoreStatus(models.TextChoices):
    OPEN = "open", _("营业中")
    RESTING = "resting", _("休息中")
    CLOSED = "closed", _("已关店")


class AreaKind(models.TextChoices):
    RADIUS = "radius", _("半径")
    POLYGON = "polygon", _("多边形")


class Store(models.Model):
    location = models.OneToOneField(Location, on_delete=models.PROTECT, related_name="store")
    name = models.CharField(_("门店名称"), max_length=64)
    city = models.CharField(_("城市"), max_length=32, blank=True)
    address = models.CharField(_("地址"), max_length=200)
    latitude = models.FloatField(_("纬度"))
    longitude = models.FloatField(_("经度"))
    phone = models.CharField(_("电话"), max_length=20, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=StoreStatus.choices, default=StoreStatus.OPEN)
    delivery_enabled = models.BooleanField(_("同城配送"), default=True)
    pickup_enabled = models.BooleanField(_("到店自提"), default=True)
    area_kind = models.CharField(_("配送范围"), max_length=16, choices=AreaKind.choices, default=AreaKind.RADIUS)
    delivery_radius_m = models.PositiveIntegerField(_("配送半径（米）"), default=3000)
    polygon = models.JSONField(_("配送多边形"), default=list, blank=True)  # [[lat, lng], ...]
    # The box search needs one radius per store: a polygon's farthest vertex.
    reach_m = models.PositiveIntegerField(default=3000)
    fee_tiers = models.JSONField(_("阶梯运费"), default=list, blank=True)  # [{"up_to_m", "fee"}] ascending
    fee_per_km_beyond = models.BigIntegerField(_("超出每公里加价"), default=0)
    fee_cap = models.BigIntegerField(_("运费上限"), default=0)  # 0: no cap
    min_order_amount = models.BigIntegerField(_("起送金额"), default=0)
    prep_minutes = models.PositiveIntegerField(_("备货分钟"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("门店")
        verbose_name_plural = _("门店")
        ordering = ["id"]
        indexes = [models.Index(fields=["latitude", "longitude"], name="store_lat_lng")]
        constraints = [
            models.CheckConstraint(condition=models.Q(fee_per_km_beyond__gte=0), name="store_fee_per_km_ok"),
            models.CheckConstraint(condition=models.Q(fee_cap__gte=0), name="store_fee_cap_ok"),
            models.CheckConstraint(condition=models.Q(min_order_amount__gte=0), name="store_min_order_ok"),
        ]

    def __str__(self) -> str:
        return self.name


class StoreHours(models.Model):
    """Opening hours per weekday (0 Monday … 6 Sunday); a weekday without a row is closed."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(_("星期"))
    opens = models.TimeField(_("开门"))
    closes = models.TimeField(_("关门"))

    class Meta:
        verbose_name = _("营业时间")
        verbose_name_plural = _("营业时间")
        ordering = ["weekday"]
        constraints = [
            models.UniqueConstraint(fields=["store", "weekday"], name="store_hours_once"),
            models.CheckConstraint(condition=models.Q(weekday__lte=6), name="store_hours_weekday"),
            models.CheckConstraint(condition=models.Q(closes__gt=models.F("opens")), name="store_hours_order"),
        ]


class StoreHoliday(models.Model):
    """A date that overrides the weekday: closed, or special hours."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField(_("日期"))
    closed = models.BooleanField(_("休息"), default=True)
    opens = models.TimeField(_("开门"), null=True, blank=True)
    closes = models.TimeField(_("关门"), null=True, blank=True)
    note = models.CharField(_("说明"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("节假日")
        verbose_name_plural = _("节假日")
        constraints = [models.UniqueConstraint(fields=["store", "date"], name="store_holiday_once")]


def store_photo_path(instance: StorePhoto, filename: str) -> str:
    return f"stores/{instance.store_id}/{filename}"


class StorePhoto(models.Model):
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(_("图片"), upload_to=store_photo_path)
    sort = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("门店照片")
        verbose_name_plural = _("门店照片")
        ordering = ["sort", "id"]


class StaffRole(models.TextChoices):
    CLERK = "clerk", _("店员")
    MANAGER = "manager", _("店长")


class StoreStaff(models.Model):
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="staff")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="store_posts")
    role = models.CharField(_("岗位"), max_length=16, choices=StaffRole.choices, default=StaffRole.CLERK)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("店员")
        verbose_name_plural = _("店员")
        constraints = [models.UniqueConstraint(fields=["store", "user"], name="store_staff_once")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.store}"


class DeliverySlot(models.Model):
    """A delivery window with a capacity; ``booked`` only moves by a conditional update."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="slots")
    date = models.DateField(_("日期"))
    starts = models.TimeField(_("开始"))
    ends = models.TimeField(_("结束"))
    capacity = models.PositiveIntegerField(_("可约单数"))
    booked = models.PositiveIntegerField(_("已约"), default=0)

    class Meta:
        verbose_name = _("配送时段")
        verbose_name_plural = _("配送时段")
        ordering = ["date", "starts"]
        constraints = [
            models.UniqueConstraint(fields=["store", "date", "starts"], name="delivery_slot_once"),
            models.CheckConstraint(condition=models.Q(booked__lte=models.F("capacity")), name="slot_within_capacity"),
            models.CheckConstraint(condition=models.Q(ends__gt=models.F("starts")), name="slot_order"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.starts:%H:%M}–{self.ends:%H:%M}"


class FulfilmentMode(models.TextChoices):
    DELIVERY = "delivery", _("同城配送")
    PICKUP = "pickup", _("到店自提")
    OFFLINE = "offline", _("门店收银")


class FulfilmentStatus(models.TextChoices):
    NEW = "new", _("新订单")
    PICKING = "picking", _("拣货中")
    READY = "ready", _("待配送")
    OUT_FOR_DELIVERY = "out_for_delivery", _("配送中")
    DELIVERED = "delivered", _("已送达")
    READY_FOR_PICKUP = "ready_for_pickup", _("待自提")
    PICKED_UP = "picked_up", _("已自提")
    SOLD = "sold", _("已售出")
    CANCELLED = "cancelled", _("已取消")


class Fulfilment(models.Model):
    """How one store order reaches its buyer; the board moves it along ``BOARD`` in services."""

    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="fulfilment")
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="fulfilments")
    mode = models.CharField(_("方式"), max_length=16, choices=FulfilmentMode.choices)
    status = models.CharField(_("进度"), max_length=20, choices=FulfilmentStatus.choices, default=FulfilmentStatus.NEW)
    slot = models.ForeignKey(DeliverySlot, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    distance_m = models.PositiveIntegerField(_("距离（米）"), default=0)
    fee = models.BigIntegerField(_("配送费"), default=0)
    eta_minutes = models.PositiveIntegerField(_("预计分钟"), default=0)
    pickup_code = models.CharField(_("取货码"), max_length=12, blank=True)
    rider = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    courier = models.CharField(_("配送平台"), max_length=32, blank=True)
    courier_ref = models.CharField(max_length=40, blank=True)  # our fixed idempotency number
    courier_order_id = models.CharField(max_length=64, blank=True)
    courier_status = models.CharField(max_length=24, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("门店履约")
        verbose_name_plural = _("门店履约")
        ordering = ["-id"]
        indexes = [models.Index(fields=["store", "status"])]
        constraints = [
            models.UniqueConstraint(
                fields=["store", "pickup_code"],
                condition=models.Q(mode="pickup") & ~models.Q(status__in=["picked_up", "cancelled"]),
                name="open_pickup_code_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}:{self.status}"


class Transfer(models.Model):
    number = models.CharField(_("调拨单号"), max_length=24, unique=True)
    source = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+", verbose_name=_("调出"))
    target = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+", verbose_name=_("调入"))
    lines = models.JSONField(_("明细"), default=list)  # [[sku_id, quantity], ...]
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("调拨")
        verbose_name_plural = _("调拨")
        ordering = ["-id"]


class StockCount(models.Model):
    number = models.CharField(_("盘点单号"), max_length=24, unique=True)
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="counts")
    lines = models.JSONField(_("明细"), default=list)  # [{"sku_id", "counted", "before"}]
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("盘点")
        verbose_name_plural = _("盘点")
        ordering = ["-id"]


class Tender(models.TextChoices):
    CASH = "cash", _("现金")
    CARD = "card", _("银行卡")
    WALLET = "wallet", _("余额")
    QR = "sandbox", _("扫码支付")


class CounterSale(models.Model):
    """An offline sale rung up at a store's counter: the order is an ordinary one."""

    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="counter_sale")
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="counter_sales")
    clerk = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    tender = models.CharField(_("收款方式"), max_length=16, choices=Tender.choices)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("门店收银")
        verbose_name_plural = _("门店收银")
        ordering = ["-id"]


class MemberCodeUse(models.Model):
    """A member QR is good once: the unique nonce refuses a replay."""

    nonce = models.CharField(max_length=32, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    used_at = models.DateTimeField(auto_now_add=True)
