"""Loyalty's reactions to orders: growth at payment, points at completion, reversals on refund and close."""

from __future__ import annotations

from jishi.core.events import subscribe
from jishi.core.models import OutboxEvent

from . import earning, mall


@subscribe("order.paid")
def on_order_paid(event: OutboxEvent) -> None:
    p = event.payload
    earning.on_paid(p["order_id"], p["user_id"], int(p["paid_amount"]))
    if (p.get("meta") or {}).get("points_mall"):
        mall.mark_paid(p["order_id"])


@subscribe("order.completed")
def on_order_completed(event: OutboxEvent) -> None:
    p = event.payload
    earning.on_completed(
        p["order_id"], p["user_id"], int(p["paid_amount"]), int(p.get("refunded_amount") or 0), p.get("meta") or {}
    )


@subscribe("order.refunded")
def on_order_refunded(event: OutboxEvent) -> None:
    p = event.payload
    shipping_refunded = int(p.get("shipping_amount") or 0)
    earning.on_refunded(
        p["order_id"],
        p["user_id"],
        int(p["after_sale_id"]),
        int(p["amount"]),
        int(p["order_paid_amount"]),
        bool(p.get("full") or p.get("all_units")),
        goods_amount=int(p["amount"]) - shipping_refunded,
        goods_paid=int(p["order_paid_amount"]) - int(p.get("order_shipping_fee") or 0),
    )
    if (p.get("full") or p.get("all_units")) and (p.get("meta") or {}).get("points_mall"):
        mall.give_back(p["order_id"])


@subscribe("order.closed")
def on_order_closed(event: OutboxEvent) -> None:
    p = event.payload
    earning.on_closed(p["order_id"], p["user_id"])
    if (p.get("meta") or {}).get("points_mall"):
        mall.give_back(p["order_id"])
