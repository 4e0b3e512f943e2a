"""Points: every change a balanced ledger posting (POINTS against PLATFORM_POINTS) plus exact lot bookkeeping.

Earned points go into lots (with an expiry), spends take from the oldest lots first and remember
which (``LotUse``) so a refund puts them back; clawbacks that find the points already spent
become a debt that later earning settles. Callers hold no locks: each function takes the
buyer's Member row lock itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jishi.core import ledger
from jishi.core.errors import Conflict
from jishi.core.models import AccountKind, Transaction
from jishi.core.sql import insert_once

from .conf import loyalty_settings
from .locks import lock_member
from .models import ExpiryMode, LotUse, Member, PointsDebtLog, PointsLot

# Ledger transaction kinds of points postings, and how the history names them.
KIND_LABELS: dict[str, Any] = {
    "points_order": _("购物奖励"),
    "points_first_order": _("每日首单奖励"),
    "points_sign_in": _("每日签到"),
    "points_invite": _("邀请好友"),
    "points_post": _("发布笔记"),
    "points_review": _("发表评价"),
    "points_checkout": _("下单抵扣"),
    "points_mall": _("积分商城兑换"),
    "points_return": _("退款退回积分"),
    "points_clawback": _("退款扣回奖励"),
    "points_expire": _("积分过期"),
    "points_adjust": _("人工调整"),
    "points_content_reward": _("内容奖励"),
}


class InsufficientPoints(Conflict):
    code = "insufficient_points"
    default_message = _("积分不足")


def platform_points() -> Any:
    return ledger.platform_account(AccountKind.PLATFORM_POINTS)


def points_account(user_id: int) -> Any:
    return ledger.user_account(user_id, AccountKind.POINTS)


def balance(user_id: int) -> int:
    return ledger.balance_of(user_id, AccountKind.POINTS)


def expiry_for(earned_at: datetime, mode: str | None = None) -> datetime | None:
    """When points earned at ``earned_at`` expire: never, or at the end of the following year (shop time)."""
    mode = mode or loyalty_settings().expiry_mode
    if mode != ExpiryMode.YEAR_END_NEXT:
        return None
    local = timezone.localtime(earned_at)
    return local.replace(year=local.year + 2, month=1, day=1, hour=0, minute=0, second=0, microsecond=0)


def _posted(key: str) -> bool:
    return Transaction.objects.filter(key=key).exists()


def credit(
    user_id: int,
    amount: int,
    *,
    kind: str,
    key: str,
    reference: str = "",
    memo: str = "",
    now: datetime | None = None,
    expires_at: datetime | bool | None = True,
) -> int:
    """Give ``amount`` points once per ``key``; a debt is settled first. Returns what reached the balance.

    ``expires_at`` True means "by the shop's expiry rule"; None means never; a datetime is used as given.
    """
    if amount <= 0:
        return 0
    now = now or timezone.now()
    with transaction.atomic():
        member = lock_member(user_id)
        if _posted(key) or PointsDebtLog.objects.filter(key=f"{key}:debt").exists():
            return 0  # a replay: a later debt must not be settled by points given before
        settle = min(member.points_debt, amount)
        if settle:
            if (
                insert_once(
                    PointsDebtLog,
                    {"user": user_id, "key": f"{key}:debt", "amount": -settle, "reference": reference[:120]},
                    conflict=["key"],
                )
                is None
            ):
                return 0  # a replay: this key settled its debt (and posted) before
            Member.objects.filter(pk=member.pk).update(points_debt=F("points_debt") - settle)
        net = amount - settle
        if not net:
            return 0
        posting = ledger.transfer(
            kind=kind,
            key=key,
            source=platform_points(),
            target=points_account(user_id),
            amount=net,
            reference=reference,
            memo=memo or (str(_("抵扣欠分 %(n)s") % {"n": settle}) if settle else ""),
        )
        if not posting.created:
            return 0
        PointsLot.objects.create(
            user_id=user_id,
            amount=net,
            remaining=net,
            kind=kind,
            reference=reference[:120],
            earned_at=now,
            expires_at=expiry_for(now) if expires_at is True else (expires_at or None),
        )
    return net


def debit(
    user_id: int,
    amount: int,
    *,
    kind: str,
    key: str,
    reference: str = "",
    memo: str = "",
    partial: bool = False,
    prefer_reference: str = "",
) -> int:
    """Take ``amount`` points once per ``key``, oldest lots first (``prefer_reference``'s lots before them).

    Raises InsufficientPoints unless ``partial``, in which case it takes what there is. Returns what it took.
    """
    if amount <= 0:
        return 0
    with transaction.atomic():
        lock_member(user_id)
        if _posted(key):
            return 0
        lots = list(PointsLot.objects.filter(user_id=user_id, remaining__gt=0).order_by("id"))
        if prefer_reference:
            lots.sort(key=lambda lot: lot.reference != prefer_reference)  # stable: oldest first within each
        available = sum(lot.remaining for lot in lots)
        take = min(amount, available) if partial else amount
        if take > available:
            raise InsufficientPoints(fields={"points": [str(available)]})
        if not take:
            return 0
        uses = []
        left = take
        for lot in lots:
            if not left:
                break
            part = min(lot.remaining, left)
            if PointsLot.objects.filter(pk=lot.pk, remaining__gte=part).update(remaining=F("remaining") - part) != 1:
                raise InsufficientPoints()  # cannot happen under the member lock; never spend blind
            uses.append(LotUse(lot=lot, key=key, amount=part))
            left -= part
        LotUse.objects.bulk_create(uses)
        ledger.transfer(
            kind=kind,
            key=key,
            source=points_account(user_id),
            target=platform_points(),
            amount=take,
            reference=reference,
            memo=memo,
        )
    return take


def restore(user_id: int, spend_key: str, amount: int, *, key: str, reference: str = "", memo: str = "") -> int:
    """Give back up to ``amount`` of the points spent under ``spend_key``, into the lots they came from.

    A lot that has passed its expiry gets them back too and the next expiry run takes them again,
    so returned points keep the life they had. Returns what was given back.
    """
    if amount <= 0:
        return 0
    with transaction.atomic():
        lock_member(user_id)
        if _posted(key):
            return 0
        left = amount
        given = 0
        for use in LotUse.objects.filter(key=spend_key).order_by("-id"):
            room = use.amount - use.returned
            part = min(room, left)
            if part <= 0:
                continue
            LotUse.objects.filter(pk=use.pk).update(returned=F("returned") + part)
            PointsLot.objects.filter(pk=use.lot_id).update(remaining=F("remaining") + part)
            left -= part
            given += part
            if not left:
                break
        if given:
            ledger.transfer(
                kind="points_return",
                key=key,
                source=platform_points(),
                target=points_account(user_id),
                amount=given,
                reference=reference,
                memo=memo,
            )
    return given


@dataclass(frozen=True)
class Clawback:
    taken: int
    debt: int


def claw_back(user_id: int, amount: int, *, key: str, reference: str = "", prefer_reference: str = "") -> Clawback:
    """Take back ``amount`` earned points; what the buyer no longer has becomes debt (never a negative balance)."""
    if amount <= 0:
        return Clawback(0, 0)
    with transaction.atomic():
        member = lock_member(user_id)
        if _posted(key) or PointsDebtLog.objects.filter(key=f"{key}:debt").exists():
            return Clawback(0, 0)  # a replay
        taken = debit(
            user_id,
            amount,
            kind="points_clawback",
            key=key,
            reference=reference,
            partial=True,
            prefer_reference=prefer_reference,
        )
        shortfall = amount - taken
        if shortfall and insert_once(
            PointsDebtLog,
            {"user": user_id, "key": f"{key}:debt", "amount": shortfall, "reference": reference[:120]},
            conflict=["key"],
        ):
            Member.objects.filter(pk=member.pk).update(points_debt=F("points_debt") + shortfall)
        else:
            shortfall = 0
    return Clawback(taken, shortfall)


def expire_due_points(now: datetime | None = None, limit: int = 1000) -> int:
    """Empty every lot whose expiry has passed; one posting per lot. Returns the points expired."""
    now = now or timezone.now()
    total = 0
    due = list(
        PointsLot.objects.filter(remaining__gt=0, expires_at__lte=now)
        .order_by("user_id", "id")
        .values_list("pk", "user_id")[:limit]
    )
    for lot_id, user_id in due:
        with transaction.atomic():
            lock_member(user_id)
            lot = PointsLot.objects.get(pk=lot_id)
            if lot.remaining <= 0:
                continue
            amount = lot.remaining
            ledger.transfer(
                kind="points_expire",
                key=f"points:expire:{lot.pk}:{lot.expired}",
                source=points_account(user_id),
                target=platform_points(),
                amount=amount,
                reference=f"lot:{lot.pk}",
            )
            PointsLot.objects.filter(pk=lot.pk, remaining=amount).update(remaining=0, expired=F("expired") + amount)
            total += amount
    return total


def expiring_soon(user_id: int, now: datetime | None = None, days: int | None = None) -> list[dict[str, Any]]:
    """Points that expire within ``days`` (the notice window by default), grouped by expiry time."""
    now = now or timezone.now()
    days = loyalty_settings().expiry_notice_days if days is None else days
    rows = (
        PointsLot.objects.filter(
            user_id=user_id, remaining__gt=0, expires_at__isnull=False, expires_at__lte=now + timedelta(days=days)
        )
        .values("expires_at")
        .annotate(points=Sum("remaining"))
        .order_by("expires_at")
    )
    return [{"expires_at": r["expires_at"], "points": int(r["points"])} for r in rows]


def history(user_id: int, limit: int = 20, offset: int = 0) -> list[dict[str, Any]]:
    """The buyer's points postings, newest first, with a readable reason."""
    account = points_account(user_id)
    return [
        {
            "amount": entry.amount,
            "kind": entry.transaction.kind,
            "label": str(KIND_LABELS.get(entry.transaction.kind, entry.transaction.kind)),
            "reference": entry.transaction.reference,
            "memo": entry.transaction.memo,
            "created_at": entry.transaction.created_at,
        }
        for entry in ledger.history(account, limit=limit, offset=offset)
    ]


def open_lots_total(user_id: int) -> int:
    return int(PointsLot.objects.filter(user_id=user_id).aggregate(t=Sum("remaining"))["t"] or 0)
