"""Loyalty's public services: what other apps, the API, the console and the storefront call.

The work lives in domain modules (``points``, ``earning``, ``levels``, ``signin``, ``mall``,
``red_packets``); this module is the one place callers import from, plus the operator actions.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Count, Sum
from django.db.models.functions import ExtractYear
from django.utils import timezone
from django.utils.translation import gettext as _

from jishi.accounts.models import User
from jishi.core import audit
from jishi.core.errors import InvalidInput, NotFound
from jishi.core.models import Account, AccountKind

from . import levels, points
from .conf import loyalty_settings
from .earning import award_invitation_points, award_post_points, award_review_points
from .mall import redeem
from .models import LoyaltySettings, MallItem, MemberLevel, PointsAdjustment, PointsLot
from .red_packets import claim as claim_red_packet
from .red_packets import expire_red_packets, fund_budget, grant_red_packet
from .signin import month_calendar, sign_in

__all__ = [
    "adjust_points",
    "award_invitation_points",
    "award_post_points",
    "award_review_points",
    "claim_red_packet",
    "expire_red_packets",
    "fund_budget",
    "grant_red_packet",
    "liability_report",
    "member_summary",
    "month_calendar",
    "redeem",
    "save_level",
    "sign_in",
    "update_settings",
]


def member_summary(user: Any) -> dict[str, Any]:
    """Balance, level and growth for the "me" endpoint and pages."""
    table = levels.level_table()
    growth = levels.growth_of(user.pk)
    level = levels.level_for(growth, table)
    upcoming = levels.next_level(growth, table)
    return {
        "points": points.balance(user.pk),
        "level": level.name if level else "",
        "level_info": level,
        "growth": growth,
        "next_level": upcoming,
        "next_level_growth": upcoming.threshold if upcoming else None,
    }


# --- operator actions ------------------------------------------------------------------

SETTING_FIELDS = [f.name for f in LoyaltySettings._meta.concrete_fields if f.name not in {"id", "updated_at"}]


def validate_tiers(tiers: Any) -> list[dict[str, int]]:
    if not isinstance(tiers, list) or not tiers or len(tiers) > 31:
        raise InvalidInput(fields={"sign_in_tiers": [_("须为 1 到 31 个阶梯")]})
    out = []
    for tier in tiers:
        try:
            day, value = int(tier["day"]), int(tier["points"])
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInput(fields={"sign_in_tiers": [_("每个阶梯须有 day 和 points")]}) from exc
        if not (1 <= day <= 366 and 0 <= value <= 100_000):
            raise InvalidInput(fields={"sign_in_tiers": [_("day 须在 1–366，points 须在 0–100000")]})
        out.append({"day": day, "points": value})
    if len({t["day"] for t in out}) != len(out):
        raise InvalidInput(fields={"sign_in_tiers": [_("天数不能重复")]})
    return sorted(out, key=lambda t: t["day"])


def update_settings(actor: Any, changes: dict[str, Any]) -> LoyaltySettings:
    """Change the loyalty rules (audited)."""
    unknown = set(changes) - set(SETTING_FIELDS)
    if unknown:
        raise InvalidInput(fields={name: [_("未知设置")] for name in sorted(unknown)})
    if "sign_in_tiers" in changes:
        changes["sign_in_tiers"] = validate_tiers(changes["sign_in_tiers"])
    if "max_deduction_bp" in changes and not 0 <= int(changes["max_deduction_bp"]) <= 10000:
        raise InvalidInput(fields={"max_deduction_bp": ["0..10000"]})
    if "redeem_points_per_yuan" in changes and int(changes["redeem_points_per_yuan"]) < 1:
        raise InvalidInput(fields={"redeem_points_per_yuan": [">= 1"]})
    with transaction.atomic():
        row = loyalty_settings()
        before = {name: getattr(row, name) for name in changes}
        for name, value in changes.items():
            setattr(row, name, value)
        row.full_clean()
        row.save()
        audit.record(actor, "loyalty.settings", "loyalty_settings:1", before=before, after=changes)
    return row


def save_level(actor: Any, data: dict[str, Any], level_id: int | None = None) -> MemberLevel:
    """Create or change a level, then move members whose level changed (events and notices)."""
    with transaction.atomic():
        level = MemberLevel() if level_id is None else MemberLevel.objects.filter(pk=level_id).first()
        if level is None:
            raise NotFound()
        for name, value in data.items():
            setattr(level, name, value)
        if MemberLevel.objects.filter(threshold=level.threshold).exclude(pk=level.pk).exists():
            raise InvalidInput(code="duplicate_threshold", fields={"threshold": [_("已有相同门槛的等级")]})
        level.full_clean()
        level.save()
        audit.record(actor, "loyalty.level.save", f"member_level:{level.pk}", **{k: v for k, v in data.items()})
        transaction.on_commit(levels.forget_level_table)
    levels.forget_level_table()
    levels.resync_all_levels()
    return level


def adjust_points(actor: Any, user_id: int, amount: int, reason: str, key: str | None = None) -> PointsAdjustment:
    """An operator's manual points change: a ledger posting (a deduction never overdraws), audited."""
    if amount == 0 or abs(amount) > 10_000_000:
        raise InvalidInput(fields={"amount": [_("须为非零且绝对值不超过 10000000")]})
    if not reason.strip():
        raise InvalidInput(fields={"reason": [_("必填")]})
    if not User.objects.filter(pk=user_id).exists():
        raise NotFound(_("用户不存在"), code="user_not_found")
    key = key or uuid.uuid4().hex
    with transaction.atomic():
        adjustment = PointsAdjustment.objects.create(user_id=user_id, amount=amount, reason=reason[:120], actor=actor)
        ledger_key = f"points:adjust:{key}"
        if amount > 0:
            points.credit(
                user_id,
                amount,
                kind="points_adjust",
                key=ledger_key,
                reference=f"adjust:{adjustment.pk}",
                memo=reason[:120],
            )
        else:
            points.debit(
                user_id,
                -amount,
                kind="points_adjust",
                key=ledger_key,
                reference=f"adjust:{adjustment.pk}",
                memo=reason[:120],
            )
        from jishi.core.models import Transaction

        adjustment.transaction_id = Transaction.objects.filter(key=ledger_key).values_list("pk", flat=True).first()
        adjustment.save(update_fields=["transaction_id"])
        audit.record(actor, "loyalty.points.adjust", f"user:{user_id}", amount=amount, reason=reason[:120])
    return adjustment


def liability_report(now: datetime | None = None) -> dict[str, Any]:
    """Points outstanding (what buyers hold), their value in fen at the redemption rate, by expiry year."""
    now = now or timezone.now()
    cfg = loyalty_settings()
    outstanding = int(Account.objects.filter(kind=AccountKind.POINTS).aggregate(t=Sum("balance"))["t"] or 0)
    holders = Account.objects.filter(kind=AccountKind.POINTS, balance__gt=0).count()
    by_year = {
        row["year"]: int(row["points"])
        for row in PointsLot.objects.filter(remaining__gt=0, expires_at__isnull=False)
        .annotate(year=ExtractYear("expires_at"))
        .values("year")
        .annotate(points=Sum("remaining"), n=Count("id"))
    }
    never = int(
        PointsLot.objects.filter(remaining__gt=0, expires_at__isnull=True).aggregate(t=Sum("remaining"))["t"] or 0
    )
    buckets = [{"label": str(_("永不过期")), "points": never}] if never else []
    # expires_at is the first instant after the year's end: the points expire at the end of year - 1
    buckets += [
        {"label": _("%(year)s 年底") % {"year": year - 1}, "points": pts} for year, pts in sorted(by_year.items())
    ]
    rate = cfg.redeem_points_per_yuan
    return {
        "outstanding": outstanding,
        "value": outstanding * 100 // rate,
        "holders": holders,
        "rate": rate,
        "buckets": buckets,
        "due_now": int(
            PointsLot.objects.filter(remaining__gt=0, expires_at__lte=now).aggregate(t=Sum("remaining"))["t"] or 0
        ),
    }


def save_mall_item(actor: Any, data: dict[str, Any], item_id: int | None = None) -> MallItem:
    """Create or change a points-mall item (audited). Stock set here is the mall's own allotment."""
    from jishi.catalog.models import Sku

    if not Sku.objects.filter(pk=int(data.get("sku_id") or 0)).exists():
        raise InvalidInput(code="sku_not_found", fields={"sku_id": [_("SKU 不存在")]})
    with transaction.atomic():
        item = MallItem() if item_id is None else MallItem.objects.select_for_update().filter(pk=item_id).first()
        if item is None:
            raise NotFound()
        for name, value in data.items():
            setattr(item, name, value)
        item.save()
        audit.record(actor, "loyalty.mall_item.save", f"mall_item:{item.pk}", **data)
    return item
