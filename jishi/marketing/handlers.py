"""Marketing reacts to orders: coupons come back, flash stock returns, 拼团 seats become members."""

from __future__ import annotations

from jishi.core.events import subscribe
from jishi.core.models import OutboxEvent

from . import bargains, coupons, flash, groups
from .conf import mkt_setting


def _kind(event: OutboxEvent) -> str | None:
    campaign = (event.payload.get("meta") or {}).get("campaign") or {}
    return campaign.get("kind")


@subscribe("order.paid")
def on_order_paid(event: OutboxEvent) -> None:
    kind = _kind(event)
    if kind == "flash":
        flash.purchase_paid(event.payload["order_id"])
    elif kind == "group":
        groups.member_paid(event.payload["order_id"])


@subscribe("order.closed")
def on_order_closed(event: OutboxEvent) -> None:
    order_id = event.payload["order_id"]
    if (event.payload.get("meta") or {}).get("coupons"):
        coupons.return_order_coupons(order_id)
    kind = _kind(event)
    if kind == "flash":
        flash.return_stock(order_id)
    elif kind == "group":
        groups.seat_released(order_id)
    elif kind == "bargain":
        bargains.order_closed(order_id)


@subscribe("order.refunded")
def on_order_refunded(event: OutboxEvent) -> None:
    if not (event.payload.get("full") or event.payload.get("all_units")):
        return
    order_id = event.payload["order_id"]
    if _kind(event) == "group":
        groups.member_refunded(order_id)
    if (event.payload.get("meta") or {}).get("coupons"):
        coupons.return_order_coupons(order_id)
    # Only units that never left (refunded before shipping) go back to the flash quota: goods the
    # buyer keeps are gone, and goods sent back return to the warehouse shelf.
    before_shipping = event.payload.get("status_before_refund", "paid") == "paid"
    if _kind(event) == "flash" and before_shipping and mkt_setting("FLASH_RESTOCK_ON_REFUND"):
        flash.return_stock(order_id)
