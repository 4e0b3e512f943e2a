"""Core fans: weekly scores from real activity, badges, and the operator's one-action reward (once a week)."""

from __future__ import annotations

import pytest

from conftest import Api
from jishi.community import activity, fans, red_packets
from jishi.community.models import FanReward, Membership
from jishi.core import ledger
from jishi.core.ledger import check_ledger
from jishi.core.models import AccountKind
from jishi.testing.factories import UserFactory

from .conftest import make_group, member

pytestmark = pytest.mark.django_db


def test_scores_count_each_kind_of_activity() -> None:
    group = make_group()
    star, helper, quiet = member(group, wallet=1000), member(group), member(group)
    topic = activity.post_topic(star, group.pk, title="新茶到了")  # 5
    activity.reply(helper, topic.pk, "想要")  # helper 2
    activity.like(helper, topic.pk)  # star +1 (like received)
    packet = red_packets.send(star, group.pk, amount=300, shares=3, split="even")
    red_packets.claim(helper, packet.pk)  # helper +1
    code = Membership.objects.get(user=helper).invite_code
    from jishi.community import groups

    groups.join_by_invite(UserFactory(), code)  # helper +10
    ranking = fans.weekly_ranking(group.pk)
    assert [(f.user_id, f.score, f.rank, f.badge) for f in ranking] == [
        (helper.pk, 13, 1, "灵魂人物"),
        (star.pk, 6, 2, "核心粉丝"),
    ]
    assert dict(ranking[0].parts) == {"replies": 1, "red_packets": 1, "invitations": 1}
    assert quiet.pk not in [f.user_id for f in ranking]


def test_orders_of_products_shared_in_the_group_count() -> None:
    from jishi.orders import services as orders
    from jishi.payments.services import pay_with_wallet
    from jishi.testing.shop import shopper, skus

    group = make_group()
    (sku,) = skus(2000)
    sharer = member(group)
    activity.post_topic(sharer, group.pk, kind="share", title="好物", product_id=sku.product_id)
    buyer = shopper(wallet=100_000)
    member(group, buyer.user)
    order = orders.place_order(buyer.user, [(sku.pk, 1)], buyer.address.pk, {})
    pay_with_wallet(buyer.user, order.pk)
    ranking = {f.user_id: f for f in fans.weekly_ranking(group.pk)}
    assert ranking[buyer.user.pk].parts["orders"] == 1


def test_operator_rewards_the_top_fans_once_a_week(operator_api: Api) -> None:
    group = make_group()
    first, second, third = (member(group) for _ in range(3))
    for user, n in ((first, 3), (second, 2), (third, 1)):
        for i in range(n):
            activity.post_topic(user, group.pk, title=f"话题{i}")
    res = operator_api.post(f"admin/community/groups/{group.pk}/rewards", {"top": 2, "points": 100})
    assert res.status_code == 200
    assert [(r["user_id"], r["rank"], r["points"]) for r in res.json()] == [(first.pk, 1, 100), (second.pk, 2, 100)]
    again = operator_api.post(f"admin/community/groups/{group.pk}/rewards", {"top": 2, "points": 100})
    assert again.json() == []
    assert [ledger.balance_of(u.pk, AccountKind.POINTS) for u in (first, second, third)] == [100, 100, 0]
    assert FanReward.objects.count() == 2
    assert check_ledger() == []


def test_reward_needs_points_or_a_coupon(operator_api: Api, buyer_api: Api) -> None:
    group = make_group()
    res = operator_api.post(f"admin/community/groups/{group.pk}/rewards", {"top": 3})
    assert "points" in res.json()["error"]["fields"]
    assert buyer_api.post(f"admin/community/groups/{group.pk}/rewards", {"top": 3, "points": 1}).status_code == 403


def test_members_see_the_ranking() -> None:
    group = make_group()
    fan = member(group)
    activity.post_topic(fan, group.pk, title="t")
    from jishi.accounts.services import issue_token

    body = Api(issue_token(fan)).get(f"community/groups/{group.pk}/ranking").json()
    assert [(f["rank"], f["score"], f["badge"]) for f in body] == [(1, 5, "灵魂人物")]
    assert Api(issue_token(UserFactory())).get(f"community/groups/{group.pk}/ranking").status_code == 403
