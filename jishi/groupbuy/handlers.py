"""Community group-buy's reactions to orders (idempotent: each only moves a status it finds)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from jishi.core.events import subscribe
from jishi.core.models import OutboxEvent
from jishi.notify.services import notify_members

from . import batches
from .models import PickupPoint


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


@subscribe("groupbuy.ready_for_pickup")
def ready_for_pickup(event: OutboxEvent) -> None:
    """Buyers whose goods reached their leader are told where to collect them (once per delivery)."""

    p = event.payload
    point = PickupPoint.objects.filter(leader_id=p["leader_id"]).first()
    notify_members(
        p["user_ids"],
        category="order",
        title=_("团购商品已到自提点"),
        body=_("请凭提货码到 %(point)s（%(address)s，%(hours)s）取货。")
        % {
            "point": point.name if point else "",
            "address": point.address if point else "",
            "hours": point.hours if point else "",
        },
        link="/groupbuy/pickups/",
        key=f"groupbuy:delivery:{p['delivery_id']}:ready",
    )
