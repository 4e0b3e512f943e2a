"""Commission reactions to orders: schedule unfreezing on completion, reverse on refund."""

from __future__ import annotations

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from jishi.core.events import subscribe
from jishi.core.models import OutboxEvent

from . import services


@subscribe("order.completed")
def schedule_unfreeze(event: OutboxEvent) -> None:
    completed = parse_datetime(event.payload.get("completed_at") or "") or event.created_at or timezone.now()
    services.schedule_unfreeze(event.payload["order_id"], completed)


@subscribe("order.refunded")
def reverse_refunded(event: OutboxEvent) -> None:
    payload = event.payload
    services.reverse_for_refund(
        order_id=payload["order_id"],
        refund_key=str(payload["after_sale_id"]),
        lines=payload["lines"],
        # Every unit back (the shipping fee perhaps kept) takes back everything the order earned,
        # including what is not tied to a line (a 拼团 leader's bonus).
        full=bool(payload.get("full") or payload.get("all_units")),
    )
