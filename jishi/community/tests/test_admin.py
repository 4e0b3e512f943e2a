"""Console: every community list opens, and held topics are approved from the moderation list."""

from __future__ import annotations

import pytest
from django.test import Client

from jishi.community import activity, red_packets
from jishi.community.models import ModerationStatus, Topic
from jishi.content.models import BannedWord, BannedWordAction
from jishi.core.money import format_yuan
from jishi.testing.factories import AdminFactory

from .conftest import make_group, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def console(client: Client) -> Client:
    client.force_login(AdminFactory())
    return client


@pytest.mark.parametrize(
    "model",
    ["group", "membership", "topic", "reply", "groupredpacket", "digestrun", "groupprice", "groupcoupon", "fanreward"],
)
def test_lists_open(console: Client, model: str) -> None:
    group = make_group()
    funder = member(group, wallet=1000)
    member(group)
    red_packets.send(funder, group.pk, amount=500, shares=2, split="random")
    activity.post_topic(funder, group.pk, title="话题")
    res = console.get(f"/console/community/{model}/")
    assert res.status_code == 200


def test_held_topic_approved_from_the_list(console: Client) -> None:
    BannedWord.objects.create(word="代购", action=BannedWordAction.FLAG)
    group = make_group()
    held = activity.post_topic(member(group), group.pk, title="代购")
    assert held.status == ModerationStatus.PENDING
    console.post("/console/community/topic/", {"action": "approve", "_selected_action": [held.pk]})
    assert Topic.objects.get(pk=held.pk).status == ModerationStatus.APPROVED


def test_red_packet_amounts_show_in_yuan(console: Client) -> None:
    group = make_group()
    funder = member(group, wallet=10_000)
    member(group)
    red_packets.send(funder, group.pk, amount=8888, shares=2, split="random")
    assert "¥88.88" in console.get("/console/community/groupredpacket/").content.decode()


def test_group_report_charts_shared_sales_and_fans(console: Client) -> None:
    from jishi.orders import services as orders
    from jishi.payments.services import pay_with_wallet
    from jishi.testing.shop import shopper, skus

    group = make_group()
    (sku,) = skus(2500)
    sharer = member(group)
    activity.post_topic(sharer, group.pk, kind="share", title="好物", product_id=sku.product_id)
    buyer = shopper(wallet=100_000)
    member(group, buyer.user)
    order = orders.place_order(buyer.user, [(sku.pk, 2)], buyer.address.pk, {})
    pay_with_wallet(buyer.user, order.pk)
    order.refresh_from_db()
    body = console.get(f"/console/community/group/{group.pk}/report/").content.decode()
    assert body.count('role="img"') == 2  # the two bar charts
    assert format_yuan(order.lines.get().paid_amount) in body
    assert sharer.nickname in body
    assert "成交与排行" in console.get("/console/community/group/").content.decode()


def test_the_report_rewards_the_weeks_top_fans_in_one_action(console: Client) -> None:
    from jishi.community.models import FanReward
    from jishi.loyalty.models import PointsLot

    group = make_group()
    top, second, quiet = member(group), member(group), member(group)
    activity.post_topic(top, group.pk, title="第一")
    activity.post_topic(top, group.pk, title="第二")
    activity.post_topic(second, group.pk, title="第三")
    url = f"/console/community/group/{group.pk}/report/"

    res = console.post(url, {"top": "2", "points": "100", "coupon_template_id": ""}, follow=True)

    assert "已奖励 2 位核心粉丝" in res.content.decode()
    assert list(FanReward.objects.order_by("rank").values_list("user_id", "rank", "points")) == [
        (top.pk, 1, 100),
        (second.pk, 2, 100),
    ]
    assert sum(PointsLot.objects.filter(user=top).values_list("amount", flat=True)) == 100
    assert not PointsLot.objects.filter(user=quiet).exists()
    # Again the same week: nobody twice; a bad number is a message, not a 500.
    assert "已奖励 0 位" in console.post(url, {"top": "2", "points": "100"}, follow=True).content.decode()
    res = console.post(url, {"top": "abc", "points": "0"}, follow=True)
    assert res.status_code == 200 and "top" in res.content.decode()
    assert FanReward.objects.count() == 2


def test_the_console_makes_a_coupon_the_groups_own(console: Client) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from jishi.community.models import GroupCoupon
    from jishi.marketing.models import CouponKind, CouponTemplate

    group = make_group()
    until = timezone.now() + timedelta(days=30)
    fresh = CouponTemplate.objects.create(
        name="群友立减", kind=CouponKind.FIXED, amount=500, valid_until=until, total_quantity=50
    )
    held = CouponTemplate.objects.create(
        name="已发", kind=CouponKind.FIXED, amount=500, valid_until=until, total_quantity=50, issued=3
    )

    form = console.get("/console/community/groupcoupon/add/")
    assert form.status_code == 200
    options = form.content.decode()
    assert "群友立减" in options and "已发" not in options  # only coupons nobody holds yet

    saved = console.post("/console/community/groupcoupon/add/", {"group": group.pk, "template": fresh.pk})
    assert saved.status_code == 302
    assert GroupCoupon.objects.get().template_id == fresh.pk
    fresh.refresh_from_db()
    assert fresh.audience == "community_group"

    refused = console.post("/console/community/groupcoupon/add/", {"group": group.pk, "template": held.pk})
    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors["template"]
    assert GroupCoupon.objects.count() == 1
