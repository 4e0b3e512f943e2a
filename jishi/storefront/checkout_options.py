"""What the checkout page offers beside the lines: the buyer's coupons (each with what it saves
or why it does not fit) and the points deduction, read from marketing's and loyalty's own rules."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from jishi.core.money import BP_DENOMINATOR, format_yuan
from jishi.loyalty import points
from jishi.loyalty.conf import loyalty_settings
from jishi.marketing import coupons
from jishi.marketing.models import Coupon
from jishi.orders.pipeline import Checkout, LineInfo

YUAN = 100
# Steps after the coupons: taken back out to know what the lines cost when coupons are weighed.
AFTER_COUPONS = {"coupons", "points"}


@dataclass(frozen=True)
class CouponChoice:
    coupon_id: int
    name: str
    rule: str
    valid_until: datetime
    saving: int  # fen; 0 when it does not fit
    reason: str  # why it cannot be used on this order; "" when it can


@dataclass(frozen=True)
class PointsOffer:
    balance: int
    usable: int
    value: int  # fen the usable points take off


def lines_before_coupons(checkout: Checkout) -> list[LineInfo]:
    """Copies of the lines as the coupon step saw them (activity price and member discount only)."""
    later = [0] * len(checkout.lines)
    for adjustment in checkout.adjustments:
        if adjustment.step in AFTER_COUPONS and adjustment.per_line:
            later = [a + b for a, b in zip(later, adjustment.per_line, strict=True)]
    return [replace(line, discount=line.discount - taken) for line, taken in zip(checkout.lines, later, strict=True)]


def _reason(problem: str, coupon: Coupon, lines: list[LineInfo]) -> str:
    if problem == "coupon_threshold_not_met":
        return _("满 %(need)s 可用") % {"need": format_yuan(coupon.template.min_spend)}
    if problem == "coupon_not_applicable":
        return _("不适用于所选商品")
    return _("本单不可用")


def coupon_choices(checkout: Checkout, now: datetime | None = None) -> list[CouponChoice]:
    """Every unused coupon the buyer holds, usable ones first (largest saving first)."""
    now = now or timezone.now()
    lines = lines_before_coupons(checkout)
    out = []
    held = coupons.mine(checkout.user, status="unused", now=now)
    allowed = coupons.eligible_templates(checkout.user.pk, [c.template for c in held])
    for coupon in held:
        if coupon.template_id not in allowed:  # e.g. a group's coupon after leaving the group
            saving, reason = 0, _("仅限指定人群使用")
        elif coupon.valid_from > now:
            saving, reason = 0, _("%(date)s 起可用") % {"date": timezone.localtime(coupon.valid_from).strftime("%m-%d")}
        elif not coupon.template.is_active:
            continue
        else:
            saving, _uses, problem = coupons.simulate(lines, [coupon])
            reason = _reason(problem, coupon, lines) if problem else ""
        out.append(
            CouponChoice(
                coupon_id=coupon.pk,
                name=coupon.template.name,
                rule=coupons.describe(coupon.template),
                valid_until=coupon.valid_until,
                saving=saving if not reason else 0,
                reason=reason,
            )
        )
    out.sort(key=lambda c: (bool(c.reason), -c.saving, c.valid_until, c.coupon_id))
    return out


def points_offer(checkout: Checkout) -> PointsOffer:
    """The most points this order may use (whole yuan, at most the set share of the goods)."""
    cfg = loyalty_settings()
    rate = cfg.redeem_points_per_yuan
    balance = points.balance(checkout.user.pk)
    taken = sum(line.discount for line in checkout.lines)
    points_taken = sum(-a.amount for a in checkout.adjustments if a.step == "points")
    goods = checkout.goods_amount - (taken - points_taken)
    max_points = (goods * cfg.max_deduction_bp // BP_DENOMINATOR // YUAN) * rate
    usable = min(balance // rate * rate, max_points) if rate > 0 else 0
    usable = max(usable, 0)
    return PointsOffer(balance=balance, usable=usable, value=usable * YUAN // rate if rate > 0 else 0)
