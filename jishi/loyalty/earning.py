"""Earning points and growth from orders, sign-ups and content, and reversing them on refunds.

Order rules: growth (1 per ¥1 paid) at payment; points (per ¥1 of paid minus refunded, times the
level's multiplier, plus the first-order-of-the-day bonus) at completion; refunds return the points
the order used and take back growth and earned points in proportion, cumulatively, so a series of
partial refunds reverses exactly what one full refund would.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from jishi.core.money import BP_DENOMINATOR
from jishi.core.sql import insert_once
from jishi.orders.models import Order
from jishi.orders.pipeline import campaign_pays

from . import levels, points
from .conf import loyalty_settings
from .locks import lock_member
from .models import DailyAward, OrderPoints

YUAN = 100  # fen


def order_points_row(order_id: int, user_id: int) -> OrderPoints:
    """The order's loyalty record, created if missing and locked."""
    insert_once(OrderPoints, {"order": order_id, "user": user_id}, conflict=["order"])
    return OrderPoints.objects.select_for_update().get(order_id=order_id)


def earns_points(meta: dict[str, Any]) -> bool:
    return campaign_pays(meta, "points")


# --- orders ---------------------------------------------------------------------------


def on_paid(order_id: int, user_id: int, paid_amount: int) -> int:
    """Growth for a paid order (whole yuan, floor). Returns the growth added."""
    growth = paid_amount // YUAN
    with transaction.atomic():
        lock_member(user_id)
        row = order_points_row(order_id, user_id)
        OrderPoints.objects.filter(pk=row.pk).update(paid_amount=paid_amount)
        if growth <= 0 or not OrderPoints.objects.filter(pk=row.pk, growth_added=0).update(growth_added=growth):
            return 0
        levels.change_growth(user_id, growth, reference=f"order:{order_id}")
    return growth


def on_completed(
    order_id: int,
    user_id: int,
    paid_amount: int,
    refunded_amount: int,
    meta: dict[str, Any],
    now: datetime | None = None,
) -> int:
    """Credit the order's points (once). Returns the points credited to the buyer's balance."""
    if not earns_points(meta):
        return 0
    now = now or timezone.now()
    cfg = loyalty_settings()
    with transaction.atomic():
        lock_member(user_id)
        row = order_points_row(order_id, user_id)
        if row.earned_at is not None:
            return 0
        base = max(paid_amount - max(refunded_amount, row.refunded), 0)
        level = levels.current_level(user_id)
        multiplier = level.points_multiplier_bp if level else BP_DENOMINATOR
        earned = (base // YUAN) * cfg.points_per_yuan * multiplier // BP_DENOMINATOR
        bonus = 0
        if base > 0 and cfg.first_order_points:
            paid_at = Order.objects.filter(pk=order_id).values_list("paid_at", flat=True).first() or now
            day = timezone.localdate(paid_at)
            if insert_once(
                DailyAward,
                {
                    "user": user_id,
                    "kind": "first_order",
                    "subject": day.isoformat(),
                    "day": day,
                    "points": cfg.first_order_points,
                },
                conflict=["user", "kind", "subject"],
            ):
                bonus = cfg.first_order_points
        OrderPoints.objects.filter(pk=row.pk).update(
            earned=earned + bonus, earn_base=base, earned_at=now, refunded_after_earn=0
        )
        reference = f"order:{order_id}"
        credited = points.credit(
            user_id, earned, kind="points_order", key=f"points:order:{order_id}", reference=reference, now=now
        )
        credited += points.credit(
            user_id,
            bonus,
            kind="points_first_order",
            key=f"points:first_order:{order_id}",
            reference=reference,
            now=now,
        )
    return credited


def on_refunded(
    order_id: int,
    user_id: int,
    after_sale_id: int,
    amount: int,
    paid_amount: int,
    full: bool,
    *,
    goods_amount: int | None = None,
    goods_paid: int | None = None,
) -> None:
    """Reverse the refunded share of what the order used and earned.

    Points spent paid for goods, so they come back in proportion to the goods refunded (not to
    an amount that includes shipping); ``full`` (every fen or every unit back) returns them all."""
    goods_amount = amount if goods_amount is None else goods_amount
    goods_paid = paid_amount if goods_paid is None else goods_paid
    with transaction.atomic():
        lock_member(user_id)
        row = order_points_row(order_id, user_id)
        if after_sale_id in row.refunds_applied:
            return  # a replay (the row lock makes this check-then-act safe)
        OrderPoints.objects.filter(pk=row.pk).update(
            refunded=F("refunded") + amount,
            goods_refunded=F("goods_refunded") + goods_amount,
            refunded_after_earn=F("refunded_after_earn") + (amount if row.earned_at else 0),
            refunds_applied=[*row.refunds_applied, after_sale_id],
        )
        row.refresh_from_db()
        full = full or (paid_amount > 0 and row.refunded >= paid_amount) or (0 < goods_paid <= row.goods_refunded)
        reference = f"order:{order_id}"
        if row.used > row.used_returned:
            target = row.used if full or goods_paid <= 0 else row.used * row.goods_refunded // goods_paid
            given = points.restore(
                user_id,
                row.spend_key,
                target - row.used_returned,
                key=f"points:return:{order_id}:{after_sale_id}",
                reference=reference,
            )
            OrderPoints.objects.filter(pk=row.pk).update(used_returned=F("used_returned") + given)
        if row.earned_at and row.earned > row.earned_clawed:
            base = row.earn_base
            whole = full or base <= 0 or row.refunded_after_earn >= base
            target = row.earned if whole else row.earned * row.refunded_after_earn // base
            delta = target - row.earned_clawed
            if delta > 0:
                points.claw_back(
                    user_id,
                    delta,
                    key=f"points:claw:{order_id}:{after_sale_id}",
                    reference=reference,
                    prefer_reference=reference,
                )
                OrderPoints.objects.filter(pk=row.pk).update(earned_clawed=F("earned_clawed") + delta)
        if row.growth_added > row.growth_removed:
            target = row.growth_added if full or paid_amount <= 0 else row.growth_added * row.refunded // paid_amount
            delta = target - row.growth_removed
            if delta > 0:
                OrderPoints.objects.filter(pk=row.pk).update(growth_removed=F("growth_removed") + delta)
                levels.change_growth(user_id, -delta, reference=reference)


def on_closed(order_id: int, user_id: int) -> int:
    """An unpaid order closed: every point it used comes back. Returns the points returned."""
    with transaction.atomic():
        row = OrderPoints.objects.filter(order_id=order_id).first()
        if row is None or row.used <= row.used_returned:
            return 0
        lock_member(user_id)
        row = order_points_row(order_id, user_id)
        given = points.restore(
            user_id,
            row.spend_key,
            row.used - row.used_returned,
            key=f"points:return:{order_id}:closed",
            reference=f"order:{order_id}",
        )
        OrderPoints.objects.filter(pk=row.pk).update(used_returned=F("used_returned") + given)
    return given


def spend_for_order(order: Order, used: int, value: int, *, kind: str, label: str = "") -> None:
    """Spend ``used`` points for ``order`` inside its placing transaction (raises InsufficientPoints)."""
    key = f"points:{kind}:{order.pk}"
    with transaction.atomic():
        lock_member(order.user_id)
        row = order_points_row(order.pk, order.user_id)
        points.debit(
            order.user_id,
            used,
            kind=f"points_{kind}",
            key=key,
            reference=f"order:{order.pk}",
            memo=label or order.number,
        )
        OrderPoints.objects.filter(pk=row.pk).update(
            used=F("used") + used, used_value=F("used_value") + value, spend_key=key
        )


# --- sign-ups and content ----------------------------------------------------------------


def _award_once(
    user_id: int, kind: str, subject: str, amount: int, *, daily_limit: int = 0, now: datetime | None = None
) -> int:
    """Award ``amount`` once per (buyer, kind, subject), at most ``daily_limit`` times a day (0: no limit)."""
    if amount <= 0:
        return 0
    now = now or timezone.now()
    day = timezone.localdate(now)
    with transaction.atomic():
        lock_member(user_id)
        if daily_limit and DailyAward.objects.filter(user_id=user_id, kind=kind, day=day).count() >= daily_limit:
            return 0
        award_id = insert_once(
            DailyAward,
            {"user": user_id, "kind": kind, "subject": subject[:64], "day": day, "points": amount},
            conflict=["user", "kind", "subject"],
        )
        if award_id is None:
            return 0
        return points.credit(
            user_id,
            amount,
            kind=f"points_{kind}",
            key=f"points:{kind}:{user_id}:{subject}",
            reference=f"{kind}:{subject}",
            now=now,
        )


def award_post_points(user: Any, post_id: int, now: datetime | None = None) -> int:
    """Points for a published post: once per post, within the daily limit. Returns the points awarded."""
    cfg = loyalty_settings()
    return _award_once(
        user.pk, "post", str(post_id), cfg.post_points, daily_limit=cfg.content_points_daily_limit, now=now
    )


def award_review_points(user: Any, review_id: int, now: datetime | None = None) -> int:
    """Points for a published review: once per review, within the daily limit."""
    cfg = loyalty_settings()
    return _award_once(
        user.pk, "review", str(review_id), cfg.review_points, daily_limit=cfg.content_points_daily_limit, now=now
    )


def award_invitation_points(inviter: Any, invitee_id: int, now: datetime | None = None) -> int:
    """Points for inviting a new buyer: once per invitee (never for inviting oneself)."""
    if inviter.pk == invitee_id:
        return 0
    return _award_once(inviter.pk, "invite", str(invitee_id), loyalty_settings().invite_points, now=now)
