"""Distribution's reactions to orders: commissions on payment, qualification and levels on completion."""

from __future__ import annotations

from jishi.core.events import subscribe
from jishi.core.models import OutboxEvent

from . import services


@subscribe("order.paid")
def grant_commissions(event: OutboxEvent) -> None:
    services.settle_paid_order(event.payload)


@subscribe("order.completed")
def qualify_and_upgrade(event: OutboxEvent) -> None:
    buyer_id = event.payload["user_id"]
    services.qualify_by_spend(buyer_id)
    rules = services.get_settings()
    chain = [p.user_id for p in services.upline(buyer_id, rules) if p is not None]
    services.evaluate_levels([buyer_id, *chain])
