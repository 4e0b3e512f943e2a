"""A campaign's report: reach per channel, failures by reason, reads, clicks, attributed orders."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Count, Exists, OuterRef, Sum
from django.utils import timezone

from jishi.orders.models import Order

from .models import Campaign, CampaignClick, Channel, Delivery, DeliveryStatus, Message

REACHED = (DeliveryStatus.SENT, DeliveryStatus.DELIVERED, DeliveryStatus.READ)
ARRIVED = (DeliveryStatus.DELIVERED, DeliveryStatus.READ)


def campaign_report(campaign: Campaign) -> dict[str, Any]:
    """Every figure from a handful of grouped queries (no per-member work)."""
    counts: dict[str, dict[str, int]] = {}
    for row in Delivery.objects.filter(campaign=campaign).values("channel", "status").annotate(n=Count("id")):
        counts.setdefault(row["channel"], {})[row["status"]] = row["n"]
    failures = list(
        Delivery.objects.filter(campaign=campaign, status=DeliveryStatus.FAILED)
        .values("channel", "reason")
        .annotate(n=Count("id"))
        .order_by("-n", "channel", "reason")
    )
    channels = []
    for channel in [Channel.INBOX, *campaign.channel_content]:
        by_status = counts.get(channel, {})
        channels.append(
            {
                "channel": channel,
                "label": str(Channel(channel).label),
                "queued": by_status.get(DeliveryStatus.QUEUED, 0),
                "sent": sum(by_status.get(s, 0) for s in REACHED),
                "delivered": sum(by_status.get(s, 0) for s in ARRIVED),
                "failed": by_status.get(DeliveryStatus.FAILED, 0),
                "read": by_status.get(DeliveryStatus.READ, 0),
            }
        )
    messages = Message.objects.filter(campaign=campaign)
    targeted = messages.count()
    read = messages.filter(read_at__isnull=False).count()
    clicked = CampaignClick.objects.filter(campaign=campaign).count()
    orders = attributed_orders(campaign)
    return {
        "targeted": targeted,
        "channels": channels,
        "failures": [{"channel": f["channel"], "reason": f["reason"] or "-", "count": f["n"]} for f in failures],
        "read": read,
        "clicked": clicked,
        "orders": orders["orders"],
        "gmv": orders["gmv"],
        "by_variant": orders["by_variant"],
        "inbox_reach": (counts.get(Channel.INBOX, {}).get(DeliveryStatus.DELIVERED, 0) + read) / targeted
        if targeted
        else 0.0,
    }


def attributed_orders(campaign: Campaign) -> dict[str, Any]:
    """Orders paid by reached members within ``attribution_days`` after their message."""
    if not campaign.started_at:
        return {"orders": 0, "gmv": 0, "by_variant": []}
    end = campaign.started_at + timedelta(days=campaign.attribution_days)
    window = Order.objects.filter(
        paid_at__gte=campaign.started_at, paid_at__lt=min(end, timezone.now() + timedelta(seconds=1))
    )
    by_variant = []
    total_orders = total_gmv = 0
    for variant in ("A", "B"):
        reached = Message.objects.filter(campaign=campaign, variant=variant, user_id=OuterRef("user_id"))
        agg = window.filter(Exists(reached)).aggregate(n=Count("id"), gmv=Sum("paid_amount"))
        n, gmv = int(agg["n"] or 0), int(agg["gmv"] or 0)
        total_orders += n
        total_gmv += gmv
        if variant == "A" or campaign.b_percent:
            by_variant.append({"variant": variant, "orders": n, "gmv": gmv})
    return {"orders": total_orders, "gmv": total_gmv, "by_variant": by_variant}
