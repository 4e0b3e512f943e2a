"""Payments' reactions to orders: a closed order's provider trades are closed too."""

from __future__ import annotations

from django.db import transaction

from jishi.core.events import subscribe
from jishi.core.models import OutboxEvent


@subscribe("order.closed")
def close_trades_of_closed_order(event: OutboxEvent) -> None:
    order_id = int(event.payload["order_id"])

    def enqueue() -> None:
        from .tasks import close_payments_task

        close_payments_task(order_id)

    # The provider is called after this handler's transaction, never inside it.
    transaction.on_commit(enqueue)
