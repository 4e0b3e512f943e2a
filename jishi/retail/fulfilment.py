"""The store order board: every fulfilment step, delivery slots, pickup codes and riders.

Each step publishes ``retail.fulfilment`` (order, buyer, store, status) so buyers are told;
leaving the shelf ships the order in ``orders`` (stock consumed at the store's location) and
handing it over completes it (points, levels, commissions follow from ``order.completed``).
"""

from __future__ import annotations

import secrets
from datetime import date, time
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from jishi.accounts.models import User
from jishi.core import audit, events
from jishi.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from jishi.orders import services as orders
from jishi.orders.models import Order, OrderStatus

from .conf import retail_setting
from .models import DeliverySlot, Fulfilment, FulfilmentMode, FulfilmentStatus, Store, StoreStaff
from .stores import require_staff

S = FulfilmentStatus
# The board as data: a move not listed here raises.
BOARD: dict[str, dict[str, set[str]]] = {
    FulfilmentMode.DELIVERY: {
        S.NEW: {S.PICKING},
        S.PICKING: {S.READY},
        S.READY: {S.OUT_FOR_DELIVERY},
        S.OUT_FOR_DELIVERY: {S.DELIVERED},
    },
    FulfilmentMode.PICKUP: {S.NEW: {S.PICKING}, S.PICKING: {S.READY_FOR_PICKUP}, S.READY_FOR_PICKUP: {S.PICKED_UP}},
    FulfilmentMode.OFFLINE: {S.NEW: {S.SOLD}},
}
FINAL = {S.DELIVERED, S.PICKED_UP, S.SOLD, S.CANCELLED}


class SlotFull(Conflict):
    code = "slot_full"
    default_message = _("该配送时段已约满")


def create_slot(store: Store, day: date, starts: time, ends: time, capacity: int) -> DeliverySlot:
    if ends <= starts or not 1 <= capacity <= 10_000:
        raise InvalidInput(code="invalid_slot", fields={"capacity": ["1..10000"], "ends": [str(ends)]})
    try:
        with transaction.atomic():
            return DeliverySlot.objects.create(store=store, date=day, starts=starts, ends=ends, capacity=capacity)
    except IntegrityError as exc:
        raise Conflict(_("该时段已存在"), code="slot_exists") from exc


def book_slot(slot_id: int) -> None:
    """One more order in the slot, or SlotFull: a conditional update, so a race cannot overbook."""
    if not DeliverySlot.objects.filter(pk=slot_id, booked__lt=F("capacity")).update(booked=F("booked") + 1):
        raise SlotFull(fields={"slot_id": [str(slot_id)]})


def _pickup_code() -> str:
    digits = retail_setting("PICKUP_CODE_DIGITS")
    return f"{secrets.randbelow(10**digits):0{digits}d}"


def open_fulfilment(order: Order, spec: dict[str, Any]) -> Fulfilment:
    """Inside the order's transaction: the board row, the slot booked, a pickup code drawn."""
    mode = spec["mode"]
    slot_id = spec.get("slot_id")
    if slot_id is not None:
        book_slot(int(slot_id))
    fields = {
        "order": order,
        "store_id": int(spec["store_id"]),
        "mode": mode,
        "slot_id": slot_id,
        "distance_m": int(spec.get("distance_m") or 0),
        "fee": int(spec.get("fee") or 0),
        "eta_minutes": int(spec.get("eta_minutes") or 0),
    }
    for attempt in range(5):
        code = _pickup_code() if mode == FulfilmentMode.PICKUP else ""
        try:
            with transaction.atomic():
                return Fulfilment.objects.create(pickup_code=code, **fields)
        except IntegrityError:
            if attempt == 4 or mode != FulfilmentMode.PICKUP:
                raise
    raise AssertionError("unreachable")


def _publish(f: Fulfilment, order: Order) -> None:
    events.publish(
        "retail.fulfilment",
        {
            "order_id": order.pk,
            "number": order.number,
            "user_id": order.user_id,
            "store_id": f.store_id,
            "mode": f.mode,
            "status": f.status,
            "pickup_code": f.pickup_code if f.status == S.READY_FOR_PICKUP else "",
        },
    )


def _move(f: Fulfilment, to: str, **fields: Any) -> None:
    if to not in BOARD[f.mode].get(f.status, set()):
        raise Conflict(_("当前进度不允许此操作"), code="invalid_transition", fields={"status": [f"{f.status} → {to}"]})
    if not Fulfilment.objects.filter(pk=f.pk, status=f.status).update(status=to, **fields):
        raise Conflict(_("进度已变化，请刷新"), code="fulfilment_changed")
    f.status = to
    for key, value in fields.items():
        setattr(f, key, value)


def staff_fulfilment(actor: User, order_id: int) -> Fulfilment:
    """A store order as one of the store's staff sees it; 404 for other stores' orders."""
    f = Fulfilment.objects.select_related("order", "store").filter(order_id=order_id).first()
    if f is None:
        raise NotFound()
    try:
        require_staff(actor, f.store_id)
    except Forbidden as exc:
        raise NotFound() from exc  # not even whether it exists
    return f


def advance(actor: User, order_id: int, to: str) -> Fulfilment:
    """Move a paid store order one step along the board (the buyer is told)."""
    f = staff_fulfilment(actor, order_id)
    if to == S.PICKED_UP:
        raise Conflict(_("自提须核销取货码"), code="pickup_code_required")
    return step(f, to, actor)


def step(f: Fulfilment, to: str, actor: User | None) -> Fulfilment:
    """One board move (staff checked by the caller; a courier callback has no actor)."""
    order = f.order
    if order.status not in (OrderStatus.PAID, OrderStatus.SHIPPED):
        raise Conflict(_("订单未付款或已结束"), code="order_not_fulfillable", fields={"status": [order.status]})
    with transaction.atomic():
        _move(f, to)
        if to == S.OUT_FOR_DELIVERY:
            tracking = f.courier_order_id or f"R{f.pk}"
            orders.ship_order(actor, order.pk, carrier=str(f.courier or _("门店配送")), tracking_number=tracking)  # type: ignore[arg-type]
        elif to == S.DELIVERED:
            order.refresh_from_db()
            orders.complete_order(order)
        audit.record(actor, "retail.fulfilment", f"order:{order.pk}", status=to)
        _publish(f, order)
    return f


def verify_pickup(actor: User, store_id: int, code: str) -> Fulfilment:
    """A clerk of ``store_id`` hands over the order whose pickup code the buyer shows."""
    require_staff(actor, store_id)
    f = (
        Fulfilment.objects.select_related("order")
        .filter(store_id=store_id, mode=FulfilmentMode.PICKUP, pickup_code=code)
        .exclude(status__in=[S.PICKED_UP, S.CANCELLED])
        .first()
    )
    if f is None:
        # Another store's code says nothing about that store: the same answer as a wrong code.
        raise NotFound(_("取货码无效"), code="pickup_code_invalid", fields={"code": [code]})
    if f.status != S.READY_FOR_PICKUP:
        raise Conflict(_("订单尚未备好"), code="pickup_not_ready", fields={"status": [f.status]})
    with transaction.atomic():
        _move(f, S.PICKED_UP)
        orders.ship_order(actor, f.order_id, carrier=str(_("到店自提")), tracking_number=code)
        order = Order.objects.get(pk=f.order_id)
        orders.complete_order(order)
        audit.record(actor, "retail.pickup", f"order:{order.pk}")
        _publish(f, order)
    return f


def assign_rider(actor: User, order_id: int, rider: User) -> Fulfilment:
    """Own staff deliver: the rider must work at the order's store."""
    f = staff_fulfilment(actor, order_id)
    if f.mode != FulfilmentMode.DELIVERY or f.status in FINAL:
        raise Conflict(_("该订单不能指派骑手"), code="rider_not_allowed")
    if not StoreStaff.objects.filter(store_id=f.store_id, user=rider).exists():
        raise InvalidInput(_("骑手须为本店员工"), code="rider_not_staff", fields={"rider_id": [str(rider.pk)]})
    Fulfilment.objects.filter(pk=f.pk).update(rider=rider)
    f.rider = rider
    audit.record(actor, "retail.rider", f"order:{f.order_id}", rider=rider.pk)
    return f


def cancel_for_order(order_id: int) -> bool:
    """The order closed or was refunded in full before leaving the store: free its slot."""
    with transaction.atomic():
        f = Fulfilment.objects.filter(order_id=order_id).exclude(status__in=list(FINAL)).first()
        if f is None or f.status in (S.OUT_FOR_DELIVERY,):
            return False
        if not Fulfilment.objects.filter(pk=f.pk, status=f.status).update(status=S.CANCELLED):
            return False
        if f.slot_id:
            DeliverySlot.objects.filter(pk=f.slot_id, booked__gt=0).update(booked=F("booked") - 1)
    return True


def board(store: Store, status: str | None = None, limit: int = 50) -> list[Fulfilment]:
    rows = (
        Fulfilment.objects.filter(store=store)
        .exclude(mode=FulfilmentMode.OFFLINE)
        .select_related("order", "slot", "rider")
        .exclude(order__status__in=[OrderStatus.PENDING_PAYMENT, OrderStatus.CLOSED])
    )
    if status:
        rows = rows.filter(status=status)
    return list(rows.order_by("-id")[:limit])
