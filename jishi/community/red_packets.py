"""Group red packets (群红包): sent from a member's wallet or the operator's budget, claimed once per member.

Money path, all through the ledger: sending moves the amount from the funder's wallet (or platform
expense) to the packet's own account ``platform_budget:group_red_packet:<id>``; each claim moves one
share on to the claimant's wallet; after ``RED_PACKET_REFUND_HOURS`` the job returns what is left to
the funder. The shares are drawn when the packet is sent (through ``allocate``, so they sum to the
amount exactly) and claimed in order.

A claim takes the lowest free share with one conditional update on the share's row (racers skip
each other's rows on PostgreSQL), and touches the packet's counter row last, so no claim holds a
lock that another waits for beyond one statement and a commit (see ``claim``); the partial unique
index on (packet, user) makes "one share per member" hold regardless.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Case, Count, Exists, F, OuterRef, Q, Subquery, Sum, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jishi.accounts.models import User
from jishi.core import audit, events, ledger
from jishi.core.errors import Conflict, InvalidInput, NotFound
from jishi.core.models import Account, AccountKind
from jishi.core.money import allocate

from . import conf, groups
from .models import GroupRedPacket, Membership, MemberStatus, PacketSource, PacketStatus, RedPacketShare, Split

ACCOUNT_PREFIX = "group_red_packet"
# Random weights per share: wide enough that 拼手气 feels random, small enough to never overflow.
RANDOM_WEIGHT_MAX = 10_000


class RedPacketEmpty(Conflict):
    code = "red_packet_empty"
    default_message = gettext_lazy("红包已被领完")


class AlreadyClaimed(Conflict):
    code = "already_claimed"
    default_message = gettext_lazy("你已经领过这个红包")


class RedPacketExpired(Conflict):
    code = "red_packet_expired"
    default_message = gettext_lazy("红包已过期")


def split_shares(amount: int, shares: int, split: str, rng: random.Random | None = None) -> list[int]:
    """``shares`` parts of ``amount`` fen, each at least 1 fen, summing exactly to ``amount``.

    Even: parts differ by at most one fen. Random (拼手气): one fen each, and the rest allocated by
    random weights, so any share can be anywhere from 1 fen to nearly the whole remainder.
    """
    if shares < 1 or amount < shares:
        raise ValueError("need at least one fen per share")
    if split == Split.EVEN:
        return allocate(amount, [1] * shares)
    draw = rng or random.SystemRandom()
    weights = [draw.randint(1, RANDOM_WEIGHT_MAX) for _ in range(shares)]
    return [1 + part for part in allocate(amount - shares, weights)]


def packet_account(packet_id: int) -> Account:
    return ledger.platform_account(AccountKind.PLATFORM_BUDGET, f"{ACCOUNT_PREFIX}:{packet_id}")


def _funding_account(packet: GroupRedPacket) -> Account:
    if packet.source == PacketSource.WALLET:
        return ledger.user_account(packet.funder_id, AccountKind.WALLET)
    return ledger.platform_account(AccountKind.PLATFORM_EXPENSE)


def _validate(group_member_count: int, amount: int, shares: int, split: str) -> None:
    errors: dict[str, list[str]] = {}
    if not 1 <= amount <= conf.RED_PACKET_MAX_AMOUNT:
        errors["amount"] = [f"1..{conf.RED_PACKET_MAX_AMOUNT}"]
    if not 1 <= shares <= conf.RED_PACKET_MAX_SHARES:
        errors["shares"] = [f"1..{conf.RED_PACKET_MAX_SHARES}"]
    elif shares > group_member_count:
        errors["shares"] = [_("份数不能超过群成员数 %(n)s") % {"n": group_member_count}]
    elif amount < shares:
        errors["amount"] = [_("每份至少 0.01 元")]
    if split not in Split.values:
        errors["split"] = list(Split.values)
    if errors:
        raise InvalidInput(fields=errors)


def send(
    funder: User,
    group_id: int,
    *,
    amount: int,
    shares: int,
    split: str,
    source: str = PacketSource.WALLET,
    greeting: str = "",
    now: datetime | None = None,
    rng: random.Random | None = None,
) -> GroupRedPacket:
    """Send a packet into a group. Wallet packets: the funder must be a member who may post, and
    ``InsufficientBalance`` (409) leaves nothing written. Budget packets: operators only (see ``send_from_budget``).
    """
    now = now or timezone.now()
    group = groups.get_group(group_id)
    if source == PacketSource.WALLET:
        groups.require_poster(funder.pk, group.pk, now)
    _validate(group.member_count, amount, shares, split)
    parts = split_shares(amount, shares, split, rng)
    with transaction.atomic():
        packet = GroupRedPacket.objects.create(
            group=group,
            funder=funder,
            source=source,
            split=split,
            greeting=greeting.strip()[:40],
            amount=amount,
            shares=shares,
            created_at=now,
            expires_at=now + timedelta(hours=conf.RED_PACKET_REFUND_HOURS),
        )
        RedPacketShare.objects.bulk_create(
            RedPacketShare(packet=packet, seq=seq, amount=part) for seq, part in enumerate(parts)
        )
        ledger.transfer(
            kind="group_red_packet_send",
            key=f"community:red_packet:send:{packet.pk}",
            source=_funding_account(packet),
            target=packet_account(packet.pk),
            amount=amount,
            reference=f"community_red_packet:{packet.pk}",
            memo=group.name[:60],
        )
        if source == PacketSource.BUDGET:
            audit.record(funder, "community.red_packet.send", f"community_red_packet:{packet.pk}", amount=amount)
    return packet


def send_from_budget(actor: User, group_id: int, **kwargs: Any) -> GroupRedPacket:
    """An operator's packet, paid from platform marketing expense (audited)."""
    return send(actor, group_id, source=PacketSource.BUDGET, **kwargs)


def _take_share(packet_id: int, user_id: int, now: datetime) -> tuple[int, int, int] | None:
    """One conditional UPDATE: the lowest unclaimed share becomes ``user_id``'s; (id, seq, amount) or None.

    On PostgreSQL the share is picked ``FOR UPDATE SKIP LOCKED``, so racing claimants each take a
    different share without waiting on one another; the partial unique index on (packet, user)
    refuses a member's second share (IntegrityError, once the first commits)."""
    q = connection.ops.quote_name
    table = q(RedPacketShare._meta.db_table)
    lock = " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    sql = (
        f"UPDATE {table} SET {q('user_id')} = %s, {q('claimed_at')} = %s WHERE {q('id')} = ("  # noqa: S608  (identifiers quoted, values are parameters)
        f"SELECT {q('id')} FROM {table} WHERE {q('packet_id')} = %s AND {q('user_id')} IS NULL"
        f" ORDER BY {q('seq')} LIMIT 1{lock}) RETURNING {q('id')}, {q('seq')}, {q('amount')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [user_id, connection.ops.adapt_datetimefield_value(now), packet_id])
        row = cursor.fetchone()
    return (int(row[0]), int(row[1]), int(row[2])) if row else None


def claim(user: User, packet_id: int, now: datetime | None = None) -> RedPacketShare:
    """Claim the next share for ``user``. Raises NotMember (403), AlreadyClaimed, RedPacketEmpty, RedPacketExpired.

    No lock is waited for until the very end: the share is taken by one conditional update on its
    own row (racers skip each other's), the money moves, and only then does the packet's counter
    row change, conditioned on the packet still being live, so its row lock is held for that one
    statement and the commit. A refund that got there first makes the update match nothing and
    the whole claim rolls back.
    """
    now = now or timezone.now()
    # One read answers all who are turned away (most of a race): not a member, claimed, gone.
    packet = (
        GroupRedPacket.objects.filter(pk=packet_id)
        .annotate(
            membership_id=Subquery(
                Membership.objects.filter(
                    group_id=OuterRef("group_id"), user_id=user.pk, status=MemberStatus.ACTIVE
                ).values("id")[:1]
            ),
            mine=Exists(RedPacketShare.objects.filter(packet_id=OuterRef("pk"), user_id=user.pk)),
        )
        .only("id", "group_id", "status", "claimed_count", "shares", "expires_at")
        .first()
    )
    if packet is None:
        raise NotFound(_("红包不存在"), code="red_packet_not_found")
    if packet.membership_id is None:
        raise groups.NotMember()
    # Unlocked first look: a packet only ever leaves "active" and its claims only grow, so "gone"
    # read here is final; the many who arrive after the last share never touch a share row.
    if packet.mine:
        raise AlreadyClaimed()
    if packet.status != PacketStatus.ACTIVE or packet.claimed_count >= packet.shares:
        raise RedPacketEmpty()
    if packet.expires_at <= now:
        raise RedPacketExpired()
    try:
        with transaction.atomic():
            taken = _take_share(packet_id, user.pk, now)
            if taken is None:
                raise RedPacketEmpty()  # every share is claimed or being claimed
            share_id, seq, amount = taken
            ledger.transfer(
                kind="group_red_packet_claim",
                key=f"community:red_packet:claim:{share_id}",
                source=packet_account(packet_id),
                target=ledger.user_account(user.pk, AccountKind.WALLET),
                amount=amount,
                reference=f"community_red_packet:{packet_id}",
            )
            groups.touch(packet.membership_id, now)
            # notify tells the claimer through the inbox (once per share, whatever the redeliveries).
            events.publish(
                "community.red_packet.claimed",
                {"packet_id": packet_id, "share_id": share_id, "user_id": user.pk, "amount": amount},
                key=f"community_red_packet:{packet_id}",
            )
            counted = GroupRedPacket.objects.filter(
                pk=packet_id, status=PacketStatus.ACTIVE, expires_at__gt=now, claimed_count__lt=F("shares")
            ).update(
                claimed_count=F("claimed_count") + 1,
                claimed_amount=F("claimed_amount") + amount,
                status=Case(
                    When(claimed_count=F("shares") - 1, then=Value(PacketStatus.EMPTY)),
                    default=Value(PacketStatus.ACTIVE),
                ),
            )
            if not counted:  # refunded (or expired) since the first look
                raise RedPacketExpired()
    except IntegrityError:
        if RedPacketShare.objects.filter(packet_id=packet_id, user=user).exists():
            raise AlreadyClaimed() from None  # a double click: the other request took the share
        raise
    return RedPacketShare(pk=share_id, packet_id=packet_id, seq=seq, amount=amount, user_id=user.pk, claimed_at=now)


def refund_due(now: datetime | None = None, limit: int = 200) -> int:
    """Return the unclaimed part of every packet past its time to its funder, once. Returns how many."""
    now = now or timezone.now()
    due = list(
        GroupRedPacket.objects.filter(status=PacketStatus.ACTIVE, expires_at__lte=now)
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    done = 0
    for packet_id in due:
        with transaction.atomic():
            packet = GroupRedPacket.objects.select_for_update().get(pk=packet_id)
            if packet.status != PacketStatus.ACTIVE:
                continue  # emptied or refunded meanwhile
            left = packet.remaining
            GroupRedPacket.objects.filter(pk=packet_id, status=PacketStatus.ACTIVE).update(
                status=PacketStatus.REFUNDED, refunded_amount=left, refunded_at=now
            )
            if left:
                ledger.transfer(
                    kind="group_red_packet_refund",
                    key=f"community:red_packet:refund:{packet_id}",
                    source=packet_account(packet_id),
                    target=_funding_account(packet),
                    amount=left,
                    reference=f"community_red_packet:{packet_id}",
                )
                events.publish(
                    "community.red_packet.refunded",
                    {
                        "packet_id": packet_id,
                        "group_id": packet.group_id,
                        "user_id": packet.funder_id,
                        "source": packet.source,
                        "amount": left,
                        "claimed_count": packet.claimed_count,
                        "shares": packet.shares,
                    },
                    key=f"community_red_packet:{packet_id}",
                )
            done += 1
    return done


def get_packet(packet_id: int) -> GroupRedPacket:
    packet = GroupRedPacket.objects.select_related("funder", "group").filter(pk=packet_id).first()
    if packet is None:
        raise NotFound(_("红包不存在"), code="red_packet_not_found")
    return packet


@dataclass(frozen=True)
class Claimed:
    user_id: int
    nickname: str
    amount: int
    claimed_at: datetime
    best: bool


def claims_of(packet: GroupRedPacket) -> list[Claimed]:
    """Who claimed what, in claim order; the luckiest share marked once the packet is finished (手气最佳)."""
    rows = list(
        RedPacketShare.objects.filter(packet=packet, user__isnull=False)
        .select_related("user")
        .order_by("claimed_at", "seq")
    )
    finished = packet.status != PacketStatus.ACTIVE and packet.split == Split.RANDOM and rows
    best = max(rows, key=lambda r: (r.amount, -r.seq)).pk if finished else None
    return [
        Claimed(
            user_id=r.user_id or 0,
            nickname=str(r.user) if r.user else "",
            amount=r.amount,
            claimed_at=r.claimed_at or packet.created_at,
            best=r.pk == best,
        )
        for r in rows
    ]


def my_shares(user_id: int, packet_ids: list[int]) -> dict[int, int]:
    """What ``user_id`` got from each of ``packet_ids`` (packets they did not claim are absent)."""
    rows = RedPacketShare.objects.filter(packet_id__in=packet_ids, user_id=user_id)
    return dict(rows.values_list("packet_id", "amount"))


def packets_in(group_id: int, limit: int = 20) -> list[GroupRedPacket]:
    return list(
        GroupRedPacket.objects.filter(group_id=group_id).select_related("funder").order_by("-created_at", "-id")[:limit]
    )


def check_red_packets() -> list[str]:
    """check-ledger: each packet's ledger account holds exactly ``amount − claimed − refunded``,
    and its shares add up to its amount and its claimed figures."""
    problems: list[str] = []
    prefix = f"platform:{AccountKind.PLATFORM_BUDGET}:{ACCOUNT_PREFIX}:"
    held = dict(
        Account.objects.filter(key__startswith=prefix)
        .annotate(total=Sum("entries__amount", default=0))
        .values_list("key", "total")
    )
    shares = {
        row["packet_id"]: row
        for row in RedPacketShare.objects.values("packet_id").annotate(
            total=Sum("amount"),
            n=Count("id"),
            claimed=Sum("amount", filter=Q(user__isnull=False), default=0),
            claims=Count("id", filter=Q(user__isnull=False)),
        )
    }
    rows = GroupRedPacket.objects.values_list(
        "id", "amount", "shares", "claimed_count", "claimed_amount", "refunded_amount"
    )
    for packet_id, amount, n, claimed_count, claimed_amount, refunded_amount in rows.iterator():
        key = f"{prefix}{packet_id}"
        expected = amount - claimed_amount - refunded_amount
        balance = int(held.pop(key, 0))
        if balance != expected:
            problems.append(f"group red packet {packet_id}: account {key} holds {balance}, expected {expected}")
        drawn = shares.get(packet_id)
        if drawn is None or (drawn["total"], drawn["n"]) != (amount, n):
            problems.append(f"group red packet {packet_id}: shares do not add up to {amount} in {n}")
        elif (drawn["claimed"], drawn["claims"]) != (claimed_amount, claimed_count):
            problems.append(
                f"group red packet {packet_id}: claimed {claimed_amount} in {claimed_count}, "
                f"shares say {drawn['claimed']} in {drawn['claims']}"
            )
    for key, balance in held.items():
        if balance:
            problems.append(f"account {key} holds {balance} for no group red packet")
    return problems
