"""Outbox subscribers: a store order that closes or is refunded before it leaves frees its slot."""

from __future__ import annotations

from jishi.core.events import subscribe
from jishi.core.models import OutboxEvent

from . import fulfilment


@subscribe("order.closed", name="retail.cancel_on_close")
def on_order_closed(event: OutboxEvent) -> None:
    fulfilment.cancel_for_order(int(event.payload["order_id"]))


@subscribe("order.refunded", name="retail.cancel_on_refund")
def on_order_refunded(event: OutboxEvent) -> None:
    if event.payload.get("all_units"):
        fulfilment.cancel_for_order(int(event.payload["order_id"]))
