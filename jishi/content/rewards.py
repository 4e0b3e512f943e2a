"""Creator rewards: operator rules ("N interactions → ¥X and/or Y points"), once per rule per post,
within each rule's daily budget, paid through loyalty (red packets and points, both on the ledger).

Budget: a ``RewardBudgetDay`` row per (rule, day) is spent only by a conditional update that
matches no row once the day's budget would be exceeded, so no interleaving overspends it; the
red packet then comes out of loyalty's funded budget ``rule.budget_code`` (its own conditional
update). If either refuses, the whole grant rolls back and a later interaction (or the daily
sweep) tries again.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from jishi.accounts.models import User
from jishi.core.errors import DomainError
from jishi.core.events import publish
from jishi.core.sql import insert_once

from .models import Comment, CommentStatus, Like, Post, PostStatus, RewardBudgetDay, RewardGrant, RewardRule

log = logging.getLogger(__name__)


class DailyBudgetSpent(DomainError):
    status = 409
    code = "reward_budget_spent"


# --- payouts: the one place that knows who pays (loyalty today) ---------------------------------------


def pay_red_packet(user: User, amount: int, budget_code: str, reason: str, key: str) -> int:
    """A red packet from loyalty's budget ``budget_code``; returns the packet id. Raises when it is short."""
    from jishi.loyalty.services import grant_red_packet

    return int(grant_red_packet(user, amount, budget_code, reason, key).pk)


def pay_points(user: User, amount: int, reason: str, key: str) -> int:
    """Points through loyalty's points book (lots, expiry, ledger); returns the points credited."""
    from jishi.loyalty import points

    return points.credit(user.pk, amount, kind="points_content_reward", key=key, reference=reason[:120])


def award_publish_points(user: User, post_id: int, form: str = "") -> int:
    """Loyalty's own points for a published post — or for a review (测评), its review rule."""
    from jishi.loyalty.services import award_post_points, award_review_points

    if form == "review":
        return int(award_review_points(user, post_id))
    return int(award_post_points(user, post_id))


# --- counting -------------------------------------------------------------------------------------------


def qualified_interactions(post: Post, *, exclude_new_accounts: bool) -> int:
    """Distinct likers plus distinct commenters (approved comments), never the author; with the
    anti-gaming setting, not accounts created after the post either."""
    likes = Like.objects.filter(post=post).exclude(user_id=post.author_id)
    comments = Comment.objects.filter(post=post, status=CommentStatus.APPROVED).exclude(user_id=post.author_id)
    if exclude_new_accounts:
        likes = likes.filter(user__date_joined__lte=post.created_at)
        comments = comments.filter(user__date_joined__lte=post.created_at)
    return likes.count() + comments.values("user_id").distinct().count()


# --- granting ------------------------------------------------------------------------------------------


def _spend_budget(rule: RewardRule, day: date) -> None:
    insert_once(RewardBudgetDay, {"rule": rule.pk, "day": day}, conflict=["rule", "day"])
    rows = RewardBudgetDay.objects.filter(rule=rule, day=day)
    if rule.red_packet:
        rows = rows.filter(spent__lte=rule.daily_budget - rule.red_packet)
    if rule.points:
        rows = rows.filter(spent_points__lte=rule.daily_points_budget - rule.points)
    if not rows.update(
        spent=F("spent") + rule.red_packet, spent_points=F("spent_points") + rule.points, grants=F("grants") + 1
    ):
        raise DailyBudgetSpent(fields={"rule": [str(rule.pk)], "day": [day.isoformat()]})


def grant(rule: RewardRule, post: Post, interactions: int, now: datetime) -> RewardGrant | None:
    """Pay ``rule`` for ``post`` once; None when already paid or a budget refuses today."""
    day = timezone.localdate(now)
    key = f"content:reward:{rule.pk}:{post.pk}"
    try:
        with transaction.atomic():
            grant_id = insert_once(
                RewardGrant,
                {
                    "rule": rule.pk,
                    "post": post.pk,
                    "creator": post.author_id,
                    "day": day,
                    "red_packet": rule.red_packet,
                    "points": rule.points,
                    "interactions": interactions,
                },
                conflict=["rule", "post"],
            )
            if grant_id is None:
                return None
            _spend_budget(rule, day)
            reason = _("笔记《%(title)s》互动达到 %(n)d") % {"title": post.title[:30], "n": rule.threshold}
            packet_id = None
            if rule.red_packet:
                packet_id = pay_red_packet(post.author, rule.red_packet, rule.budget_code, reason, key)
            if rule.points:
                pay_points(post.author, rule.points, reason, key)
            RewardGrant.objects.filter(pk=grant_id).update(red_packet_id=packet_id)
            publish(
                "post.rewarded",
                {
                    "grant_id": grant_id,
                    "post_id": post.pk,
                    "author_id": post.author_id,
                    "red_packet": rule.red_packet,
                    "points": rule.points,
                },
            )
    except DomainError as exc:  # a spent day budget or an empty loyalty budget: try again later
        log.info("reward %s for post %s not paid now: %s", rule.pk, post.pk, exc.code)
        return None
    return RewardGrant.objects.get(pk=grant_id)


def evaluate_post(post_id: int, now: datetime | None = None) -> list[RewardGrant]:
    """Grant every active rule whose threshold the post has reached and that it has not had yet."""
    from .services import get_settings

    now = now or timezone.now()
    post = Post.objects.select_related("author").filter(pk=post_id, status=PostStatus.APPROVED).first()
    if post is None or post.by_operator:
        return []
    paid = set(RewardGrant.objects.filter(post=post).values_list("rule_id", flat=True))
    rules = [r for r in RewardRule.objects.filter(is_active=True).order_by("threshold", "id") if r.pk not in paid]
    if not rules:
        return []
    count = qualified_interactions(post, exclude_new_accounts=get_settings().exclude_new_accounts)
    granted = []
    for rule in rules:
        if count < rule.threshold:
            break
        row = grant(rule, post, count, now)
        if row is not None:
            granted.append(row)
    return granted


def sweep(now: datetime | None = None, limit: int = 500) -> int:
    """Retry posts that reached a threshold while a budget was spent (runs daily and after budget changes)."""
    rules = list(RewardRule.objects.filter(is_active=True))
    if not rules:
        return 0
    lowest = min(r.threshold for r in rules)
    candidates = (
        Post.objects.filter(status=PostStatus.APPROVED, by_operator=False)
        .annotate(n=F("like_count") + F("comment_count"))
        .filter(n__gte=lowest)
        .order_by("id")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(len(evaluate_post(pk, now)) for pk in list(candidates))


def budget_rows(day: date | None = None) -> list[dict[str, Any]]:
    day = day or timezone.localdate()
    spent = {r.rule_id: r for r in RewardBudgetDay.objects.filter(day=day)}
    out = []
    for rule in RewardRule.objects.all():
        row = spent.get(rule.pk)
        out.append(
            {
                "rule": rule,
                "spent": row.spent if row else 0,
                "spent_points": row.spent_points if row else 0,
                "grants": row.grants if row else 0,
            }
        )
    return out
