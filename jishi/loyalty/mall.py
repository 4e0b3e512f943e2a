"""The points mall: items for points (+ cash) sold as normal orders, with stock and per-person limits.

A redemption is an ordinary order of the item's SKU priced by the mall step (cash part as the
unit price, free shipping if the item says so); the step's commit takes mall stock and the
buyer's quota by conditional updates and spends the points, all in the order's transaction.
Points-only orders are paid at once (nothing to pay); the rest go through the normal payment.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jishi.accounts import services as accounts
from jishi.core.errors import Conflict, InvalidInput, NotFound
from jishi.core.sql import insert_once
from jishi.orders import services as orders
from jishi.orders.models import Order
from jishi.payments.services import pay_with_wallet

from . import earning, points
from .models import MallItem, MallQuota, MallRedemption, RedemptionStatus

MAX_QUANTITY = 99


class SoldOut(Conflict):
    code = "mall_sold_out"
    default_message = gettext_lazy("已兑完")


class LimitReached(Conflict):
    code = "mall_limit_reached"
    default_message = gettext_lazy("已达到每人兑换上限")


def available_items() -> list[MallItem]:
    return list(MallItem.objects.filter(is_active=True).select_related("sku__product").order_by("sort", "id"))


def get_item(item_id: int) -> MallItem:
    item = MallItem.objects.filter(pk=item_id, is_active=True).select_related("sku__product").first()
    if item is None:
        raise NotFound(_("兑换商品不存在或已下架"), code="mall_item_not_found")
    return item


def redeemed_by(user_id: int, item_id: int) -> int:
    return int(MallQuota.objects.filter(user_id=user_id, item_id=item_id).values_list("count", flat=True).first() or 0)


def _check_quantity(quantity: int) -> None:
    if not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidInput(fields={"quantity": [f"1..{MAX_QUANTITY}"]})


def redeem(user: Any, item_id: int, quantity: int = 1, address_id: int | None = None, remark: str = "") -> Order:
    """Redeem ``quantity`` of an item: a normal order (paid at once when there is no cash part)."""
    _check_quantity(quantity)
    item = get_item(item_id)
    # Friendly refusals first; the commit re-checks every one of them atomically.
    if item.stock < quantity:
        raise SoldOut()
    if item.per_person_limit and redeemed_by(user.pk, item.pk) + quantity > item.per_person_limit:
        raise LimitReached(fields={"quantity": [str(max(item.per_person_limit - redeemed_by(user.pk, item.pk), 0))]})
    if points.balance(user.pk) < item.points * quantity:
        raise points.InsufficientPoints(fields={"points": [str(points.balance(user.pk))]})
    if address_id is None:
        address_id = accounts.default_address_id(user)
    options = {"points_mall": {"item_id": item.pk, "quantity": quantity}, "coupon_ids": [], "use_points": 0}
    with transaction.atomic():
        order = orders.place_order(user, [(item.sku_id, quantity)], address_id, options, remark)
        if order.payable == 0:
            pay_with_wallet(user, order.pk)
            order.refresh_from_db()
    return order


# --- pipeline side (called by steps.MallStep) ------------------------------------------


def price_checkout(checkout: Any) -> None:
    spec = checkout.options.get("points_mall")
    if not spec:
        return
    item = get_item(int(spec["item_id"]))
    quantity = int(spec.get("quantity") or 0)
    if len(checkout.lines) != 1 or checkout.lines[0].sku_id != item.sku_id or checkout.lines[0].quantity != quantity:
        raise InvalidInput(code="mall_lines_mismatch")
    line = checkout.lines[0]
    line.unit_price = item.cash
    line.meta["points_mall"] = item.pk
    total_points = item.points * quantity
    checkout.meta["points_mall"] = {
        "item_id": item.pk,
        "quantity": quantity,
        "points": total_points,
        "cash": item.cash * quantity,
    }
    # Mall goods earn no points and pay no commission.
    checkout.meta["campaign"] = {"kind": "points_mall", "id": item.pk, "points": False, "commission": False}
    if item.free_shipping:
        checkout.free_shipping = True
    from jishi.orders.pipeline import Adjustment

    checkout.adjustments.append(Adjustment("points_mall", _("积分兑换：%(points)s 积分") % {"points": total_points}, 0))


def commit_checkout(checkout: Any, order: Order) -> None:
    spec = checkout.meta.get("points_mall")
    if not spec:
        return
    item_id, quantity = int(spec["item_id"]), int(spec["quantity"])
    if not MallItem.objects.filter(pk=item_id, is_active=True, stock__gte=quantity).update(
        stock=F("stock") - quantity, redeemed=F("redeemed") + quantity
    ):
        raise SoldOut()
    limit = MallItem.objects.filter(pk=item_id).values_list("per_person_limit", flat=True).get()
    insert_once(MallQuota, {"user": order.user_id, "item": item_id, "count": 0}, conflict=["user", "item"])
    quota = MallQuota.objects.filter(user_id=order.user_id, item_id=item_id)
    if limit:
        quota = quota.filter(count__lte=limit - quantity)
    if quota.update(count=F("count") + quantity) != 1:
        raise LimitReached()
    earning.spend_for_order(order, int(spec["points"]), 0, kind="mall", label=_("积分商城兑换"))
    MallRedemption.objects.create(
        order=order,
        user_id=order.user_id,
        item_id=item_id,
        quantity=quantity,
        points=int(spec["points"]),
        cash=int(spec["cash"]),
        status=RedemptionStatus.PENDING if order.payable else RedemptionStatus.ACTIVE,
    )


# --- order life ----------------------------------------------------------------------


def mark_paid(order_id: int) -> None:
    MallRedemption.objects.filter(order_id=order_id, status=RedemptionStatus.PENDING).update(
        status=RedemptionStatus.ACTIVE
    )


def give_back(order_id: int) -> bool:
    """The order closed unpaid or was refunded in full: its stock and the buyer's quota return (once)."""
    with transaction.atomic():
        redemption = MallRedemption.objects.select_for_update().filter(order_id=order_id).first()
        if redemption is None or redemption.status == RedemptionStatus.RETURNED:
            return False
        if (
            not MallRedemption.objects.filter(pk=redemption.pk)
            .exclude(status=RedemptionStatus.RETURNED)
            .update(status=RedemptionStatus.RETURNED)
        ):
            return False
        MallItem.objects.filter(pk=redemption.item_id).update(
            stock=F("stock") + redemption.quantity, redeemed=F("redeemed") - redemption.quantity
        )
        MallQuota.objects.filter(
            user_id=redemption.user_id, item_id=redemption.item_id, count__gte=redemption.quantity
        ).update(count=F("count") - redemption.quantity)
    return True
