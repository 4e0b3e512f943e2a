"""Outbox subscribers: a store order that closes or is refunded before it leaves frees its slot."""

from __future__ import annotations

from django.db import transaction

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


@subscribe("order.paid", name="retail.finish_qr_sale")
def on_order_paid(event: OutboxEvent) -> None:
    """A counter sale paid by a provider QR is handed over once its notify paid the order."""
    if (event.payload.get("meta") or {}).get("channel") != "offline":
        return
    from jishi.orders.models import Order

    from . import pos

    order = Order.objects.filter(pk=int(event.payload["order_id"])).first()
    if order is not None:
        with transaction.atomic():
            pos.finish_sale(order, None)
