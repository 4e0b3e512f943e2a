"""Races with real threads: batch stock is never oversold, a code is verified once."""

from __future__ import annotations

from collections import Counter

import pytest

from conftest import Api
from jishi.commission.models import Commission, CommissionSource
from jishi.groupbuy import pickup
from jishi.groupbuy.models import BatchItem, BatchQuota, PickupOrder
from jishi.orders.models import Order
from jishi.testing.concurrency import race
from jishi.testing.shop import shopper

from .conftest import buy_paid, leader_token, make_batch, make_leader, to_points

pytestmark = pytest.mark.django_db(transaction=True)


def test_forty_buyers_race_for_ten_units() -> None:
    leader = make_leader()
    batch, (item,) = make_batch(stock=10, limit=1)
    buyers = [shopper() for _ in range(40)]
    body = {"lines": [{"sku_id": item.sku_id, "quantity": 1}], "leader_id": leader.pk}

    def buy(i: int) -> int:
        return Api(buyers[i].token).post(f"groupbuy/batches/{batch.pk}/orders", body).status_code

    statuses = Counter(race(40, buy))

    assert statuses == {201: 10, 409: 30}
    assert BatchItem.objects.get(pk=item.pk).stock_left == 0
    assert Order.objects.count() == PickupOrder.objects.count() == 10


def test_one_buyer_double_firing_stays_within_the_limit() -> None:
    leader = make_leader()
    batch, (item,) = make_batch(stock=50, limit=2)
    s = shopper()
    body = {"lines": [{"sku_id": item.sku_id, "quantity": 1}], "leader_id": leader.pk}

    statuses = Counter(race(8, lambda i: Api(s.token).post(f"groupbuy/batches/{batch.pk}/orders", body).status_code))

    assert statuses == {201: 2, 409: 6}
    assert BatchQuota.objects.get(item=item, user=s.user).bought == 2
    assert BatchItem.objects.get(pk=item.pk).stock_left == 48


def test_a_code_verified_twice_at_once_pays_one_commission() -> None:
    leader = make_leader()
    batch, (item,) = make_batch()
    order = buy_paid(shopper(), batch, leader, [(item, 1)])
    to_points(batch)
    pickup.receive_delivery(None, batch.pk, leader.pk)
    code = PickupOrder.objects.get(order=order).code
    token = leader_token(leader)

    statuses = Counter(race(6, lambda i: Api(token).post("groupbuy/pickups/verify", {"code": code}).status_code))

    assert statuses == {200: 1, 409: 5}
    assert Commission.objects.filter(source=CommissionSource.LEADER).count() == 1
