"""Creator rewards: exact red packet (fen) and points once per rule per post, daily budget, anti-gaming."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from jishi.content import rewards, services
from jishi.content.models import Post, RewardBudgetDay, RewardGrant, RewardRule
from jishi.core.events import deliver_pending
from jishi.core.ledger import balance_of, check_ledger
from jishi.core.models import AccountKind
from jishi.loyalty.models import RedPacket
from jishi.testing.factories import UserFactory

from .conftest import old_user, published_post

pytestmark = pytest.mark.django_db

PUBLISH_POINTS = 5  # loyalty's default points for a published post


def likes(post: Post, n: int) -> None:
    for _ in range(n):
        services.like(old_user(), post.pk)
    deliver_pending()


def test_tenth_interaction_pays_the_red_packet_and_points_once(creator: Any, moderator: Any, reward_rule: Any) -> None:
    post = published_post(creator.user, moderator)
    likes(post, 9)
    assert RewardGrant.objects.count() == 0
    services.add_comment(old_user(), post.pk, "种草了")
    deliver_pending()
    grant = RewardGrant.objects.get()
    assert (grant.red_packet, grant.points, grant.interactions) == (500, 20, 10)
    assert balance_of(creator.user.pk, AccountKind.RED_PACKET) == 500
    assert balance_of(creator.user.pk, AccountKind.POINTS) == 20 + PUBLISH_POINTS
    likes(post, 5)
    assert RewardGrant.objects.count() == 1
    assert balance_of(creator.user.pk, AccountKind.RED_PACKET) == 500
    day = RewardBudgetDay.objects.get()
    assert (day.spent, day.spent_points, day.grants) == (500, 20, 1)
    assert check_ledger() == []


def test_claimed_red_packet_reaches_the_wallet(creator: Any, moderator: Any, reward_rule: Any) -> None:
    from jishi.loyalty.services import claim_red_packet

    post = published_post(creator.user, moderator)
    likes(post, 10)
    packet = RedPacket.objects.get(user=creator.user)
    claim_red_packet(creator.user, packet.pk)
    assert balance_of(creator.user.pk, AccountKind.WALLET) == 500
    assert check_ledger() == []


def test_self_likes_and_new_accounts_do_not_count(creator: Any, moderator: Any, reward_rule: Any) -> None:
    post = published_post(creator.user, moderator)
    services.like(creator.user, post.pk)
    services.add_comment(creator.user, post.pk, "自己顶")
    for _ in range(5):
        services.like(UserFactory(), post.pk)  # accounts made after the post
    likes(post, 8)
    assert RewardGrant.objects.count() == 0
    assert rewards.qualified_interactions(post, exclude_new_accounts=True) == 8
    assert rewards.qualified_interactions(post, exclude_new_accounts=False) == 13


def test_anti_gaming_setting_off_counts_new_accounts(creator: Any, moderator: Any, reward_rule: Any) -> None:
    services.update_settings(moderator, {"exclude_new_accounts": False})
    post = published_post(creator.user, moderator)
    for _ in range(10):
        services.like(UserFactory(), post.pk)
    deliver_pending()
    assert RewardGrant.objects.count() == 1


def test_daily_budget_is_never_overspent_and_the_sweep_pays_the_next_day(
    creator: Any, moderator: Any, reward_rule: RewardRule
) -> None:
    RewardRule.objects.filter(pk=reward_rule.pk).update(daily_budget=1_000)  # two packets a day
    posts = [published_post(creator.user, moderator, title=f"第{i}篇") for i in range(3)]
    fans = [old_user() for _ in range(10)]
    for post in posts:
        for fan in fans:
            services.like(fan, post.pk)
    deliver_pending()
    assert RewardGrant.objects.count() == 2
    assert RewardBudgetDay.objects.get().spent == 1_000
    assert balance_of(creator.user.pk, AccountKind.RED_PACKET) == 1_000
    assert rewards.sweep(now=timezone.now() + timedelta(days=1)) == 1
    assert balance_of(creator.user.pk, AccountKind.RED_PACKET) == 1_500
    assert check_ledger() == []


def test_empty_loyalty_budget_pays_nothing_and_spends_no_day_budget(creator: Any, moderator: Any) -> None:
    from jishi.loyalty.red_packets import create_budget

    create_budget(moderator, "empty", "空预算")
    RewardRule.objects.create(name="r", threshold=10, red_packet=500, daily_budget=5_000, budget_code="empty")
    post = published_post(creator.user, moderator)
    likes(post, 10)
    assert RewardGrant.objects.count() == 0
    assert RewardBudgetDay.objects.filter(spent__gt=0).count() == 0
    assert check_ledger() == []


def test_points_only_rule(creator: Any, moderator: Any) -> None:
    RewardRule.objects.create(name="积分", threshold=3, points=50, daily_points_budget=100)
    post = published_post(creator.user, moderator)
    likes(post, 3)
    assert balance_of(creator.user.pk, AccountKind.POINTS) == 50 + PUBLISH_POINTS
    assert balance_of(creator.user.pk, AccountKind.RED_PACKET) == 0


def test_operator_posts_earn_no_rewards(operator: Any, moderator: Any, reward_rule: Any) -> None:
    from .conftest import write_post

    post = write_post(operator)
    likes(post, 10)
    assert RewardGrant.objects.count() == 0


@pytest.mark.parametrize("form,points", [("review", 10), ("kol", 5)])  # loyalty's review / post defaults
def test_publishing_earns_loyalty_points_by_form(creator: Any, moderator: Any, form: str, points: int) -> None:
    extra = {"scores": [{"aspect": "口感", "score": 5}]} if form == "review" else {}
    published_post(creator.user, moderator, form=form, **extra)
    assert balance_of(creator.user.pk, AccountKind.POINTS) == points
