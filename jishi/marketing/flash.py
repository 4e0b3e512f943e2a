"""Flash sales (秒杀): sessions and items with their own stock, a gate that cannot oversell.

A buyer's attempt passes the per-buyer rate limit, then the gate (Redis script when
``REDIS_URL`` is set, a cheap database read otherwise), then ``place_order``, whose commit
takes the unit from ``FlashItem.stock_left`` and the buyer's quota by conditional updates:
the database is the source of truth either way.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jishi.accounts import services as accounts
from jishi.accounts.models import User
from jishi.core import audit, ratelimit
from jishi.core.errors import Conflict, InvalidInput, NotFound
from jishi.core.sql import insert_once
from jishi.inventory import services as inventory
from jishi.orders import services as orders
from jishi.orders.models import Order
from jishi.orders.pipeline import Checkout

from . import gate
from .conf import mkt_setting
from .models import FlashItem, FlashPurchase, FlashPurchaseStatus, FlashQuota, FlashSession
from .steps import Activity, register_committer


class FlashSoldOut(Conflict):
    code = "sold_out"
    default_message = _("已抢光")


class FlashLimitReached(Conflict):
    code = "flash_limit_reached"
    default_message = _("已达到每人限购数量")


def session_window(session: FlashSession, now: datetime) -> tuple[datetime, datetime]:
    """The slot of ``session`` that covers ``now`` (a rolling session repeats its slot)."""
    if not session.rolling or now < session.starts_at:
        return session.starts_at, session.ends_at
    span = session.ends_at - session.starts_at
    start = session.starts_at + span * ((now - session.starts_at) // span)
    return start, start + span


@dataclass(frozen=True)
class ItemInfo:
    """What the hot path needs about an item, cached in-process for a moment."""

    id: int
    sku_id: int
    flash_price: int
    per_person_limit: int
    session: FlashSession
    commission: bool
    points: bool


_cache: dict[int, tuple[float, ItemInfo]] = {}
_sold_out: dict[int, float] = {}  # item id → until when this process turns attempts away unread


def clear_cache() -> None:
    _cache.clear()
    _sold_out.clear()


def known_sold_out(item_id: int) -> bool:
    """True for a moment after this process saw the item sell out, or when the Redis gate has
    no units left: checked before the buyer's token is looked up, the cheapest refusal there is."""
    until = _sold_out.get(item_id)
    if until is not None and until > time.monotonic():
        return True
    if gate.enabled():
        left = gate.peek(item_id)
        if left is not None and left <= 0:
            _remember_sold_out(item_id)
            return True
    return False


def _remember_sold_out(item_id: int) -> None:
    ttl = mkt_setting("FLASH_SOLD_OUT_CACHE_SECONDS")
    if ttl:
        _sold_out[item_id] = time.monotonic() + ttl


def item_info(item_id: int) -> ItemInfo:
    ttl = mkt_setting("FLASH_ITEM_CACHE_SECONDS")
    hit = _cache.get(item_id)
    if hit and hit[0] > time.monotonic():
        return hit[1]
    item = (
        FlashItem.objects.select_related("session")
        .filter(pk=item_id, session__is_active=True, sku__is_active=True)
        .first()
    )
    if item is None:
        raise NotFound(code="flash_item_not_found")
    info = ItemInfo(
        item.pk, item.sku_id, item.flash_price, item.per_person_limit, item.session, item.commission, item.points
    )
    if ttl:
        _cache[item_id] = (time.monotonic() + ttl, info)
    return info


def default_address_id(user: User) -> int:
    """Campaign "buy now" needs an address at once: the default one, or a clear 422."""
    address_id = accounts.default_address_id(user)
    if address_id is None:
        raise InvalidInput(_("请先添加收货地址"), code="address_required", fields={"address_id": [str(_("必填"))]})
    return address_id


def buy(
    user: User,
    item_id: int,
    quantity: int,
    address_id: int | None = None,
    coupon_ids: list[int] | None = None,
    now: datetime | None = None,
) -> Order:
    """One attempt at a flash item: an order awaiting payment, or 409 ``sold_out``."""
    now = now or timezone.now()
    ratelimit.check(
        f"{mkt_setting('FLASH_REDIS_PREFIX')}:attempts:{user.pk}",
        mkt_setting("FLASH_ATTEMPTS_PER_WINDOW"),
        mkt_setting("FLASH_ATTEMPT_WINDOW_SECONDS"),
    )
    info = item_info(item_id)
    start, end = session_window(info.session, now)
    if now < start:
        raise Conflict(_("秒杀尚未开始"), code="flash_not_started")
    if now >= end:
        raise Conflict(_("秒杀已结束"), code="flash_ended")
    if quantity > info.per_person_limit:
        raise FlashLimitReached(fields={"quantity": [str(info.per_person_limit)]})
    use_gate = gate.enabled()
    if use_gate:
        admitted = gate.take(item_id, user.pk, quantity, info.per_person_limit)
        if admitted == gate.MISSING:  # Redis restarted or first attempt: rebuild from the database
            load_gate(item_id, force=False)
            admitted = gate.take(item_id, user.pk, quantity, info.per_person_limit)
        if admitted == gate.OVER_LIMIT:
            raise FlashLimitReached()
        if admitted != gate.ADMITTED:
            _remember_sold_out(item_id)
            raise FlashSoldOut()
    elif not FlashItem.objects.filter(pk=item_id, stock_left__gte=quantity).exists():
        _remember_sold_out(item_id)
        raise FlashSoldOut()
    activity = Activity(
        kind="flash",
        campaign_id=info.id,
        sku_id=info.sku_id,
        quantity=quantity,
        unit_price=info.flash_price,
        commission=info.commission,
        points=info.points,
        pay_minutes=mkt_setting("FLASH_PAY_MINUTES"),
        external_stock=True,
        ref={"session_id": info.session.pk, "per_person_limit": info.per_person_limit},
    )
    try:
        return orders.place_order(
            user,
            [(info.sku_id, quantity)],
            address_id or default_address_id(user),
            {"activity": activity, "coupon_ids": coupon_ids},
        )
    except FlashSoldOut:
        _remember_sold_out(item_id)
        if use_gate:
            gate.give_back(item_id, user.pk, quantity, restock=False)
            gate.mark_sold_out(item_id)
        raise
    except BaseException:
        if use_gate:
            gate.give_back(item_id, user.pk, quantity)
        raise


def _commit_purchase(activity: Activity, checkout: Checkout, order: Order) -> None:
    """In the order's transaction: the buyer's quota, then the item's stock, by conditional updates.

    The item's row is the one every buyer of the sale contends for, so it is updated last:
    its lock is held only from here to the commit.
    """
    item_id, quantity, user_id = activity.campaign_id, activity.quantity, checkout.user.pk
    insert_once(FlashQuota, {"item": item_id, "user": user_id, "bought": 0}, conflict=["item", "user"])
    room = activity.ref["per_person_limit"] - quantity
    if not FlashQuota.objects.filter(item_id=item_id, user_id=user_id, bought__lte=room).update(
        bought=F("bought") + quantity
    ):
        raise FlashLimitReached()
    FlashPurchase.objects.create(item_id=item_id, user_id=user_id, order_id=order.pk, quantity=quantity)
    left = FlashItem.objects.filter(pk=item_id, stock_left__gte=quantity).update(stock_left=F("stock_left") - quantity)
    if not left:
        raise FlashSoldOut()
    FlashItem.objects.filter(pk=item_id, stock_left=0, sold_out_at__isnull=True).update(sold_out_at=timezone.now())


register_committer("flash", _commit_purchase)


def purchase_paid(order_id: int) -> None:
    FlashPurchase.objects.filter(order_id=order_id, status=FlashPurchaseStatus.RESERVED).update(
        status=FlashPurchaseStatus.PAID
    )


def return_stock(order_id: int) -> bool:
    """An unpaid flash order closed (or was refunded): its units and the buyer's quota come back."""
    with transaction.atomic():
        purchase = FlashPurchase.objects.filter(order_id=order_id).exclude(status=FlashPurchaseStatus.RETURNED).first()
        if purchase is None:
            return False
        if not FlashPurchase.objects.filter(pk=purchase.pk, status=purchase.status).update(
            status=FlashPurchaseStatus.RETURNED
        ):
            return False
        item = FlashItem.objects.select_related("sku").get(pk=purchase.item_id)
        if item.released_at is None:
            FlashItem.objects.filter(pk=item.pk).update(stock_left=F("stock_left") + purchase.quantity)
        else:  # the sale is over and its quota went back to the warehouse: so does this unit
            inventory.release(
                [(item.sku_id, purchase.quantity)], reference=f"flash-item:{item.pk}", location_id=item.location_id
            )
        FlashQuota.objects.filter(
            item_id=purchase.item_id, user_id=purchase.user_id, bought__gte=purchase.quantity
        ).update(bought=F("bought") - purchase.quantity)
        _sold_out.pop(purchase.item_id, None)
        if gate.enabled():
            item_id, user_id, quantity = purchase.item_id, purchase.user_id, purchase.quantity
            transaction.on_commit(lambda: gate.give_back(item_id, user_id, quantity))
    return True


def release_ended_items(now: datetime | None = None) -> int:
    """Periodic: the unsold quota of items whose sale is over goes back to the warehouse, once."""
    now = now or timezone.now()
    ended = FlashItem.objects.filter(released_at__isnull=True).filter(
        Q(session__is_active=False) | Q(session__rolling=False, session__ends_at__lte=now)
    )
    released = 0
    for item_id in list(ended.values_list("id", flat=True)):
        with transaction.atomic():
            item = FlashItem.objects.select_for_update().filter(pk=item_id, released_at__isnull=True).first()
            if item is None:
                continue
            if item.stock_left:
                inventory.release(
                    [(item.sku_id, item.stock_left)], reference=f"flash-item:{item.pk}", location_id=item.location_id
                )
            FlashItem.objects.filter(pk=item.pk).update(released_at=now, stock_left=0)
            released += 1
    return released


def load_gate(item_id: int, *, force: bool) -> bool:
    """Put the database's counts into Redis (all of them when ``force``, else only if missing).

    Safe at any moment: attempts in flight can only leave the gate admitting too many,
    which the database's conditional updates then refuse.
    """
    stock = FlashItem.objects.filter(pk=item_id).values_list("stock_left", flat=True).first()
    if stock is None:
        return False
    bought = FlashQuota.objects.filter(item_id=item_id, bought__gt=0).values_list("user_id", "bought")
    return gate.load(item_id, stock, list(bought), force=force)


def reconcile_gate(now: datetime | None = None) -> int:
    """Rebuild the gate of every live or coming item from the database (periodic, after a restart)."""
    if not gate.enabled():
        return 0
    rebuilt = 0
    for item_id in _items_near(now or timezone.now()).values_list("id", flat=True):
        rebuilt += load_gate(item_id, force=True)
    return rebuilt


def _items_near(now: datetime) -> Any:
    horizon = now + timedelta(hours=24)
    return FlashItem.objects.filter(session__is_active=True).filter(
        Q(session__rolling=True, session__starts_at__lte=horizon)
        | Q(session__ends_at__gt=now, session__starts_at__lte=horizon)
    )


# --- reading ------------------------------------------------------------------------------


@dataclass
class SessionView:
    session: FlashSession
    starts_at: datetime
    ends_at: datetime
    live: bool
    items: list[FlashItem]


def current_sessions(now: datetime | None = None, hours_ahead: int = 24) -> list[SessionView]:
    """Sessions live now and those starting within ``hours_ahead``, with their items."""
    now = now or timezone.now()
    horizon = now + timedelta(hours=hours_ahead)
    sessions = FlashSession.objects.filter(is_active=True).filter(
        Q(rolling=True, starts_at__lte=horizon) | Q(ends_at__gt=now, starts_at__lte=horizon)
    )
    items = (
        FlashItem.objects.filter(session__in=sessions, sku__is_active=True)
        .select_related("sku__product")
        .order_by("sort", "id")
    )
    by_session: dict[int, list[FlashItem]] = {}
    for item in items:
        by_session.setdefault(item.session_id, []).append(item)
    views = []
    for session in sessions:
        start, end = session_window(session, now)
        views.append(SessionView(session, start, end, start <= now < end, by_session.get(session.pk, [])))
    views.sort(key=lambda v: (not v.live, v.starts_at, v.session.pk))
    return views


# --- operator -----------------------------------------------------------------------------


def create_session(actor: Any, data: dict[str, Any]) -> FlashSession:
    if data["ends_at"] <= data["starts_at"]:
        raise InvalidInput(code="invalid_session", fields={"ends_at": [str(_("结束时间须晚于开始时间"))]})
    session = FlashSession.objects.create(**data)
    audit.record(actor, "flash_session.create", f"flash_session:{session.pk}")
    return session


def add_item(actor: Any, session_id: int, data: dict[str, Any]) -> FlashItem:
    from jishi.catalog.models import Sku

    if not FlashSession.objects.filter(pk=session_id).exists():
        raise NotFound()
    sku = Sku.objects.filter(pk=data["sku_id"]).first()
    if sku is None:
        raise InvalidInput(code="sku_unavailable", fields={"sku_id": [str(data["sku_id"])]})
    if data["flash_price"] > sku.price:
        raise InvalidInput(code="flash_price_above_price", fields={"flash_price": [str(sku.price)]})
    with transaction.atomic():
        location = inventory.default_location()
        item = FlashItem.objects.create(
            session_id=session_id,
            sku=sku,
            flash_price=data["flash_price"],
            total_stock=data["stock"],
            stock_left=data["stock"],
            per_person_limit=data.get("per_person_limit", 1),
            commission=data.get("commission", mkt_setting("CAMPAIGN_COMMISSION")),
            points=data.get("points", mkt_setting("CAMPAIGN_POINTS")),
            sort=data.get("sort", 0),
            location=location,
        )
        # The quota is set aside from the warehouse: sold or not, it cannot be sold twice.
        try:
            if item.total_stock:
                inventory.reserve(
                    [(sku.pk, item.total_stock)], reference=f"flash-item:{item.pk}", location_id=location.pk
                )
        except Conflict as exc:
            raise InvalidInput(
                _("库存不足，无法设置秒杀库存"), code="insufficient_stock", fields={"stock": [str(item.total_stock)]}
            ) from exc
    audit.record(actor, "flash_item.create", f"flash_item:{item.pk}", stock=item.total_stock)
    if gate.enabled():
        load_gate(item.pk, force=True)
    return item
