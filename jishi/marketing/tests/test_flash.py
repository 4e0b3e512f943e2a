"""Flash sales through the database gate and the Redis gate: price, limits, close, reconcile."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import Api
from jishi.core import ledger
from jishi.core.errors import RateLimited
from jishi.inventory.models import StockItem
from jishi.marketing import flash, gate
from jishi.marketing.models import FlashItem, FlashPurchase, FlashPurchaseStatus, FlashQuota
from jishi.orders import services as orders
from jishi.orders.models import Order, OrderStatus
from jishi.payments.services import pay_with_wallet
from jishi.testing.shop import shopper

from .conftest import deliver

pytestmark = pytest.mark.django_db


def test_buying_places_a_pending_order_at_the_flash_price(gate_backend: str, flash_item: Any, now: Any) -> None:
    item = flash_item(stock=5, flash_price=1990)
    s = shopper()

    response = Api(s.token).post(f"flash-sales/{item.pk}/orders", {"quantity": 1})

    assert response.status_code == 201
    order = Order.objects.get(pk=response.json()["id"])
    assert order.status == OrderStatus.PENDING_PAYMENT
    assert order.goods_amount == 1990
    assert order.meta["campaign"] == {
        "kind": "flash",
        "id": item.pk,
        "commission": False,
        "points": True,
        "session_id": item.session_id,
        "per_person_limit": 1,
    }
    assert order.meta["inventory"] == "campaign"
    assert 9 * 60 < (order.pay_deadline - order.created_at).total_seconds() <= 10 * 60
    assert FlashItem.objects.get(pk=item.pk).stock_left == 4
    # Flash stock is the campaign's own: the warehouse reserves nothing.
    assert StockItem.objects.get(sku=item.sku).reserved == 5  # the quota, set aside when the item was made


def test_sold_out_is_a_409(gate_backend: str, flash_item: Any) -> None:
    item = flash_item(stock=1)
    Api(shopper().token).post(f"flash-sales/{item.pk}/orders", {"quantity": 1})

    response = Api(shopper().token).post(f"flash-sales/{item.pk}/orders", {"quantity": 1})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "sold_out"
    assert FlashItem.objects.get(pk=item.pk).sold_out_at is not None


def test_once_sold_out_attempts_are_refused_before_any_query(gate_backend: str, flash_item: Any) -> None:
    item = flash_item(stock=1)
    Api(shopper().token).post(f"flash-sales/{item.pk}/orders", {"quantity": 1})
    Api(shopper().token).post(f"flash-sales/{item.pk}/orders", {"quantity": 1})  # this process learns it
    late = shopper()

    with CaptureQueriesContext(connection) as queries:
        zh = Api(late.token).post(f"flash-sales/{item.pk}/orders", {"quantity": 1})
        en = Api(late.token).post(f"flash-sales/{item.pk}/orders", {"quantity": 1}, HTTP_ACCEPT_LANGUAGE="en")
        anonymous = Api().post(f"flash-sales/{item.pk}/orders", {"quantity": 1})

    assert len(queries) == 0  # no token lookup, no read: the door answers
    assert (zh.status_code, en.status_code, anonymous.status_code) == (409, 409, 409)
    assert zh.json() == {"error": {"code": "sold_out", "message": "已抢光", "fields": {}}}
    assert en.json()["error"] == {"code": "sold_out", "message": "Sold out", "fields": {}}
    assert zh["Content-Type"] == "application/json; charset=utf-8"
    assert int(zh["Content-Length"]) == len(zh.content)  # keep-alive clients need it
    assert Order.objects.filter(user=late.user).count() == 0


def test_a_retried_winning_attempt_still_replays_its_order_after_the_sell_out(
    gate_backend: str, flash_item: Any
) -> None:
    item = flash_item(stock=1)
    winner = Api(shopper().token)
    first = winner.post(f"flash-sales/{item.pk}/orders", {"quantity": 1}, headers={"Idempotency-Key": "tap-1"})
    Api(shopper().token).post(f"flash-sales/{item.pk}/orders", {"quantity": 1})
    assert flash.known_sold_out(item.pk)

    retried = winner.post(f"flash-sales/{item.pk}/orders", {"quantity": 1}, headers={"Idempotency-Key": "tap-1"})

    assert first.status_code == retried.status_code == 201
    assert retried.json()["id"] == first.json()["id"]
    assert retried["Idempotent-Replayed"] == "true"


def test_a_new_keyed_attempt_after_the_sell_out_is_refused(gate_backend: str, flash_item: Any) -> None:
    item = flash_item(stock=1)
    Api(shopper().token).post(f"flash-sales/{item.pk}/orders", {"quantity": 1})
    Api(shopper().token).post(f"flash-sales/{item.pk}/orders", {"quantity": 1})
    late = shopper()

    response = Api(late.token).post(f"flash-sales/{item.pk}/orders", {"quantity": 1}, headers={"Idempotency-Key": "k"})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "sold_out"
    assert Order.objects.filter(user=late.user).count() == 0


def test_per_person_limit_holds_across_orders(gate_backend: str, flash_item: Any) -> None:
    item = flash_item(stock=10, limit=2)
    api = Api(shopper().token)

    first = api.post(f"flash-sales/{item.pk}/orders", {"quantity": 2})
    second = api.post(f"flash-sales/{item.pk}/orders", {"quantity": 1})

    assert first.status_code == 201
    assert (second.status_code, second.json()["error"]["code"]) == (409, "flash_limit_reached")
    assert FlashItem.objects.get(pk=item.pk).stock_left == 8


@pytest.mark.parametrize(
    ("offset", "code"), [(timedelta(minutes=-10), "flash_not_started"), (timedelta(hours=2), "flash_ended")]
)
def test_outside_the_session_is_refused(
    gate_backend: str, flash_item: Any, now: Any, offset: timedelta, code: str
) -> None:
    item = flash_item()

    with pytest.raises(Exception) as exc:
        flash.buy(shopper().user, item.pk, 1, now=now + offset)

    assert exc.value.code == code  # type: ignore[attr-defined]


def test_a_rolling_session_is_always_live(gate_backend: str, flash_item: Any, now: Any) -> None:
    item = flash_item(starts_at=now - timedelta(days=3, minutes=10), ends_at=now - timedelta(days=3), rolling=True)

    order = flash.buy(shopper().user, item.pk, 1, now=now)
    (view,) = flash.current_sessions(now)

    assert order.goods_amount == item.flash_price
    assert view.live and view.starts_at <= now < view.ends_at
    assert view.ends_at - view.starts_at == timedelta(minutes=10)


def test_closing_the_unpaid_order_returns_the_unit_and_the_quota(
    gate_backend: str, flash_item: Any, django_capture_on_commit_callbacks: Any
) -> None:
    item = flash_item(stock=1)
    s = shopper()
    order = flash.buy(s.user, item.pk, 1)

    closed = orders.close_expired_orders(now=order.pay_deadline + timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        deliver()

    assert closed == 1
    assert FlashItem.objects.get(pk=item.pk).stock_left == 1
    assert FlashQuota.objects.get(item=item, user=s.user).bought == 0
    assert FlashPurchase.objects.get(order_id=order.pk).status == FlashPurchaseStatus.RETURNED
    again = flash.buy(s.user, item.pk, 1)  # the gate gave the unit and the quota back too
    assert again.status == OrderStatus.PENDING_PAYMENT


def test_paying_marks_the_purchase_paid(gate_backend: str, flash_item: Any) -> None:
    item = flash_item()
    s = shopper(wallet=10_000)
    order = flash.buy(s.user, item.pk, 1)

    pay_with_wallet(s.user, order.pk)
    deliver()

    assert FlashPurchase.objects.get(order_id=order.pk).status == FlashPurchaseStatus.PAID
    assert ledger.check_ledger() == []


def test_buyer_attempts_are_rate_limited(
    gate_backend: str, flash_item: Any, settings: Any, frozen_rate_window: float
) -> None:
    settings.JISHI_MARKETING = {**settings.JISHI_MARKETING, "FLASH_ATTEMPTS_PER_WINDOW": 2}
    item = flash_item(stock=0)
    s = shopper()

    for _ in range(2):
        with pytest.raises(flash.FlashSoldOut):
            flash.buy(s.user, item.pk, 1)
    with pytest.raises(RateLimited):
        flash.buy(s.user, item.pk, 1)


def test_current_lists_live_items_with_stock(gate_backend: str, flash_item: Any, now: Any) -> None:
    live = flash_item(stock=7, limit=2)
    flash_item(starts_at=now + timedelta(hours=2), ends_at=now + timedelta(hours=3))

    body = Api().get("flash-sales/current").json()

    assert [
        (i["id"], i["sku_id"], i["flash_price"], i["stock_left"], i["per_person_limit"]) for i in body["items"]
    ] == [(live.pk, live.sku_id, 1990, 7, 2)]
    assert len(body["upcoming"]) == 1
    assert [s["live"] for s in body["sessions"]] == [True, False]


def test_redis_gate_is_rebuilt_from_the_database_after_a_restart(redis_gate: str, flash_item: Any) -> None:
    item = flash_item(stock=3, limit=1)
    s = shopper()
    flash.buy(s.user, item.pk, 1)
    gate.client().delete(*gate.keys(item.pk))  # Redis lost everything

    with pytest.raises(flash.FlashLimitReached):
        flash.buy(s.user, item.pk, 1)  # rebuilt on the spot: the buyer's unit is remembered

    assert gate.read(item.pk) == (2, {s.user.pk: 1})


def test_reconcile_corrects_a_drifted_gate(redis_gate: str, flash_item: Any) -> None:
    item = flash_item(stock=4, limit=2)
    s = shopper()
    flash.buy(s.user, item.pk, 2)
    gate.client().set(gate.keys(item.pk)[0], 0)  # a crashed worker took units it never sold

    assert flash.reconcile_gate() == 1
    assert gate.read(item.pk) == (2, {s.user.pk: 2})


def test_the_database_refuses_what_an_over_admitting_gate_lets_through(redis_gate: str, flash_item: Any) -> None:
    item = flash_item(stock=1)
    flash.buy(shopper().user, item.pk, 1)
    gate.client().set(gate.keys(item.pk)[0], 50)  # wrong the other way

    with pytest.raises(flash.FlashSoldOut):
        flash.buy(shopper().user, item.pk, 1)

    assert FlashItem.objects.get(pk=item.pk).stock_left == 0
    assert gate.read(item.pk)[0] == 0  # and the gate learnt it


def test_a_buyer_without_an_address_gets_the_unit_back(gate_backend: str, flash_item: Any) -> None:
    item = flash_item(stock=1)
    s = shopper()
    s.address.delete()

    response = Api(s.token).post(f"flash-sales/{item.pk}/orders", {"quantity": 1})

    assert response.json()["error"]["code"] == "address_required"
    assert flash.buy(shopper().user, item.pk, 1).status == OrderStatus.PENDING_PAYMENT


def test_operator_creates_a_session_and_item(operator_api: Api, flash_item: Any, now: Any) -> None:
    sku = flash_item().sku
    session = operator_api.post(
        "/api/v1/admin/flash-sales/sessions",
        {
            "name": "20:00 场",
            "starts_at": (now + timedelta(hours=1)).isoformat(),
            "ends_at": (now + timedelta(hours=2)).isoformat(),
        },
    ).json()

    response = operator_api.post(
        f"/api/v1/admin/flash-sales/sessions/{session['id']}/items", {"sku_id": sku.pk, "flash_price": 990, "stock": 20}
    )

    assert response.status_code == 201
    assert (response.json()["stock_left"], response.json()["per_person_limit"]) == (20, 1)
