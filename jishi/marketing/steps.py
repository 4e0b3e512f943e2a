"""Marketing's checkout steps: the activity price (flash, 拼团, bargain) and coupons."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from jishi.core.errors import InvalidInput
from jishi.orders.pipeline import ACTIVITY_PRICE, COUPONS, BaseStep, Checkout, register_step

if TYPE_CHECKING:
    from jishi.orders.models import Order


@dataclass(frozen=True)
class Activity:
    """A campaign price for one line, put in ``checkout.options["activity"]`` by marketing's own
    services only: it is not JSON, so no request body can forge one."""

    kind: str  # "flash" | "group" | "bargain"
    campaign_id: int
    sku_id: int
    quantity: int
    unit_price: int
    commission: bool
    points: bool
    pay_minutes: int
    external_stock: bool = False
    ref: dict[str, Any] = field(default_factory=dict)

    def campaign_meta(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.campaign_id,
            "commission": self.commission,
            "points": self.points,
            **self.ref,
        }


# kind → commit(activity, checkout, order): runs inside the order's transaction.
_committers: dict[str, Callable[[Activity, Checkout, Order], None]] = {}


def register_committer(kind: str, func: Callable[[Activity, Checkout, Order], None]) -> None:
    _committers[kind] = func


def activity_of(checkout: Checkout) -> Activity | None:
    activity = checkout.options.get("activity")
    return activity if isinstance(activity, Activity) else None


class ActivityPriceStep(BaseStep):
    """One line at the campaign's price; the order carries the campaign in its meta."""

    code = "activity_price"
    position = ACTIVITY_PRICE

    def apply(self, checkout: Checkout) -> None:
        activity = activity_of(checkout)
        if activity is None:
            return
        if len(checkout.lines) != 1 or checkout.lines[0].sku_id != activity.sku_id:
            raise InvalidInput(
                _("活动订单只能包含活动商品"), code="activity_lines", fields={"lines": [str(activity.sku_id)]}
            )
        line = checkout.lines[0]
        if line.quantity != activity.quantity:
            raise InvalidInput(code="activity_quantity", fields={"quantity": [str(activity.quantity)]})
        line.unit_price = (
            min(activity.unit_price, line.list_price) if activity.kind != "bargain" else activity.unit_price
        )
        line.meta["activity"] = {"kind": activity.kind, "id": activity.campaign_id}
        checkout.meta["campaign"] = activity.campaign_meta()
        checkout.pay_minutes = activity.pay_minutes
        if activity.external_stock:
            checkout.meta["inventory"] = "campaign"  # the campaign's quota, set aside in the warehouse
        if activity.kind == "group":
            # Orders should not ship a 拼团 order before its group completes.
            checkout.meta["fulfilment_hold"] = "group_buy"

    def commit(self, checkout: Checkout, order: Order) -> None:
        activity = activity_of(checkout)
        if activity is not None:
            _committers[activity.kind](activity, checkout, order)


class CouponStep(BaseStep):
    """Picks the best coupons by default, or checks exactly the ones asked for; marks them used."""

    code = "coupons"
    position = COUPONS

    def apply(self, checkout: Checkout) -> None:
        from . import coupons

        coupons.apply_to_checkout(checkout)

    def commit(self, checkout: Checkout, order: Order) -> None:
        from . import coupons

        coupons.mark_used(checkout, order)


def register() -> None:
    register_step(ActivityPriceStep())
    register_step(CouponStep())
