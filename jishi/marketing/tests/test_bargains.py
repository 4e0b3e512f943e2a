"""Bargain: helpers cut to the floor exactly at the Nth, once each; the starter buys at the price reached."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import Api
from jishi.marketing import bargains
from jishi.marketing.models import Bargain, BargainStatus
from jishi.orders import services as orders
from jishi.orders.models import Order
from jishi.testing.shop import shopper

from .conftest import deliver


@given(
    span=st.integers(min_value=1, max_value=10**7),
    helpers=st.integers(min_value=1, max_value=200),
    seed=st.integers(min_value=0, max_value=2**32),
)
@settings(max_examples=300, deadline=None)
def test_cuts_sum_to_the_span_exactly_at_the_nth_helper(span: int, helpers: int, seed: int) -> None:
    if span < helpers:
        span = helpers  # campaigns refuse a span smaller than one fen per helper
    rng = random.Random(seed)
    remaining, cuts = span, []
    for left in range(helpers, 0, -1):
        cut = bargains.next_cut(remaining, left, rng)
        cuts.append(cut)
        remaining -= cut
        if left > 1:
            assert remaining >= left - 1  # never at the floor before the Nth helper
    assert all(c >= 1 for c in cuts)
    assert sum(cuts) == span
    assert remaining == 0


@given(
    span=st.integers(min_value=1, max_value=10**6),
    helpers=st.integers(min_value=1, max_value=50),
    seed=st.integers(0, 2**32),
)
@settings(max_examples=200, deadline=None)
def test_early_floor_never_goes_below_the_floor(span: int, helpers: int, seed: int) -> None:
    rng = random.Random(seed)
    remaining = span
    for left in range(helpers, 0, -1):
        remaining -= bargains.next_cut(remaining, left, rng, allow_early=True)
        assert remaining >= 0
    assert remaining == 0


pytestmark = pytest.mark.django_db


def test_helpers_bring_the_price_to_the_floor(bargain_campaign: Any) -> None:
    campaign = bargain_campaign(price=10000, floor=990, helpers=3)
    starter = shopper()
    bargain = bargains.start(starter.user, campaign.pk)

    cuts = [Api(shopper().token).post(f"bargains/{bargain.pk}/help").json() for _ in range(3)]

    assert sum(c["amount"] for c in cuts) == 10000 - 990
    last = cuts[-1]["bargain"]
    assert (last["current_price"], last["helper_count"], last["status"]) == (990, 3, "floor")
    assert len(last["helps"]) == 3
    after = Api(shopper().token).post(f"bargains/{bargain.pk}/help").json()
    assert after["error"]["code"] == "bargain_floor_reached"


def test_a_helper_cuts_once(bargain_campaign: Any) -> None:
    bargain = bargains.start(shopper().user, bargain_campaign().pk)
    api = Api(shopper().token)
    api.post(f"bargains/{bargain.pk}/help")

    response = api.post(f"bargains/{bargain.pk}/help")

    assert (response.status_code, response.json()["error"]["code"]) == (409, "already_helped")


def test_the_starter_cannot_help_themselves(bargain_campaign: Any) -> None:
    starter = shopper()
    bargain = bargains.start(starter.user, bargain_campaign().pk)

    response = Api(starter.token).post(f"bargains/{bargain.pk}/help")

    assert (response.status_code, response.json()["error"]["code"]) == (403, "own_bargain")


def test_no_help_after_the_time_limit(bargain_campaign: Any, now: Any) -> None:
    bargain = bargains.start(shopper().user, bargain_campaign(time_limit_hours=24).pk, now=now)

    with pytest.raises(Exception) as exc:
        bargains.help_cut(shopper().user, bargain.pk, now=now + timedelta(hours=24))

    assert exc.value.code == "bargain_closed"  # type: ignore[attr-defined]


def test_starting_twice_returns_the_running_bargain(bargain_campaign: Any) -> None:
    campaign = bargain_campaign()
    s = shopper()

    assert bargains.start(s.user, campaign.pk).pk == bargains.start(s.user, campaign.pk).pk


def test_the_starter_buys_at_the_price_reached(bargain_campaign: Any) -> None:
    campaign = bargain_campaign(price=10000, floor=2000, helpers=2)
    starter = shopper()
    bargain = bargains.start(starter.user, campaign.pk)
    for _ in range(2):
        bargains.help_cut(shopper().user, bargain.pk)

    response = Api(starter.token).post(f"bargains/{bargain.pk}/orders", {})

    order = Order.objects.get(pk=response.json()["id"])
    assert order.goods_amount == 2000
    assert order.meta["campaign"]["kind"] == "bargain"
    assert order.meta["campaign"]["bargain_id"] == bargain.pk
    bargain.refresh_from_db()
    assert (bargain.status, bargain.order_id) == (BargainStatus.BOUGHT, order.pk)


def test_others_cannot_buy_a_bargain(bargain_campaign: Any) -> None:
    bargain = bargains.start(shopper().user, bargain_campaign().pk)

    assert Api(shopper().token).post(f"bargains/{bargain.pk}/orders", {}).status_code == 404


def test_buying_before_the_floor_can_be_switched_off(bargain_campaign: Any, settings: Any) -> None:
    settings.JISHI_MARKETING = {"BARGAIN_BUY_BEFORE_FLOOR": False}
    starter = shopper()
    bargain = bargains.start(starter.user, bargain_campaign().pk)

    response = Api(starter.token).post(f"bargains/{bargain.pk}/orders", {})

    assert response.json()["error"]["code"] == "bargain_floor_not_reached"


def test_a_closed_bargain_order_lets_the_starter_buy_again(bargain_campaign: Any) -> None:
    starter = shopper()
    bargain = bargains.start(starter.user, bargain_campaign(helpers=1).pk)
    bargains.help_cut(shopper().user, bargain.pk)
    order = bargains.buy(starter.user, bargain.pk)

    orders.cancel_order(starter.user, order.pk)
    deliver()

    bargain.refresh_from_db()
    assert (bargain.status, bargain.order_id) == (BargainStatus.FLOOR, None)
    assert bargains.buy(starter.user, bargain.pk).goods_amount == bargain.floor_price


def test_expire_job_ends_running_bargains(bargain_campaign: Any, now: Any) -> None:
    bargain = bargains.start(shopper().user, bargain_campaign(time_limit_hours=1).pk, now=now)

    assert bargains.expire_bargains(now=now + timedelta(hours=1)) == 1
    assert Bargain.objects.get(pk=bargain.pk).status == BargainStatus.EXPIRED


def test_operator_campaign_needs_a_fen_per_helper(operator_api: Api, bargain_campaign: Any, now: Any) -> None:
    sku = bargain_campaign().sku
    body = {
        "name": "砍到底",
        "sku_id": sku.pk,
        "floor_price": sku.price - 2,
        "helpers_needed": 3,
        "starts_at": now.isoformat(),
        "ends_at": (now + timedelta(days=1)).isoformat(),
    }

    response = operator_api.post("/api/v1/admin/bargains/campaigns", body)

    assert (response.status_code, response.json()["error"]["code"]) == (422, "bargain_range_too_small")
