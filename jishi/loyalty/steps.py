"""Loyalty's checkout steps: the points mall price, member discount / free shipping, points deduction."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from jishi.core.money import BP_DENOMINATOR, apply_rate
from jishi.orders.pipeline import (
    ACTIVITY_PRICE,
    MEMBER_DISCOUNT,
    POINTS,
    Adjustment,
    BaseStep,
    Checkout,
    register_step,
)

from . import earning, levels, mall, points
from .conf import loyalty_settings

if TYPE_CHECKING:
    from jishi.orders.models import Order

YUAN = 100


class MallStep(BaseStep):
    """A points-mall redemption: the cash part is the price; points are spent in commit."""

    code = "points_mall"
    position = ACTIVITY_PRICE + 50

    def apply(self, checkout: Checkout) -> None:
        mall.price_checkout(checkout)

    def commit(self, checkout: Checkout, order: Order) -> None:
        mall.commit_checkout(checkout, order)


class MemberDiscountStep(BaseStep):
    """The buyer's level: a discount on lines at their regular price, and free shipping."""

    code = "member_discount"
    position = MEMBER_DISCOUNT

    def apply(self, checkout: Checkout) -> None:
        table = levels.level_table()  # cached: no query when no level carries a benefit
        if not any(lv.discount_bp or lv.free_shipping for lv in table):
            return
        if checkout.options.get("points_mall") or checkout.user is None:
            return
        level = levels.current_level(checkout.user.pk)  # one query, never a stale cached level
        if level is None:
            return
        checkout.meta["member_level"] = {"id": level.id, "name": level.name}
        if level.discount_bp:
            # Member prices do not stack with activity prices (flash, group): regular-price lines only.
            lines = [line for line in checkout.lines if line.unit_price == line.list_price and line.paid_amount > 0]
            amount = apply_rate(sum(line.paid_amount for line in lines), level.discount_bp)
            if amount:
                # Levels are often named "钻石会员": the label adds "会员" only when the name lacks it.
                label = _("%(level)s会员 %(off)s%% 优惠") % {
                    "level": level.name.removesuffix("会员"),
                    "off": levels.bp_percent(level.discount_bp),
                }
                checkout.add_discount(self.code, label, amount, lines)
        if level.free_shipping:
            checkout.free_shipping = True


class PointsStep(BaseStep):
    """``use_points``: whole yuan of points, at most the set share of the goods after earlier discounts."""

    code = "points"
    position = POINTS

    def apply(self, checkout: Checkout) -> None:
        requested = int(checkout.options.get("use_points") or 0)
        if requested <= 0 or checkout.options.get("points_mall"):
            return
        cfg = loyalty_settings()
        rate = cfg.redeem_points_per_yuan
        goods = checkout.goods_amount - checkout.discount_amount
        max_points = (goods * cfg.max_deduction_bp // BP_DENOMINATOR // YUAN) * rate
        whole = requested // rate * rate
        used = min(whole, max_points)
        balance = points.balance(checkout.user.pk)
        if used > balance:
            raise points.InsufficientPoints(fields={"use_points": [str(balance)]})
        notes = []
        if whole != requested:
            notes.append(_("按 %(rate)s 的整数倍使用，已向下取整") % {"rate": rate})
        if used < whole:
            notes.append(_("最多抵扣商品金额的 %(share)s%%") % {"share": levels.bp_percent(cfg.max_deduction_bp)})
        value = used * YUAN // rate
        label = _("积分抵扣（使用 %(used)s 积分）") % {"used": used}
        if notes:
            label = f"{label}：{'；'.join(notes)}"
        checkout.meta["points"] = {
            "requested": requested,
            "used": used,
            "value": value,
            "rate": rate,
            "rounded": whole != requested,
            "capped": used < whole,
        }
        if used:
            checkout.add_discount(self.code, label, value)
        else:
            checkout.adjustments.append(Adjustment(self.code, label, 0))

    def commit(self, checkout: Checkout, order: Order) -> None:
        spec = checkout.meta.get("points") or {}
        if spec.get("used"):
            earning.spend_for_order(order, int(spec["used"]), int(spec["value"]), kind="checkout")


def register() -> None:
    register_step(MallStep())
    register_step(MemberDiscountStep())
    register_step(PointsStep())
