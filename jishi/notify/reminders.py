"""Time-driven notices (no event marks them): points about to expire."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Min, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from jishi.loyalty.conf import loyalty_settings
from jishi.loyalty.models import PointsLot

from .services import notify_member


def remind_expiring_points(now: datetime | None = None, limit: int = 5000) -> int:
    """One notice per member and expiry day for points that expire within the notice window."""
    now = now or timezone.now()
    days = loyalty_settings().expiry_notice_days
    if days <= 0:
        return 0
    rows = (
        PointsLot.objects.filter(remaining__gt=0, expires_at__gt=now, expires_at__lte=now + timedelta(days=days))
        .values("user_id")
        .annotate(points=Sum("remaining"), first=Min("expires_at"))
        .order_by("user_id")[:limit]
    )
    sent = 0
    for row in rows:
        day = timezone.localdate(row["first"])
        notify_member(
            row["user_id"],
            category="system",
            title=_("积分即将过期"),
            body=_("你有 %(points)d 积分将在 %(day)s 起陆续过期，记得去积分商城兑换。")
            % {"points": int(row["points"]), "day": day.isoformat()},
            link="/loyalty/mall/",
            key=f"points-expiring:{day.isoformat()}",
        )
        sent += 1
    return sent
