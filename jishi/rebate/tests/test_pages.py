"""Storefront rebate pages rendered by the test client: feed, tabs, search, detail, 领券购买,
my rebate orders (only mine) and my balance with a withdrawal."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from jishi.commission.models import Withdrawal
from jishi.distribution import services as distribution
from jishi.rebate import feeds, lifecycle
from jishi.rebate.links import record_link as link_for
from jishi.rebate.models import Network, OrderStatus, RebateGoods, TrackedLink
from jishi.testing.factories import UserFactory

from .conftest import moved, report, tracked_buyer
from .test_feeds import PDD_ITEM, TAOBAO_ITEM

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue() -> None:
    feeds.import_goods(Network.TAOBAO, [TAOBAO_ITEM])
    feeds.import_goods(Network.PDD, [PDD_ITEM])


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_feed_shows_coupon_save_and_tabs(client: Client, catalogue: None) -> None:
    text = client.get("/rebate/").content.decode()
    assert "券 ¥30.00" in text and "省 ¥43.10" in text and "¥169.00" in text
    assert "赚 ¥" not in text  # only promoters see what sharing earns
    pdd = client.get("/rebate/?network=pdd").content.decode()
    assert "家用抽纸" in pdd and "无线蓝牙耳机" not in pdd
    found = client.get("/rebate/?q=lanya").content.decode()
    assert "无线蓝牙耳机" in found and "家用抽纸" not in found
    assert "没有找到相关好券" in client.get("/rebate/?q=zzzz").content.decode()
    assert client.get("/rebate/?network=amazon&page=x").status_code == 200


def test_promoter_sees_earn_badge(catalogue: None) -> None:
    promoter = UserFactory()
    distribution.apply(promoter)
    assert "赚 ¥5.24" in signed_in(promoter).get("/rebate/").content.decode()


def test_take_coupon_makes_my_code_and_link(catalogue: None) -> None:
    item = RebateGoods.objects.get(network="taobao")
    buyer = UserFactory()
    client = signed_in(buyer)
    before = client.get(f"/rebate/g/{item.pk}/").content.decode()
    assert "领券购买" in before and "rebate-code" not in before
    link_for(buyer, Network.TAOBAO)  # the buyer's relation_id, registered before (test_registration)
    response = client.post(f"/rebate/g/{item.pk}/take/")
    assert response.status_code == 302
    link = TrackedLink.objects.get(user=buyer)
    after = client.get(f"/rebate/g/{item.pk}/").content.decode()
    assert f"￥{link.share_code}￥" in after
    assert f"relationId={link.tracking_id}" in after
    poster = client.get(f"/rebate/g/{item.pk}/poster.png")
    assert (poster.status_code, poster["Content-Type"], poster.content[:8]) == (200, "image/png", b"\x89PNG\r\n\x1a\n")
    assert signed_in(UserFactory()).get(f"/rebate/g/{item.pk}/poster.png").status_code == 404  # no link yet
    anonymous = Client().post(f"/rebate/g/{item.pk}/take/")
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    assert Client().get("/rebate/g/999999/").status_code == 404


def test_my_orders_are_only_mine_with_statuses() -> None:
    buyer = UserFactory()
    mine = link_for(buyer, Network.TAOBAO)
    _other, theirs = tracked_buyer()
    first = report(mine, n=1, estimate=2000)
    lifecycle.record_reports(None, "taobao", [first, report(theirs, n=2), report(mine, n=3, estimate=600)])
    lifecycle.record_reports(None, "taobao", [moved(first, OrderStatus.SETTLED, commission_actual=2000)])
    client = signed_in(buyer)
    text = client.get("/rebate/orders/").content.decode()
    assert 'data-order="O1"' in text and 'data-order="O3"' in text and 'data-order="O2"' not in text
    assert "已结算" in text and "已到账" in text and "待结算" in text
    settled_only = client.get("/rebate/orders/?credit=available").content.decode()
    assert 'data-order="O1"' in settled_only and 'data-order="O3"' not in settled_only
    assert Client().get("/rebate/orders/").status_code == 302


def test_balance_and_withdrawal() -> None:
    buyer = UserFactory()
    link = link_for(buyer, Network.PDD)
    first = report(link, n=1, estimate=4000, network="pdd")
    lifecycle.record_reports(None, "pdd", [first, report(link, n=2, estimate=1000, network="pdd")])
    lifecycle.record_reports(None, "pdd", [moved(first, OrderStatus.SETTLED, commission_actual=4000)])
    client = signed_in(buyer)
    text = client.get("/rebate/balance/").content.decode()
    assert 'id="rebate-available">¥20.00' in text and 'id="rebate-pending">¥5.00' in text
    refused = client.post("/rebate/balance/", {"amount": "5", "channel": "wallet"})
    assert refused.status_code == 422 and "最低提现 ¥10.00" in refused.content.decode()
    too_much = client.post("/rebate/balance/", {"amount": "30", "channel": "wallet"})
    assert too_much.status_code == 409 and "可提现余额不足" in too_much.content.decode()
    assert client.post("/rebate/balance/", {"amount": "12.50", "channel": "wallet"}).status_code == 302
    assert Withdrawal.objects.get().amount == 1250
