"""Goods refresh from the networks' search APIs through the fakes: Taobao
taobao.tbk.dg.material.optional, Pinduoduo pdd.ddk.goods.search, JD jd.union.open.goods.query,
each signed as the network requires and paged by its own page size; the rows go through the feed
importer's mapping, upsert by network + item id, dead coupons leave the feed, pictures stay URLs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from conftest import Api
from jishi.rebate import feeds, goods_refresh, tasks
from jishi.rebate.fakes import FakeNetwork, goods_rows
from jishi.rebate.models import Network, RebateGoods, RebateSource
from jishi.testing.factories import AdminFactory, OperatorFactory

from .conftest import source_for

pytestmark = pytest.mark.django_db

PIDS = {Network.TAOBAO: "mm_1_2_3", Network.PDD: "1000_2000", Network.JD: ""}
SIZES = {Network.TAOBAO: 250, Network.PDD: 230, Network.JD: 70}  # 3 pages each (100, 100, 30 a page)


def goods_source(fake: FakeNetwork, keywords: str = "优选", **extra: Any) -> RebateSource:
    return source_for(fake, pid=PIDS[Network(fake.network)], goods_keywords=keywords, **extra)


@pytest.mark.parametrize("network", [Network.TAOBAO, Network.PDD, Network.JD])
def test_refresh_pages_through_each_networks_search(network: str, request: Any) -> None:
    fake = request.getfixturevalue(f"fake_{network}")
    fake.goods = goods_rows(network, SIZES[Network(network)])
    source = goods_source(fake)
    result = goods_refresh.refresh_source_goods(source.pk)
    assert (result.error, result.failed) == ("", 0)
    assert (result.pages, result.created) == (3, SIZES[Network(network)])
    assert RebateGoods.objects.filter(network=network, is_active=True).count() == SIZES[Network(network)]
    assert fake.refused == []  # signature, timestamp and page size as the network requires
    source.refresh_from_db()
    assert source.goods_refreshed_at is not None and source.goods_error == ""


def test_the_api_rows_map_like_a_feed_file(fake_taobao: Any, fake_pdd: Any, fake_jd: Any) -> None:
    expected = {}
    for fake in (fake_taobao, fake_pdd, fake_jd):
        fake.goods = goods_rows(fake.network, 3, seed=5)
        expected[fake.network] = [feeds.GOODS_READERS[fake.network](row) for row in fake.goods]
        goods_refresh.refresh_source_goods(goods_source(fake).pk)
    for network, mapped in expected.items():
        for item_id, fields in mapped:
            stored = RebateGoods.objects.get(network=network, item_id=item_id)
            assert {k: getattr(stored, k) for k in ("title", "price", "coupon_amount", "commission_rate_bp")} == {
                k: fields[k] for k in ("title", "price", "coupon_amount", "commission_rate_bp")
            }
            assert stored.image_urls == [f"https://img.example.com/{network}/{item_id_index(network, item_id)}.jpg"]
    jd = RebateGoods.objects.filter(network=Network.JD).first()
    assert jd is not None and jd.item_url.startswith("https://item.jd.com/")  # JD sends no scheme
    tb = RebateGoods.objects.filter(network=Network.TAOBAO).first()
    assert tb is not None and tb.coupon_url.startswith("https://uland.taobao.com/")  # Taobao sends //uland…


def item_id_index(network: str, item_id: str) -> int:
    base = {Network.TAOBAO: 650_000_000_000, Network.PDD: 0, Network.JD: 110_000_000}[Network(network)]
    return int(item_id.rsplit("-", 1)[-1]) if network == Network.PDD else int(item_id) - base


def test_refresh_upserts_and_expires_dead_coupons(fake_pdd: Any) -> None:
    fake_pdd.goods = goods_rows("pdd", 20)
    source = goods_source(fake_pdd)
    goods_refresh.refresh_source_goods(source.pk)
    fake_pdd.goods[0]["min_group_price"] = 12345  # the network changed a price
    past = int((timezone.now() - timedelta(days=1)).timestamp())
    fake_pdd.goods[1]["coupon_end_time"] = past  # and a coupon ended
    fake_pdd.goods[2]["coupon_remain_quantity"] = 0  # and one ran out
    again = goods_refresh.refresh_source_goods(source.pk)
    assert (again.created, again.updated) == (0, 20)
    assert RebateGoods.objects.filter(network="pdd").count() == 20  # no duplicates
    assert RebateGoods.objects.get(item_id="fake-pdd-0").price == 12345
    assert set(RebateGoods.objects.filter(is_active=False).values_list("item_id", flat=True)) == {
        "fake-pdd-1",
        "fake-pdd-2",
    }
    fake_pdd.goods[2]["coupon_remain_quantity"] = 50  # the coupon was topped up: back on the feed
    goods_refresh.refresh_source_goods(source.pk)
    assert RebateGoods.objects.get(item_id="fake-pdd-2").is_active


def test_a_network_error_is_kept_on_the_source_not_raised(fake_jd: Any) -> None:
    fake_jd.goods = goods_rows("jd", 5)
    source = goods_source(fake_jd, secret="not-the-secret")
    result = goods_refresh.refresh_source_goods(source.pk)
    assert result.error.startswith("20") and result.created == 0
    source.refresh_from_db()
    assert source.goods_error == result.error and source.goods_refreshed_at is None
    assert fake_jd.refused == ["sign"]


def test_taobao_needs_an_adzone_in_the_pid(fake_taobao: Any) -> None:
    fake_taobao.goods = goods_rows("taobao", 2)
    source = source_for(fake_taobao, pid="not-a-pid", goods_keywords="优选")
    assert goods_refresh.refresh_source_goods(source.pk).error.startswith("bad_pid")
    assert fake_taobao.calls == 0


def test_keywords_are_split_and_capped() -> None:
    source = RebateSource(goods_keywords="耳机, 保温杯，耳机、大米\n" + ",".join(f"w{i}" for i in range(30)))
    words = goods_refresh.keywords_of(source)
    assert words[:3] == ["耳机", "保温杯", "大米"] and len(words) == goods_refresh.MAX_KEYWORDS


def test_periodic_job_refreshes_each_enabled_source_with_keywords(fake_taobao: Any, fake_jd: Any) -> None:
    fake_taobao.goods = goods_rows("taobao", 4)
    fake_jd.goods = goods_rows("jd", 3)
    goods_source(fake_taobao)
    goods_source(fake_jd, enabled=False)
    source_for(fake_jd, goods_keywords="")
    assert tasks.refresh_rebate_goods.call_local() == 1
    assert (RebateGoods.objects.filter(network="taobao").count(), RebateGoods.objects.filter(network="jd").count()) == (
        4,
        0,
    )


def test_console_action_and_api_refresh_a_source(fake_jd: Any) -> None:
    fake_jd.goods = goods_rows("jd", 6)
    source = goods_source(fake_jd)
    console = Client()
    console.force_login(AdminFactory())
    response = console.post(
        "/console/rebate/rebatesource/", {"action": "refresh_goods_now", "_selected_action": [source.pk]}, follow=True
    )
    assert response.status_code == 200 and "已排队刷新 1 个账号的商品" in response.content.decode()
    assert RebateGoods.objects.filter(network="jd").count() == 6
    fake_jd.goods = goods_rows("jd", 8)
    operator = Api(_token(OperatorFactory()))
    assert operator.post(f"admin/rebate/sources/{source.pk}/goods-refresh").status_code == 202
    assert RebateGoods.objects.filter(network="jd").count() == 8
    listed = operator.get("admin/rebate/sources").json()[0]
    assert listed["goods_keywords"] == "优选" and listed["goods_refreshed_at"] and "secret" not in listed


def _token(user: Any) -> str:
    from jishi.accounts.services import issue_token

    return issue_token(user)
