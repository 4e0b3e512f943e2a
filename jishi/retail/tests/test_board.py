"""The store board: each step (buyer told), pickup codes per store, riders, the fake courier."""

from __future__ import annotations

import time
from typing import Any

import pytest

from conftest import Api
from jishi.accounts.services import issue_token
from jishi.core.models import OutboxEvent
from jishi.inventory.models import StockItem
from jishi.orders.models import Order, OrderStatus
from jishi.retail.models import Fulfilment
from jishi.retail.testing import clerk_of, make_store, point_from
from jishi.testing.factories import UserFactory

from .conftest import paid_store_order

pytestmark = pytest.mark.django_db


def _stock(sku: Any, store: Any) -> tuple[int, int]:
    item = StockItem.objects.get(sku=sku, location=store.location)
    return item.on_hand, item.reserved


def _statuses(order: Order) -> list[str]:
    return [
        e.payload["status"]
        for e in OutboxEvent.objects.filter(name="retail.fulfilment").order_by("id")
        if e.payload["order_id"] == order.pk
    ]


def test_delivery_walks_the_board_and_tells_the_buyer(clerk_api: Api, store: Any, sku: Any) -> None:
    order = paid_store_order(store, sku, quantity=2)
    for status in ("picking", "ready", "out_for_delivery", "delivered"):
        resp = clerk_api.post(f"retail/staff/orders/{order.pk}/advance", {"status": status})
        assert resp.status_code == 200, resp.content
        assert resp.json()["status"] == status
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert _stock(sku, store) == (8, 0)
    assert _statuses(order) == ["picking", "ready", "out_for_delivery", "delivered"]


def test_a_step_cannot_be_skipped(clerk_api: Api, store: Any, sku: Any) -> None:
    order = paid_store_order(store, sku)
    resp = clerk_api.post(f"retail/staff/orders/{order.pk}/advance", {"status": "out_for_delivery"})
    assert resp.status_code == 409
    assert resp.json()["error"]["code"] == "invalid_transition"


def test_pickup_code_verified_by_the_store(clerk_api: Api, store: Any, sku: Any) -> None:
    order = paid_store_order(store, sku, mode="pickup")
    code = Fulfilment.objects.get(order=order).pickup_code
    for status in ("picking", "ready_for_pickup"):
        assert clerk_api.post(f"retail/staff/orders/{order.pk}/advance", {"status": status}).status_code == 200
    assert (
        clerk_api.post(
            f"retail/staff/stores/{store.pk}/pickups", {"code": "000000" if code != "000000" else "111111"}
        ).status_code
        == 404
    )
    resp = clerk_api.post(f"retail/staff/stores/{store.pk}/pickups", {"code": code})
    assert resp.status_code == 200, resp.content
    assert resp.json()["status"] == "picked_up"
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert _stock(sku, store) == (9, 0)
    assert clerk_api.post(f"retail/staff/stores/{store.pk}/pickups", {"code": code}).status_code == 404
    ready = [
        e for e in OutboxEvent.objects.filter(name="retail.fulfilment") if e.payload["status"] == "ready_for_pickup"
    ]
    assert [e.payload["pickup_code"] for e in ready] == [code]


def test_clerk_of_another_store_gets_403_and_sees_nothing(store: Any, sku: Any) -> None:
    other_store = make_store("B店", at=point_from(store, 5000), stock={sku.pk: 5})
    other_clerk = Api(issue_token(clerk_of(other_store, UserFactory())))
    order = paid_store_order(store, sku, mode="pickup")
    code = Fulfilment.objects.get(order=order).pickup_code
    resp = other_clerk.post(f"retail/staff/stores/{store.pk}/pickups", {"code": code})
    assert resp.status_code == 403
    assert resp.json()["error"]["code"] == "not_store_staff"
    assert other_clerk.get(f"retail/staff/stores/{store.pk}/board").status_code == 403
    assert other_clerk.post(f"retail/staff/orders/{order.pk}/advance", {"status": "picking"}).status_code == 404
    # Its own store's pickups endpoint does not know the code either.
    assert other_clerk.post(f"retail/staff/stores/{other_store.pk}/pickups", {"code": code}).status_code == 404
    assert Fulfilment.objects.get(order=order).status == "new"


def test_buyer_without_clerk_role_is_refused(buyer_api: Api, store: Any) -> None:
    assert buyer_api.get(f"retail/staff/stores/{store.pk}/board").status_code == 403


def test_board_lists_paid_orders_without_codes(clerk_api: Api, store: Any, sku: Any) -> None:
    order = paid_store_order(store, sku, mode="pickup")
    rows = clerk_api.get(f"retail/staff/stores/{store.pk}/board").json()
    assert [(r["order_id"], r["status"], r["pickup_code"]) for r in rows] == [(order.pk, "new", "")]


def test_rider_must_be_own_staff(clerk_api: Api, store: Any, sku: Any) -> None:
    order = paid_store_order(store, sku)
    outsider = UserFactory()
    resp = clerk_api.post(f"retail/staff/orders/{order.pk}/rider", {"rider_id": outsider.pk})
    assert resp.status_code == 422
    rider = clerk_of(store, UserFactory())
    resp = clerk_api.post(f"retail/staff/orders/{order.pk}/rider", {"rider_id": rider.pk})
    assert resp.json()["rider_id"] == rider.pk


def _ready(clerk_api: Api, order: Order) -> None:
    for status in ("picking", "ready"):
        assert clerk_api.post(f"retail/staff/orders/{order.pk}/advance", {"status": status}).status_code == 200


def test_fake_courier_creates_and_its_signed_callbacks_move_the_board(
    clerk_api: Api, api: Api, store: Any, sku: Any, fake_courier: Any
) -> None:
    order = paid_store_order(store, sku)
    _ready(clerk_api, order)
    resp = clerk_api.post(f"retail/staff/orders/{order.pk}/courier")
    assert resp.status_code == 200, resp.content
    f = Fulfilment.objects.get(order=order)
    assert (f.courier_ref, f.courier_status, f.courier_order_id) == (f"D{order.number}", "created", "FK000001")
    assert fake_courier.orders["FK000001"]["fee"] == 500
    for status, board in (("accepted", "ready"), ("picked_up", "out_for_delivery"), ("delivered", "delivered")):
        body, headers = fake_courier.callback("FK000001", status)
        resp = api.client.post(
            "/api/v1/retail/courier/callback", body, content_type="application/json", headers=headers
        )
        assert resp.status_code == 200, resp.content
        assert Fulfilment.objects.get(order=order).status == board
    body, headers = fake_courier.callback("FK000001", "delivered")  # a replay changes nothing
    resp = api.client.post("/api/v1/retail/courier/callback", body, content_type="application/json", headers=headers)
    assert resp.json() == {"code": 0, "outcome": "recorded"}
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED


def test_courier_callback_with_a_bad_or_old_signature_is_refused(
    clerk_api: Api, api: Api, store: Any, sku: Any, fake_courier: Any
) -> None:
    order = paid_store_order(store, sku)
    _ready(clerk_api, order)
    clerk_api.post(f"retail/staff/orders/{order.pk}/courier")
    body, headers = fake_courier.callback("FK000001", "picked_up")
    forged = {**headers, "X-Signature": "0" * 64}
    resp = api.client.post("/api/v1/retail/courier/callback", body, content_type="application/json", headers=forged)
    assert resp.status_code == 422
    assert resp.json()["error"]["code"] == "invalid_signature"
    body, headers = fake_courier.callback("FK000001", "picked_up", at=time.time() - 3600)
    resp = api.client.post("/api/v1/retail/courier/callback", body, content_type="application/json", headers=headers)
    assert resp.status_code == 422
    assert Fulfilment.objects.get(order=order).status == "ready"


def test_courier_cancel(clerk_api: Api, store: Any, sku: Any, fake_courier: Any) -> None:
    order = paid_store_order(store, sku)
    _ready(clerk_api, order)
    clerk_api.post(f"retail/staff/orders/{order.pk}/courier")
    resp = clerk_api.post(f"retail/staff/orders/{order.pk}/courier/cancel")
    assert resp.status_code == 200
    assert fake_courier.orders["FK000001"]["status"] == "cancelled"
    assert Fulfilment.objects.get(order=order).courier_status == "cancelled"


def test_a_crashed_courier_request_is_resumed_with_the_same_number(store: Any, sku: Any, fake_courier: Any) -> None:
    from jishi.retail import courier

    order = paid_store_order(store, sku)
    Fulfilment.objects.filter(order=order).update(
        status="ready", courier="fake", courier_ref="Dfixed", courier_status="requested"
    )
    assert courier.resume_pending_requests() == 1
    assert courier.resume_pending_requests() == 0
    assert [p["ref"] for path, p in fake_courier.requests if path == "/orders"] == ["Dfixed"]
    assert Fulfilment.objects.get(order=order).courier_status == "created"


def test_the_buyer_is_told_in_the_inbox_when_the_goods_are_ready_once(clerk_api: Api, store: Any, sku: Any) -> None:
    from jishi.core.events import deliver_pending
    from jishi.notify.models import Message

    order = paid_store_order(store, sku, mode="pickup")
    code = Fulfilment.objects.get(order=order).pickup_code
    for status in ("picking", "ready_for_pickup"):
        assert clerk_api.post(f"retail/staff/orders/{order.pk}/advance", {"status": status}).status_code == 200
    deliver_pending()
    OutboxEvent.objects.filter(name="retail.fulfilment").update(dispatched_at=None)
    deliver_pending()  # redelivered: nothing twice

    ready = Message.objects.filter(user_id=order.user_id, key=f"order:{order.pk}:store:ready_for_pickup")
    assert ready.count() == 1
    assert code in ready.get().body
    assert ready.get().category == "order"


def test_a_stock_count_of_an_unknown_sku_is_refused_and_writes_nothing(store: Any) -> None:
    """Found by the served fuzz on PostgreSQL: the foreign key failed at COMMIT, a 500."""
    from jishi.core.errors import NotFound
    from jishi.retail import stores
    from jishi.retail.models import StockCount

    with pytest.raises(NotFound) as refused:
        stores.count_stock(None, store, [(11_533_654, 3)])

    assert refused.value.code == "sku_unavailable"
    assert StockCount.objects.count() == 0
