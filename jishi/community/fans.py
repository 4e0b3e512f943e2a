"""Core fans (核心粉丝): an activity score per member per group and week, the weekly ranking, badges,
and the operator's one-action reward of the top N (loyalty points and/or a marketing coupon).

The only writer of ``FanReward``; points and coupons are given by loyalty's and marketing's services.
Scores are counted from the rows the activity already leaves (topics, replies, likes, red-packet
shares, invitations, paid orders of products shared in the group), so nothing drifts.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jishi.accounts.models import Role as AccountRole
from jishi.accounts.models import User
from jishi.accounts.services import has_role
from jishi.core import audit
from jishi.core.errors import Forbidden, InvalidInput
from jishi.core.sql import insert_once

from . import conf, groups, sales
from .models import (
    FanReward,
    Invitation,
    Membership,
    MemberStatus,
    ModerationStatus,
    RedPacketShare,
    Reply,
    Topic,
    TopicLike,
)


@dataclass
class FanScore:
    user_id: int
    nickname: str
    score: int = 0
    parts: Counter[str] = field(default_factory=Counter)
    rank: int = 0
    badge: str = ""


def week_of(day: date) -> date:
    """The Monday that starts ``day``'s week."""
    return day - timedelta(days=day.weekday())


def _span(week: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    start = datetime.combine(week, time.min, tzinfo=tz)
    return start, start + timedelta(days=7)


def badge_for(rank: int) -> str:
    if rank == 1:
        return _("灵魂人物")
    if rank <= 3:
        return _("核心粉丝")
    if rank <= 10:
        return _("活跃达人")
    return ""


def weekly_ranking(group_id: int, week: date | None = None, limit: int = 50) -> list[FanScore]:
    """Active members with a score that week, best first (ties: who joined earlier), with badges."""
    week = week_of(week or timezone.localdate())
    start, end = _span(week)
    members = dict(
        Membership.objects.filter(group_id=group_id, status=MemberStatus.ACTIVE).values_list("user_id", "joined_at")
    )
    parts: dict[int, Counter[str]] = {uid: Counter() for uid in members}

    def add(kind: str, user_ids: list[int]) -> None:
        for uid in user_ids:
            if uid in parts:
                parts[uid][kind] += 1

    topics = Topic.objects.filter(group_id=group_id, status=ModerationStatus.APPROVED)
    add("topics", list(topics.filter(created_at__gte=start, created_at__lt=end).values_list("author_id", flat=True)))
    replies = Reply.objects.filter(
        topic__group_id=group_id, status=ModerationStatus.APPROVED, created_at__gte=start, created_at__lt=end
    )
    add("replies", list(replies.values_list("author_id", flat=True)))
    likes = TopicLike.objects.filter(topic__group_id=group_id, created_at__gte=start, created_at__lt=end)
    add("likes", list(likes.values_list("topic__author_id", flat=True)))
    shares = RedPacketShare.objects.filter(packet__group_id=group_id, claimed_at__gte=start, claimed_at__lt=end)
    add("red_packets", [uid for uid in shares.values_list("user_id", flat=True) if uid])
    invites = Invitation.objects.filter(group_id=group_id, created_at__gte=start, created_at__lt=end)
    add("invitations", list(invites.values_list("inviter_id", flat=True)))
    add("orders", _shared_product_orders(group_id, list(members), start, end))

    weights = {
        "topics": conf.SCORE_TOPIC,
        "replies": conf.SCORE_REPLY,
        "likes": conf.SCORE_LIKE_RECEIVED,
        "red_packets": conf.SCORE_RED_PACKET,
        "orders": conf.SCORE_SHARED_ORDER,
        "invitations": conf.SCORE_INVITATION,
    }
    names = dict(User.objects.filter(pk__in=[u for u, p in parts.items() if p]).values_list("pk", "nickname"))
    scored = [
        FanScore(user_id=uid, nickname=names.get(uid) or "", parts=p, score=sum(weights[k] * n for k, n in p.items()))
        for uid, p in parts.items()
        if p
    ]
    far = timezone.now() + timedelta(days=36500)
    scored.sort(key=lambda s: (-s.score, members.get(s.user_id) or far, s.user_id))
    for rank, fan in enumerate(scored, start=1):
        fan.rank, fan.badge = rank, badge_for(rank)
    return scored[:limit]


def _shared_product_orders(group_id: int, member_ids: list[int], start: datetime, end: datetime) -> list[int]:
    """Buyer ids, once per order, of paid orders that week of products shared in the group before."""
    seen: set[int] = set()
    buyers: list[int] = []
    for sale in sales.shared_sales(group_id, member_ids, start, end):
        if sale.order_id not in seen:
            seen.add(sale.order_id)
            buyers.append(sale.user_id)
    return buyers


def reward_top(
    actor: User,
    group_id: int,
    *,
    top: int,
    points: int = 0,
    coupon_template_id: int | None = None,
    week: date | None = None,
) -> list[FanReward]:
    """Reward the week's top ``top`` fans in one action; a member rewarded for that week is skipped."""
    from jishi.loyalty import points as loyalty_points
    from jishi.marketing import coupons

    if not has_role(actor, AccountRole.OPERATOR):
        raise Forbidden()
    if not 1 <= top <= conf.FAN_REWARD_MAX:
        raise InvalidInput(fields={"top": [f"1..{conf.FAN_REWARD_MAX}"]})
    if points <= 0 and coupon_template_id is None:
        raise InvalidInput(fields={"points": [_("积分或优惠券至少选一项")]})
    groups.get_group(group_id)
    week = week_of(week or timezone.localdate())
    ranking = weekly_ranking(group_id, week, limit=top)
    rewarded: list[FanReward] = []
    for fan in ranking:
        with transaction.atomic():
            row_id = insert_once(
                FanReward,
                {
                    "group": group_id,
                    "week": week,
                    "user": fan.user_id,
                    "rank": fan.rank,
                    "score": fan.score,
                    "points": max(points, 0),
                    "coupon_template_id": coupon_template_id,
                },
                conflict=["group", "week", "user"],
            )
            if row_id is None:
                continue
            if points > 0:
                loyalty_points.credit(
                    fan.user_id,
                    points,
                    kind="community_fan_reward",
                    key=f"community:fan_reward:{group_id}:{week.isoformat()}:{fan.user_id}",
                    reference=f"community_group:{group_id}",
                    memo=fan.badge,
                )
            rewarded.append(FanReward.objects.get(pk=row_id))
    if coupon_template_id is not None and rewarded:
        coupons.issue_to_segment(actor, coupon_template_id, [r.user_id for r in rewarded])
    audit.record(
        actor, "community.fans.reward", f"community_group:{group_id}", week=week.isoformat(), users=len(rewarded)
    )
    return rewarded
