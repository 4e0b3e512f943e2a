"""Races with real threads: coupon claims, flash-sale buyers, 拼团 seats, bargain helpers."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from conftest import Api
from jishi.marketing import bargains
from jishi.marketing.models import (
    Bargain,
    BargainHelp,
    Coupon,
    CouponKind,
    CouponTemplate,
    FlashItem,
    FlashPurchase,
    FlashQuota,
    Group,
    GroupMember,
)
from jishi.orders.models import Order
from jishi.testing.concurrency import race
from jishi.testing.shop import shopper

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_hundred_buyers_claim_fifty_coupons() -> None:
    template = CouponTemplate.objects.create(
        name="限量券", kind=CouponKind.FIXED, amount=100, valid_days=7, total_quantity=50
    )
    buyers = [shopper() for _ in range(200)]

    def claim(i: int) -> int:
        return Api(buyers[i].token).post(f"coupons/{template.pk}/claim").status_code

    statuses = Counter(race(200, claim))

    assert statuses == {201: 50, 409: 150}
    assert Coupon.objects.filter(template=template).count() == 50
    assert CouponTemplate.objects.get(pk=template.pk).issued == 50


def test_one_buyer_racing_claims_gets_only_the_limit() -> None:
    template = CouponTemplate.objects.create(
        name="每人两张", kind=CouponKind.FIXED, amount=100, valid_days=7, total_quantity=100, per_person_limit=2
    )
    s = shopper()

    statuses = Counter(race(12, lambda i: Api(s.token).post(f"coupons/{template.pk}/claim").status_code))

    assert statuses[201] <= 2
    assert Coupon.objects.filter(template=template, user=s.user).count() == statuses[201]
    assert CouponTemplate.objects.get(pk=template.pk).issued == statuses[201]


def test_sixty_buyers_race_for_ten_flash_units(gate_backend: str, flash_item: Any) -> None:
    item = flash_item(stock=10)
    buyers = [shopper() for _ in range(60)]

    def buy(i: int) -> int:
        return Api(buyers[i].token).post(f"flash-sales/{item.pk}/orders", {"quantity": 1}).status_code

    statuses = Counter(race(60, buy))

    assert statuses == {201: 10, 409: 50}
    assert FlashItem.objects.get(pk=item.pk).stock_left == 0
    assert FlashPurchase.objects.count() == Order.objects.count() == 10


def test_one_buyer_double_firing_gets_one_flash_unit(gate_backend: str, flash_item: Any) -> None:
    item = flash_item(stock=10, limit=1)
    s = shopper()

    statuses = Counter(
        race(8, lambda i: Api(s.token).post(f"flash-sales/{item.pk}/orders", {"quantity": 1}).status_code)
    )

    assert statuses == {201: 1, 409: 7}
    assert FlashQuota.objects.get(item=item, user=s.user).bought == 1
    assert FlashItem.objects.get(pk=item.pk).stock_left == 9


def test_joiners_racing_for_the_last_seat(group_campaign: Any) -> None:
    campaign = group_campaign(size=3)
    leader = shopper()
    now = timezone.now()
    group = Group.objects.create(
        campaign=campaign,
        leader=leader.user,
        share_code="race",
        size=3,
        seats_taken=1,
        status="open",
        expires_at=now + timedelta(hours=1),
        paid_count=1,
    )
    joiners = [shopper() for _ in range(10)]

    statuses = Counter(
        race(10, lambda i: Api(joiners[i].token).post(f"group-buys/groups/{group.pk}/join", {}).status_code)
    )

    assert statuses == {201: 2, 409: 8}
    assert Group.objects.get(pk=group.pk).seats_taken == 3
    assert GroupMember.objects.filter(group=group).count() == 2


def test_helpers_racing_reach_the_floor_exactly(bargain_campaign: Any) -> None:
    campaign = bargain_campaign(price=10000, floor=100, helpers=5)
    starter = shopper()
    bargain = bargains.start(starter.user, campaign.pk)
    helpers = [shopper() for _ in range(8)]

    statuses = Counter(race(8, lambda i: Api(helpers[i].token).post(f"bargains/{bargain.pk}/help").status_code))

    bargain = Bargain.objects.get(pk=bargain.pk)
    assert statuses == {201: 5, 409: 3}
    assert (bargain.current_price, bargain.helper_count, bargain.status) == (100, 5, "floor")
    assert sum(BargainHelp.objects.filter(bargain=bargain).values_list("amount", flat=True)) == 9900
