"""Community group-buy's reactions to orders (idempotent: each only moves a status it finds)."""

from __future__ import annotations

from jishi.core.events import subscribe
from jishi.core.models import OutboxEvent

from . import batches


@subscribe("order.paid")
def pickup_paid(event: OutboxEvent) -> None:
    if (event.payload.get("meta") or {}).get("groupbuy"):
        batches.order_paid(event.payload["order_id"])


@subscribe("order.closed")
def pickup_closed(event: OutboxEvent) -> None:
    if (event.payload.get("meta") or {}).get("groupbuy"):
        batches.order_closed(event.payload["order_id"])


@subscribe("order.refunded")
def pickup_refunded(event: OutboxEvent) -> None:
    if (event.payload.get("meta") or {}).get("groupbuy"):
        batches.order_refunded(event.payload)
