"""Batches (团期): the operator's batches and items, buying through the checkout pipeline, the
set-based cut-off job (pick lists, supplier summary) and the batch's status pipeline."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jishi.accounts.models import User
from jishi.catalog.models import Sku
from jishi.core import audit, events
from jishi.core.errors import Conflict, InvalidInput, NotFound
from jishi.core.sql import insert_once
from jishi.orders import services as orders
from jishi.orders.models import Order, OrderLine, OrderStatus
from jishi.orders.pipeline import ACTIVITY_PRICE, BaseStep, Checkout, register_step

from .conf import gb_setting
from .leaders import binding_of
from .models import (
    BATCH_TRANSITIONS,
    Batch,
    BatchItem,
    BatchQuota,
    BatchStatus,
    Leader,
    LeaderStatus,
    PickListLine,
    PickupOrder,
    PickupPoint,
    PickupStatus,
    PointLoad,
    SupplyLine,
)

if TYPE_CHECKING:
    from jishi.orders.pipeline import LineInfo


class BatchClosed(Conflict):
    code = "batch_closed"
    default_message = _("本期团购已截单")


class BatchSoldOut(Conflict):
    code = "sold_out"
    default_message = _("已售罄")


class PointFull(Conflict):
    code = "pickup_point_full"
    default_message = _("该自提点当天订单已满，请选择其他团长")


class BatchLimitReached(Conflict):
    code = "batch_limit_reached"
    default_message = _("已达到每人限购数量")


PAID_ORDER_STATUSES = [OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.COMPLETED, OrderStatus.REFUNDING]


# --- operator -----------------------------------------------------------------------


def create_batch(actor: User | None, data: dict[str, Any]) -> Batch:
    if data["cutoff_at"] <= data["sale_starts_at"]:
        raise InvalidInput(code="invalid_window", fields={"cutoff_at": [str(_("截单时间须晚于开售时间"))]})
    if data["pickup_date"] < data["delivery_date"]:
        raise InvalidInput(code="invalid_dates", fields={"pickup_date": [str(_("自提日期不能早于送达日期"))]})
    batch = Batch.objects.create(**data)
    audit.record(actor, "gb_batch.create", f"gb_batch:{batch.pk}")
    return batch


def add_item(actor: User | None, batch_id: int, data: dict[str, Any]) -> BatchItem:
    batch = Batch.objects.filter(pk=batch_id).first()
    if batch is None:
        raise NotFound()
    if batch.status != BatchStatus.OPEN:
        raise BatchClosed()
    sku = Sku.objects.filter(pk=data["sku_id"], is_active=True).first()
    if sku is None:
        raise InvalidInput(code="sku_unavailable", fields={"sku_id": [str(data["sku_id"])]})
    if not 0 < data["group_price"] <= sku.price:
        raise InvalidInput(code="group_price_above_price", fields={"group_price": [str(sku.price)]})
    try:
        with transaction.atomic():
            item = BatchItem.objects.create(
                batch=batch,
                sku=sku,
                group_price=data["group_price"],
                per_person_limit=data.get("per_person_limit") or 5,
                stock_total=data["stock"],
                stock_left=data["stock"],
                sort=data.get("sort") or 0,
            )
    except IntegrityError as exc:
        raise Conflict(_("该商品已在本期团购中"), code="item_exists", fields={"sku_id": [str(sku.pk)]}) from exc
    audit.record(actor, "gb_item.create", f"gb_item:{item.pk}", stock=item.stock_total)
    return item


def _transition(actor: User | None, batch_id: int, to: str) -> Batch:
    with transaction.atomic():
        batch = Batch.objects.select_for_update().filter(pk=batch_id).first()
        if batch is None:
            raise NotFound()
        if to not in BATCH_TRANSITIONS[batch.status]:
            raise Conflict(
                _("团期当前状态不允许此操作"), code="invalid_transition", fields={"status": [f"{batch.status} → {to}"]}
            )
        batch.status = to
        batch.save(update_fields=["status"])
        audit.record(actor, "gb_batch.status", f"gb_batch:{batch.pk}", status=to)
        events.publish("groupbuy.batch_status", {"batch_id": batch.pk, "status": to})
    return batch


def start_purchasing(actor: User | None, batch_id: int) -> Batch:
    return _transition(actor, batch_id, BatchStatus.PURCHASING)


def start_delivering(actor: User | None, batch_id: int) -> Batch:
    return _transition(actor, batch_id, BatchStatus.DELIVERING)


def close_batch(actor: User | None, batch_id: int) -> Batch:
    return _transition(actor, batch_id, BatchStatus.CLOSED)


# --- buying -------------------------------------------------------------------------


@dataclass(frozen=True)
class Purchase:
    """A batch purchase, put in ``checkout.options["groupbuy"]`` by :func:`buy` only: not JSON,
    so no request body can forge one."""

    batch_id: int
    leader_id: int
    cutoff_at: datetime
    now: datetime
    pickup_date: date
    capacity: int
    items: dict[int, tuple[int, int, int]] = field(default_factory=dict)  # sku → (item id, price, limit)


def purchase_of(checkout: Checkout) -> Purchase | None:
    value = checkout.options.get("groupbuy")
    return value if isinstance(value, Purchase) else None


def open_batch(batch_id: int, now: datetime) -> Batch:
    """The batch if it sells at ``now``: from its start to the cut-off (the cut-off itself refuses)."""
    batch = Batch.objects.filter(pk=batch_id).first()
    if batch is None:
        raise NotFound(code="batch_not_found")
    if batch.status != BatchStatus.OPEN or now >= batch.cutoff_at:
        raise BatchClosed(fields={"cutoff_at": [batch.cutoff_at.isoformat()]})
    if now < batch.sale_starts_at:
        raise Conflict(_("本期团购尚未开售"), code="batch_not_started")
    return batch


def buy(
    user: User,
    batch_id: int,
    lines: Sequence[tuple[int, int]],
    leader_id: int | None = None,
    now: datetime | None = None,
) -> Order:
    """Order batch items for pickup at the member's leader (bound, or ``leader_id`` chosen now)."""
    now = now or timezone.now()
    batch = open_batch(batch_id, now)
    if leader_id is None:
        binding = binding_of(user)
        if binding is None:
            raise InvalidInput(_("请先选择团长"), code="leader_required", fields={"leader_id": ["required"]})
        leader_id = binding.leader_id
    capacity = (
        PickupPoint.objects.filter(leader_id=leader_id, leader__status=LeaderStatus.APPROVED)
        .values_list("daily_capacity", flat=True)
        .first()
    )
    if capacity is None:
        raise NotFound(_("团长不存在或已暂停"), code="leader_unavailable", fields={"leader_id": [str(leader_id)]})
    wanted = [sku_id for sku_id, _q in lines]
    items = {
        sku_id: (pk, price, limit)
        for pk, sku_id, price, limit in BatchItem.objects.filter(batch=batch, sku_id__in=wanted).values_list(
            "pk", "sku_id", "group_price", "per_person_limit"
        )
    }
    purchase = Purchase(batch.pk, leader_id, batch.cutoff_at, now, batch.pickup_date, capacity, items)
    return orders.place_order(user, lines, None, {"groupbuy": purchase})


class GroupbuyStep(BaseStep):
    """Batch lines at the group price, collected at a pickup point (no address, no shipping fee);
    the batch's own stock and quotas are taken in the order's transaction."""

    code = "groupbuy"
    position = ACTIVITY_PRICE + 5

    def apply(self, checkout: Checkout) -> None:
        purchase = purchase_of(checkout)
        if purchase is None:
            return
        if checkout.options.get("activity") is not None:
            raise InvalidInput(code="activity_lines", fields={"lines": ["groupbuy"]})
        missing = [str(line.sku_id) for line in checkout.lines if line.sku_id not in purchase.items]
        if missing:
            raise InvalidInput(_("商品不在本期团购中"), code="not_in_batch", fields={"sku_id": missing})
        for line in checkout.lines:
            item_id, price, limit = purchase.items[line.sku_id]
            if line.quantity > limit:
                raise BatchLimitReached(fields={"quantity": [str(limit)]})
            line.unit_price = min(price, line.list_price)
            line.meta["groupbuy_item"] = item_id
        left = (purchase.cutoff_at - purchase.now).total_seconds() // 60
        checkout.meta.update(
            {
                "groupbuy": {"batch_id": purchase.batch_id, "leader_id": purchase.leader_id},
                "inventory": "external",  # the batch's own stock, bought from the supplier after cut-off
                "fulfilment_hold": "community_pickup",
            }
        )
        checkout.needs_address = False  # collected from the leader's pickup point
        checkout.shipping_override = 0
        checkout.pay_minutes = int(max(1, min(int(gb_setting("PAY_MINUTES")), left)))

    def commit(self, checkout: Checkout, order: Order) -> None:
        purchase = purchase_of(checkout)
        if purchase is not None:
            _take_stock(checkout.user.pk, sorted(checkout.lines, key=lambda line: line.meta["groupbuy_item"]))
            _take_point_load(purchase)
            _create_pickup(order, purchase)


def _take_point_load(purchase: Purchase) -> None:
    """One order more for the point's pickup day, refused at its daily capacity (conditional update)."""
    insert_once(
        PointLoad,
        {"leader": purchase.leader_id, "pickup_date": purchase.pickup_date, "orders": 0},
        conflict=["leader", "pickup_date"],
    )
    if not PointLoad.objects.filter(
        leader_id=purchase.leader_id, pickup_date=purchase.pickup_date, orders__lt=purchase.capacity
    ).update(orders=F("orders") + 1):
        raise PointFull(fields={"leader_id": [str(purchase.leader_id)]})


def _give_back_point_load(pickup: PickupOrder) -> None:
    PointLoad.objects.filter(leader_id=pickup.leader_id, pickup_date=pickup.batch.pickup_date, orders__gte=1).update(
        orders=F("orders") - 1
    )


def _take_stock(user_id: int, lines: list[LineInfo]) -> None:
    """Quota then stock per item, in item order, by conditional updates: never oversold."""
    for line in lines:
        item_id = line.meta["groupbuy_item"]
        insert_once(BatchQuota, {"item": item_id, "user": user_id, "bought": 0}, conflict=["item", "user"])
        limit = BatchItem.objects.filter(pk=item_id).values_list("per_person_limit", flat=True).first() or 0
        if not BatchQuota.objects.filter(item_id=item_id, user_id=user_id, bought__lte=limit - line.quantity).update(
            bought=F("bought") + line.quantity
        ):
            raise BatchLimitReached(fields={"sku_id": [str(line.sku_id)]})
    for line in lines:
        item_id = line.meta["groupbuy_item"]
        if not BatchItem.objects.filter(pk=item_id, stock_left__gte=line.quantity).update(
            stock_left=F("stock_left") - line.quantity
        ):
            raise BatchSoldOut(fields={"sku_id": [str(line.sku_id)]})


def _create_pickup(order: Order, purchase: Purchase) -> PickupOrder:
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return PickupOrder.objects.create(
                    order=order,
                    batch_id=purchase.batch_id,
                    leader_id=purchase.leader_id,
                    buyer_id=order.user_id,
                    code=f"{secrets.randbelow(10**8):08d}",
                )
        except IntegrityError as exc:  # a code clash: draw another
            if "code" not in str(exc):
                raise
    raise Conflict(code="code_exhausted")


def order_paid(order_id: int) -> None:
    """order.paid: the pickup is paid, unless the payment came at or after the cut-off (a buyer at
    the cashier as the batch closed): then the order is refunded whole, as it missed the pick list."""
    pickup = PickupOrder.objects.select_related("batch", "order").filter(order_id=order_id).first()
    if pickup is None:
        return
    order = pickup.order
    if order.paid_at is not None and order.paid_at >= pickup.batch.cutoff_at:
        with transaction.atomic():
            if PickupOrder.objects.filter(pk=pickup.pk, status=PickupStatus.AWAITING_PAYMENT).update(
                status=PickupStatus.REFUNDED
            ):
                # A handler's transaction: the provider is called once it commits.
                orders.refund_whole_order(order, str(_("截单后付款，自动退款")), execute=False)
        return
    PickupOrder.objects.filter(pk=pickup.pk, status=PickupStatus.AWAITING_PAYMENT).update(status=PickupStatus.PAID)


def give_back(order_id: int, lines: Sequence[tuple[int, int]] | None = None) -> int:
    """An unpaid order closed, or units refunded before the cut-off: stock and quota come back.

    ``lines`` (order line id, quantity) limits it to what was refunded; None means the whole order.
    Runs once per order line unit: the order line's refunded quantity is the record of what came back."""
    pickup = PickupOrder.objects.select_related("batch").filter(order_id=order_id).first()
    if pickup is None or pickup.batch.status != BatchStatus.OPEN:
        return 0
    quantities = dict(lines) if lines is not None else None
    returned = 0
    for line in OrderLine.objects.filter(order_id=order_id).order_by("id"):
        item_id = (line.meta or {}).get("groupbuy_item")
        quantity = line.quantity if quantities is None else quantities.get(line.pk, 0)
        if not item_id or quantity <= 0:
            continue
        BatchItem.objects.filter(pk=item_id).update(stock_left=F("stock_left") + quantity)
        BatchQuota.objects.filter(item_id=item_id, user_id=pickup.buyer_id, bought__gte=quantity).update(
            bought=F("bought") - quantity
        )
        returned += quantity
    return returned


def order_closed(order_id: int) -> None:
    with transaction.atomic():
        if PickupOrder.objects.filter(order_id=order_id, status=PickupStatus.AWAITING_PAYMENT).update(
            status=PickupStatus.CLOSED
        ):
            give_back(order_id)
            pickup = PickupOrder.objects.select_related("batch").get(order_id=order_id)
            if pickup.batch.status == BatchStatus.OPEN:
                _give_back_point_load(pickup)


def order_refunded(payload: dict[str, Any]) -> None:
    """A refund: units refunded before the cut-off go back on sale; a full refund ends the pickup."""
    with transaction.atomic():
        give_back(payload["order_id"], [(int(line["line_id"]), int(line["quantity"])) for line in payload["lines"]])
        if payload.get("full") or payload.get("all_units"):
            ended = PickupOrder.objects.filter(
                order_id=payload["order_id"], status__in=[PickupStatus.PAID, PickupStatus.READY]
            ).update(status=PickupStatus.REFUNDED)
            pickup = PickupOrder.objects.select_related("batch").filter(order_id=payload["order_id"]).first()
            if ended and pickup is not None and pickup.batch.status == BatchStatus.OPEN:
                _give_back_point_load(pickup)  # a whole order refunded before the cut-off frees its place


# --- the cut-off job ----------------------------------------------------------------


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def cut_off(batch_id: int, now: datetime | None = None) -> bool:
    """Stop selling and write every leader's pick list and the supplier summary.

    Set-based: a constant number of statements whatever the number of orders (the batch's
    status, two deletes and two ``INSERT … SELECT … GROUP BY``). Unpaid orders are left to
    the orders app's pay deadline, which the checkout set no later than the cut-off."""
    now = now or timezone.now()
    with transaction.atomic():
        moved = Batch.objects.filter(pk=batch_id, status=BatchStatus.OPEN, cutoff_at__lte=now).update(
            status=BatchStatus.CUT_OFF, cut_off_done_at=now
        )
        if not moved:
            return False
        cutoff = Batch.objects.filter(pk=batch_id).values_list("cutoff_at", flat=True)[0]
        # Orders paid before the cut-off whose order.paid event is still on its way count as paid.
        PickupOrder.objects.filter(
            batch_id=batch_id,
            status=PickupStatus.AWAITING_PAYMENT,
            order__status__in=PAID_ORDER_STATUSES,
            order__paid_at__lt=cutoff,
        ).update(status=PickupStatus.PAID)
        write_pick_lists(batch_id)
        events.publish("groupbuy.batch_status", {"batch_id": batch_id, "status": BatchStatus.CUT_OFF})
    return True


def write_pick_lists(batch_id: int) -> None:
    """Rebuild the batch's pick lists and supplier summary from its paid orders' remaining units."""
    pick, supply = _q(PickListLine._meta.db_table), _q(SupplyLine._meta.db_table)
    pickups, lines = _q(PickupOrder._meta.db_table), _q(OrderLine._meta.db_table)
    live = [PickupStatus.PAID, PickupStatus.READY, PickupStatus.COLLECTED]
    marks = ", ".join(["%s"] * len(live))
    source = (
        f"FROM {pickups} p JOIN {lines} l ON l.order_id = p.order_id "
        f"WHERE p.batch_id = %s AND p.status IN ({marks}) AND l.quantity > l.refunded_quantity "
    )
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {pick} WHERE batch_id = %s", [batch_id])  # noqa: S608
        cursor.execute(f"DELETE FROM {supply} WHERE batch_id = %s", [batch_id])  # noqa: S608
        cursor.execute(
            f"INSERT INTO {pick} (batch_id, leader_id, sku_id, product_name, quantity, orders) "
            "SELECT p.batch_id, p.leader_id, l.sku_id, MAX(l.product_name), "
            "SUM(l.quantity - l.refunded_quantity), COUNT(DISTINCT p.order_id) "
            f"{source}GROUP BY p.batch_id, p.leader_id, l.sku_id",
            [batch_id, *live],
        )
        cursor.execute(
            f"INSERT INTO {supply} (batch_id, sku_id, product_name, quantity, leaders) "
            "SELECT p.batch_id, l.sku_id, MAX(l.product_name), "
            "SUM(l.quantity - l.refunded_quantity), COUNT(DISTINCT p.leader_id) "
            f"{source}GROUP BY p.batch_id, l.sku_id",
            [batch_id, *live],
        )


def cut_off_due(now: datetime | None = None) -> int:
    """Periodic: every open batch whose cut-off has passed."""
    now = now or timezone.now()
    due = Batch.objects.filter(status=BatchStatus.OPEN, cutoff_at__lte=now).values_list("pk", flat=True)
    return sum(cut_off(pk, now) for pk in list(due))


# --- reading ------------------------------------------------------------------------


def live_batches(now: datetime | None = None) -> list[Batch]:
    now = now or timezone.now()
    return list(
        Batch.objects.filter(status=BatchStatus.OPEN, sale_starts_at__lte=now, cutoff_at__gt=now).order_by("cutoff_at")
    )


def batch_items(batch: Batch) -> list[BatchItem]:
    return list(BatchItem.objects.filter(batch=batch).select_related("sku__product").order_by("sort", "id"))


def pick_list(batch_id: int, leader_id: int) -> dict[str, Any]:
    """One leader's 分拣单: products × quantities and the buyers with their pickup codes."""
    leader = Leader.objects.select_related("point").filter(pk=leader_id).first()
    if leader is None:
        raise NotFound()
    products = list(PickListLine.objects.filter(batch_id=batch_id, leader_id=leader_id).order_by("sku_id"))
    buyers = [
        {
            "code": p.code,
            "order_number": p.order.number,
            "buyer": p.buyer.nickname or p.buyer.username,
            "phone_tail": (p.buyer.phone or "")[-4:],
            "status": p.status,
            "lines": [(line.product_name, line.quantity - line.refunded_quantity) for line in p.order.lines.all()],
        }
        for p in PickupOrder.objects.filter(
            batch_id=batch_id,
            leader_id=leader_id,
            status__in=[PickupStatus.PAID, PickupStatus.READY, PickupStatus.COLLECTED, PickupStatus.UNCOLLECTED],
        )
        .select_related("order", "buyer")
        .prefetch_related("order__lines")
        .order_by("code")
    ]
    return {"leader": leader, "point": leader.point, "products": products, "buyers": buyers}


def supplier_summary(batch_id: int) -> list[SupplyLine]:
    return list(SupplyLine.objects.filter(batch_id=batch_id).order_by("sku_id"))


def route_sheets(batch_id: int) -> list[dict[str, Any]]:
    """Per route: its stops in order, each with the leader's point and pick-list totals."""
    from .models import Route

    totals: dict[int, list[PickListLine]] = {}
    for line in PickListLine.objects.filter(batch_id=batch_id).order_by("leader_id", "sku_id"):
        totals.setdefault(line.leader_id, []).append(line)
    sheets: list[dict[str, Any]] = []
    for route in Route.objects.prefetch_related("stops__leader__point").order_by("id"):
        stops: list[dict[str, Any]] = [
            {"position": s.position, "leader": s.leader, "point": s.leader.point, "lines": totals.get(s.leader_id, [])}
            for s in route.stops.all()
        ]
        sheets.append({"route": route, "stops": stops, "units": sum(li.quantity for s in stops for li in s["lines"])})
    return sheets


def register() -> None:
    register_step(GroupbuyStep())
