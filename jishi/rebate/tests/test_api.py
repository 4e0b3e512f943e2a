"""The rebate API: public feed, buyers' links, orders and balance; operators' console endpoints."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import Api
from jishi.accounts.services import issue_token
from jishi.commission.models import Withdrawal
from jishi.distribution import services as distribution
from jishi.rebate import feeds, lifecycle, links
from jishi.rebate.fakes import FakeNetwork, generate
from jishi.rebate.models import Network, NetworkOrder, OrderStatus, RebateSource, ReviewState
from jishi.testing.factories import UserFactory

from .conftest import moved, report, tracked_buyer
from .test_feeds import PDD_ITEM, TAOBAO_ITEM

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue() -> None:
    feeds.import_goods(Network.TAOBAO, [TAOBAO_ITEM])
    feeds.import_goods(Network.PDD, [PDD_ITEM])


def test_public_feed_with_network_tab_and_search(api: Api, catalogue: None) -> None:
    body = api.get("rebate/goods").json()
    assert body["count"] == 2
    first = next(g for g in body["items"] if g["network"] == "taobao")
    assert (first["price"], first["price_after_coupon"], first["coupon"], first["self_rebate"]) == (
        19900,
        16900,
        3000,
        1310,
    )
    assert (first["save"], first["share_earn"]) == (4310, None)
    assert [g["title"] for g in api.get("rebate/goods?network=pdd").json()["items"]] == ["家用抽纸 24 包"]
    assert [g["title"] for g in api.get("rebate/goods?q=lanya").json()["items"]] == ["无线蓝牙耳机 降噪"]


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "offset=-1", "network=amazon"])
def test_bad_feed_filters_are_422(api: Api, query: str) -> None:
    response = api.get(f"rebate/goods?{query}")
    assert (response.status_code, response.json()["error"]["code"]) == (422, "invalid")


def test_promoter_sees_what_sharing_earns(catalogue: None) -> None:
    promoter = UserFactory()
    distribution.apply(promoter)
    items = Api(issue_token(promoter)).get("rebate/goods?network=taobao").json()["items"]
    assert items[0]["share_earn"] == 524


def test_link_needs_a_buyer_and_carries_the_tracking_id(api: Api, buyer: Any, buyer_api: Api, catalogue: None) -> None:
    goods_id = api.get("rebate/goods?network=taobao").json()["items"][0]["id"]
    assert api.post(f"rebate/goods/{goods_id}/link").status_code == 401
    links.record_link(buyer, Network.TAOBAO)  # registered before (test_registration registers through the fake)
    body = buyer_api.post(f"rebate/goods/{goods_id}/link").json()
    assert body["tracking_id"] == str(3_000_000_000 + buyer.pk)
    assert body["url"] == f"https://uland.example/coupon?id=1&relationId={3_000_000_000 + buyer.pk}"
    assert body["share_code"].startswith("￥") and len(body["share_code"]) == 13
    assert body["share_code"] in body["share_text"]
    assert buyer_api.post(f"rebate/goods/{goods_id}/link").json()["share_code"] == body["share_code"]
    assert buyer_api.post("rebate/goods/999999/link").status_code == 404


def test_my_orders_and_balance_are_my_own(buyer_api: Api, buyer: Any) -> None:
    from jishi.rebate.links import record_link as link_for

    mine = link_for(buyer, Network.TAOBAO)
    _other, theirs = tracked_buyer()
    lifecycle.record_reports(None, "taobao", [report(mine, n=1, estimate=2000), report(theirs, n=2, estimate=800)])
    lifecycle.record_reports(
        None, "taobao", [moved(report(mine, n=1, estimate=2000), OrderStatus.SETTLED, commission_actual=2000)]
    )
    lifecycle.record_reports(None, "taobao", [report(mine, n=3, estimate=600)])
    body = buyer_api.get("rebate/orders").json()
    assert body["count"] == 2
    assert [(o["order_id"], o["status"], o["credit"], o["rebate"]) for o in body["items"]] == [
        ("O3", "paid", "pending", 300),
        ("O1", "settled", "available", 1000),
    ]
    balance = buyer_api.get("rebate/balance").json()
    assert (balance["pending"], balance["available"], balance["earned"]) == (300, 1000, 1300)
    response = buyer_api.post("rebate/withdrawals", {"amount": 1000, "channel": "wallet"})
    assert response.status_code == 201
    assert Withdrawal.objects.get().amount == 1000
    assert (
        buyer_api.post("rebate/withdrawals", {"amount": 500, "channel": "wallet"}).json()["error"]["code"]
        == "below_minimum"
    )


def test_operators_only(buyer_api: Api) -> None:
    assert buyer_api.get("admin/rebate/sources").status_code == 403


def test_source_secret_is_write_only(operator_api: Api, fake_jd: FakeNetwork) -> None:
    body = {
        "network": "jd",
        "name": "京东主账号",
        "app_key": fake_jd.app_key,
        "secret": fake_jd.secret,
        "endpoint": fake_jd.url,
    }
    created = operator_api.post("admin/rebate/sources", body)
    assert created.status_code == 201
    assert "secret" not in created.json() and fake_jd.secret not in created.content.decode()
    source = RebateSource.objects.get()
    assert fake_jd.secret not in source.secret_encrypted
    listed = operator_api.get("admin/rebate/sources")
    assert fake_jd.secret not in listed.content.decode()
    generate(fake_jd, 5, [tracked_buyer(Network.JD)[1].tracking_id], *_last_half_hour())
    assert operator_api.post(f"admin/rebate/sources/{source.pk}/sync").status_code == 202
    assert NetworkOrder.objects.count() == 5
    assert operator_api.get("admin/rebate/sources").json()[0]["last_error"] == ""
    changed = operator_api.put(f"admin/rebate/sources/{source.pk}", {"secret": "rotated", "enabled": False})
    assert (changed.status_code, changed.json()["enabled"]) == (200, False)
    bad = operator_api.post("admin/rebate/sources", {**body, "endpoint": "ftp://x.example"})
    assert (bad.status_code, bad.json()["error"]["fields"]) == (422, {"endpoint": ["http(s) URL"]})


def _last_half_hour() -> tuple[Any, Any]:
    from datetime import timedelta

    from django.utils import timezone

    return timezone.now() - timedelta(minutes=40), timezone.now() - timedelta(minutes=10)


def test_review_queue_assign_and_dismiss(operator_api: Api) -> None:
    lifecycle.record_reports(None, "pdd", [report(None, n=1, network="pdd"), report(None, n=2, network="pdd")])
    queue = operator_api.get("admin/rebate/orders?review=pending").json()
    assert queue["count"] == 2
    buyer = UserFactory()
    first, second = sorted(o["id"] for o in queue["items"])
    assigned = operator_api.post(f"admin/rebate/orders/{first}/assign", {"phone": buyer.phone})
    assert (assigned.status_code, assigned.json()["buyer_id"], assigned.json()["credit"]) == (200, buyer.pk, "pending")
    assert operator_api.post(f"admin/rebate/orders/{first}/assign", {"phone": buyer.phone}).status_code == 409
    assert operator_api.post(f"admin/rebate/orders/{second}/dismiss").status_code == 200
    assert operator_api.post(f"admin/rebate/orders/{second}/dismiss").status_code == 404
    assert NetworkOrder.objects.get(pk=second).review == ReviewState.DISMISSED
    assert operator_api.post(f"admin/rebate/orders/{second}/assign", {"phone": "19999999999"}).status_code == 404


def test_split_settings(operator_api: Api) -> None:
    assert [s["buyer_bp"] for s in operator_api.get("admin/rebate/splits").json()] == [5000, 5000, 5000]
    refused = operator_api.put("admin/rebate/splits/jd", {"buyer_bp": 9000, "promoter_bp": 1001})
    assert (refused.status_code, refused.json()["error"]["code"]) == (422, "split_over_100")
    assert operator_api.put("admin/rebate/splits/jd", {"buyer_bp": 9000, "promoter_bp": 1000}).status_code == 200
    assert operator_api.put("admin/rebate/splits/jd", {"buyer_bp": 10001, "promoter_bp": 0}).status_code == 422


def test_reconciliation_endpoint(operator_api: Api, fake_jd: FakeNetwork) -> None:
    from .conftest import source_for

    source = source_for(fake_jd)
    assert operator_api.get(f"admin/rebate/sources/{source.pk}/reconciliation?month=2026-13").status_code == 422
    body = operator_api.get(f"admin/rebate/sources/{source.pk}/reconciliation?month=2026-11").json()
    assert (body["orders"], body["network_net"], body["differences"], body["anomalies"]) == (0, 0, [], [])
    assert operator_api.get("admin/rebate/sources/999/reconciliation?month=2026-11").status_code == 404
