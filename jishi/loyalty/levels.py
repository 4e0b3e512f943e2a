"""Member levels by growth value: growth changes, level changes (event + notice), and the cached level table."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from jishi.core import events

from .conf import loyalty_settings
from .locks import lock_member
from .models import GrowthEntry, Member, MemberLevel

CACHE_KEY = "loyalty:levels:v1"
CACHE_SECONDS = 60


@dataclass(frozen=True)
class LevelInfo:
    id: int
    name: str
    threshold: int
    discount_bp: int
    free_shipping: bool
    points_multiplier_bp: int
    description: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def discount_percent(self) -> str:
        return bp_percent(self.discount_bp)

    @property
    def multiplier(self) -> str:
        whole, rest = divmod(self.points_multiplier_bp, 10000)
        return f"{whole}" if not rest else f"{whole}.{rest:04d}".rstrip("0")


def bp_percent(bp: int) -> str:
    """Basis points as a percentage without trailing zeros: 500 → "5", 250 → "2.5"."""
    whole, rest = divmod(bp, 100)
    return f"{whole}" if not rest else f"{whole}.{rest:02d}".rstrip("0")


def _info(lv: MemberLevel) -> LevelInfo:
    return LevelInfo(
        id=lv.pk,
        name=lv.name,
        threshold=lv.threshold,
        discount_bp=lv.discount_bp,
        free_shipping=lv.free_shipping,
        points_multiplier_bp=lv.points_multiplier_bp,
        description=lv.description,
    )


def level_table(*, fresh: bool = False) -> list[LevelInfo]:
    """All levels, lowest first. Cached briefly for display and as the checkout's "any benefits?" gate;
    anything that stores or prices by a level re-reads it (``fresh`` or ``current_level``)."""
    cached = None if fresh else cache.get(CACHE_KEY)
    if cached is None:
        cached = [_info(lv) for lv in MemberLevel.objects.order_by("threshold")]
        cache.set(CACHE_KEY, cached, CACHE_SECONDS)
    return list(cached)


def current_level(user_id: int) -> LevelInfo | None:
    """The buyer's level straight from the database, in one query (growth 0 when not yet a member)."""
    growth = Coalesce(Subquery(Member.objects.filter(user_id=user_id).values("growth")[:1]), Value(0))
    level = MemberLevel.objects.filter(threshold__lte=growth).order_by("-threshold").first()
    return _info(level) if level else None


def forget_level_table() -> None:
    cache.delete(CACHE_KEY)


def level_for(growth: int, table: list[LevelInfo] | None = None) -> LevelInfo | None:
    found = None
    for level in table if table is not None else level_table():
        if level.threshold <= growth:
            found = level
    return found


def next_level(growth: int, table: list[LevelInfo] | None = None) -> LevelInfo | None:
    for level in table if table is not None else level_table():
        if level.threshold > growth:
            return level
    return None


def growth_of(user_id: int) -> int:
    return int(Member.objects.filter(user_id=user_id).values_list("growth", flat=True).first() or 0)


def change_growth(user_id: int, delta: int, reference: str = "", now: datetime | None = None) -> int:
    """Add (or with a negative ``delta`` remove, never below zero) growth; returns the new growth."""
    with transaction.atomic():
        member = lock_member(user_id)
        if delta:
            Member.objects.filter(pk=member.pk).update(growth=Greatest(F("growth") + delta, 0))
            GrowthEntry.objects.create(
                user_id=user_id, delta=delta, reference=reference[:120], created_at=now or timezone.now()
            )
        member.refresh_from_db(fields=["growth", "level"])
        sync_level(member, reason=reference)
    return member.growth


def expire_growth(now: datetime | None = None, batch: int = 500) -> int:
    """Nightly: growth earned before the window no longer counts; members whose growth falls
    move down to the level it now reaches (``loyalty.level_changed``, which the inbox turns into a notice). Returns how
    many members' growth fell."""
    days = loyalty_settings().growth_window_days
    if not days:
        return 0
    since = (now or timezone.now()) - timedelta(days=days)
    in_window = Coalesce(
        Subquery(
            GrowthEntry.objects.filter(user_id=OuterRef("user_id"), created_at__gte=since)
            .values("user_id")
            .annotate(total=Sum("delta"))
            .values("total")[:1]
        ),
        Value(0),
    )
    fallen = 0
    last = 0
    while True:
        rows = list(
            Member.objects.filter(pk__gt=last, growth__gt=0)
            .annotate(current=in_window)
            .filter(growth__gt=Greatest(F("current"), Value(0)))
            .order_by("pk")
            .values_list("pk", flat=True)[:batch]
        )
        if not rows:
            return fallen
        for member_id in rows:
            with transaction.atomic():
                member = Member.objects.select_for_update().get(pk=member_id)
                current = GrowthEntry.objects.filter(user_id=member.user_id, created_at__gte=since).aggregate(
                    total=Sum("delta", default=0)
                )["total"]
                target = max(0, int(current))
                if target < member.growth:
                    Member.objects.filter(pk=member.pk).update(growth=target)
                    member.growth = target
                    sync_level(member, reason="growth_expired")
                    fallen += 1
        last = rows[-1]


def sync_level(member: Member, reason: str = "") -> bool:
    """Store the level the member's growth reaches; on a change publish ``loyalty.level_changed``
    (the inbox tells the member)."""
    table = level_table()
    target = level_for(member.growth, table)
    target_id = target.id if target else None
    if target_id == member.level_id:
        return False
    # A change is rare: decide it on the table as it is now, never on a cached copy.
    table = level_table(fresh=True)
    target = level_for(member.growth, table)
    target_id = target.id if target else None
    if target_id == member.level_id:
        return False
    before = next((lv for lv in table if lv.id == member.level_id), None)
    if not Member.objects.filter(pk=member.pk, level_id=member.level_id).update(level_id=target_id):
        return False
    up = (target.threshold if target else -1) > (before.threshold if before else -1)
    events.publish(
        "loyalty.level_changed",
        {
            "user_id": member.user_id,
            "from_level_id": before.id if before else None,
            "from_level": before.name if before else "",
            "to_level_id": target_id,
            "to_level": target.name if target else "",
            "growth": member.growth,
            "direction": "up" if up else "down",
            "reason": reason,
        },
    )
    member.level_id = target_id
    return True


def resync_all_levels(batch: int = 500) -> int:
    """After thresholds change: move every member to the level their growth now reaches."""
    forget_level_table()
    changed = 0
    last = 0
    while True:
        ids = list(Member.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch])
        if not ids:
            return changed
        for member_id in ids:
            with transaction.atomic():
                member = Member.objects.select_for_update().get(pk=member_id)
                changed += sync_level(member, reason="levels_changed")
        last = ids[-1]
