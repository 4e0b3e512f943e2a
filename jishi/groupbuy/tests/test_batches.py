"""Batches: buying at the group price for pickup, limits, the cut-off, pick lists and summaries."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import Api
from jishi.core.events import deliver_pending
from jishi.groupbuy import batches
from jishi.groupbuy.models import (
    BatchItem,
    BatchStatus,
    PickListLine,
    PickupOrder,
    PickupPoint,
    PickupStatus,
    PointLoad,
    SupplyLine,
)
from jishi.orders import services as orders
from jishi.orders.models import Order, OrderStatus
from jishi.testing.shop import shopper

from .conftest import buy_paid, make_batch, make_leader

pytestmark = pytest.mark.django_db


def test_buyer_orders_at_the_group_price_for_pickup(buyer_api: Api, buyer: Any) -> None:
    leader = make_leader()
    batch, (apples, eggs) = make_batch(prices=(1500, 990), group_prices=(1190, 790))
    buyer_api.post("groupbuy/me/leader", {"leader_id": leader.pk})

    response = buyer_api.post(
        f"groupbuy/batches/{batch.pk}/orders",
        {"lines": [{"sku_id": apples.sku_id, "quantity": 2}, {"sku_id": eggs.sku_id, "quantity": 1}]},
    )

    body = response.json()
    order = Order.objects.get(pk=body["order_id"])
    assert response.status_code == 201
    assert order.payable == 2 * 1190 + 790
    assert order.shipping_fee == 0
    assert order.address == {}
    assert order.meta["groupbuy"] == {"batch_id": batch.pk, "leader_id": leader.pk}
    assert body["leader_id"] == leader.pk
    assert len(body["code"]) == 8 and body["code"].isdigit()
    assert [i.stock_left for i in BatchItem.objects.order_by("id")] == [98, 99]


def test_ordering_without_a_leader_is_refused(buyer_api: Api) -> None:
    batch, (item,) = make_batch()

    response = buyer_api.post(
        f"groupbuy/batches/{batch.pk}/orders", {"lines": [{"sku_id": item.sku_id, "quantity": 1}]}
    )

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "leader_required"


def test_a_sku_outside_the_batch_is_refused(buyer_api: Api) -> None:
    leader = make_leader()
    batch, _items = make_batch()
    _other, (elsewhere,) = make_batch()

    response = buyer_api.post(
        f"groupbuy/batches/{batch.pk}/orders",
        {"lines": [{"sku_id": elsewhere.sku_id, "quantity": 1}], "leader_id": leader.pk},
    )

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "not_in_batch"
    assert Order.objects.count() == 0


def test_per_person_limit_counts_across_orders(buyer_api: Api) -> None:
    leader = make_leader()
    batch, (item,) = make_batch(limit=3)
    body = {"lines": [{"sku_id": item.sku_id, "quantity": 2}], "leader_id": leader.pk}

    first = buyer_api.post(f"groupbuy/batches/{batch.pk}/orders", body)
    second = buyer_api.post(f"groupbuy/batches/{batch.pk}/orders", body)

    assert first.status_code == 201
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "batch_limit_reached"
    assert BatchItem.objects.get(pk=item.pk).stock_left == 98


def test_stock_runs_out(buyer_api: Api) -> None:
    leader = make_leader()
    batch, (item,) = make_batch(stock=2)

    response = buyer_api.post(
        f"groupbuy/batches/{batch.pk}/orders",
        {"lines": [{"sku_id": item.sku_id, "quantity": 3}], "leader_id": leader.pk},
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "sold_out"
    assert BatchItem.objects.get(pk=item.pk).stock_left == 2


@pytest.mark.parametrize(("delta", "status"), [(-1, 201), (0, 409), (1, 409)])
def test_ordering_at_the_cut_off_is_refused(
    buyer_api: Api, monkeypatch: pytest.MonkeyPatch, delta: int, status: int
) -> None:
    leader = make_leader()
    cutoff = timezone.now().replace(microsecond=0) + timedelta(hours=2)
    batch, (item,) = make_batch(cutoff=cutoff)
    frozen = cutoff + timedelta(seconds=delta)
    monkeypatch.setattr(timezone, "now", lambda: frozen)

    response = buyer_api.post(
        f"groupbuy/batches/{batch.pk}/orders",
        {"lines": [{"sku_id": item.sku_id, "quantity": 1}], "leader_id": leader.pk},
    )

    assert response.status_code == status
    if status == 409:
        assert response.json()["error"]["code"] == "batch_closed"
    else:
        assert Order.objects.get().pay_deadline == cutoff - timedelta(seconds=1) + timedelta(minutes=1)


def test_unpaid_order_closing_gives_stock_and_quota_back(buyer_api: Api) -> None:
    leader = make_leader()
    batch, (item,) = make_batch(limit=2)
    body = {"lines": [{"sku_id": item.sku_id, "quantity": 2}], "leader_id": leader.pk}
    order_id = buyer_api.post(f"groupbuy/batches/{batch.pk}/orders", body).json()["order_id"]

    orders.close_order(Order.objects.get(pk=order_id))
    deliver_pending()
    again = buyer_api.post(f"groupbuy/batches/{batch.pk}/orders", body)

    assert PickupOrder.objects.get(order_id=order_id).status == PickupStatus.CLOSED
    assert again.status_code == 201
    assert BatchItem.objects.get(pk=item.pk).stock_left == 98


def test_a_point_takes_orders_up_to_its_daily_capacity_and_a_closed_one_frees_its_place() -> None:
    leader = make_leader()
    PickupPoint.objects.filter(leader=leader).update(daily_capacity=2)
    batch, (item,) = make_batch()
    first, second, third = shopper(), shopper(), shopper()
    unpaid = batches.buy(first.user, batch.pk, [(item.sku_id, 1)], leader.pk)
    buy_paid(second, batch, leader, [(item, 1)])

    with pytest.raises(batches.PointFull):
        batches.buy(third.user, batch.pk, [(item.sku_id, 1)], leader.pk)
    orders.close_order(unpaid)
    deliver_pending()
    placed = batches.buy(third.user, batch.pk, [(item.sku_id, 1)], leader.pk)

    assert placed.meta["groupbuy"]["leader_id"] == leader.pk
    assert PointLoad.objects.get(leader=leader, pickup_date=batch.pickup_date).orders == 2
    assert BatchItem.objects.get(pk=item.pk).stock_left == 98


def test_point_full_is_a_409_through_the_api(buyer_api: Api) -> None:
    leader = make_leader()
    PickupPoint.objects.filter(leader=leader).update(daily_capacity=1)
    batch, (item,) = make_batch()
    buy_paid(shopper(), batch, leader, [(item, 1)])

    refused = buyer_api.post(
        f"groupbuy/batches/{batch.pk}/orders",
        {"lines": [{"sku_id": item.sku_id, "quantity": 1}], "leader_id": leader.pk},
    )

    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "pickup_point_full"
    assert BatchItem.objects.get(pk=item.pk).stock_left == 99  # the refused order took nothing


def test_payment_after_the_cut_off_is_refunded() -> None:
    leader = make_leader()
    s = shopper(wallet=10_000)
    batch, (item,) = make_batch()
    order = batches.buy(s.user, batch.pk, [(item.sku_id, 1)], leader.pk)
    type(batch).objects.filter(pk=batch.pk).update(cutoff_at=timezone.now() - timedelta(seconds=1))

    from jishi.payments.services import pay_with_wallet

    pay_with_wallet(s.user, order.pk)
    deliver_pending()

    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    assert PickupOrder.objects.get(order=order).status == PickupStatus.REFUNDED


def _orders_for(n_leaders: int, per_leader: int, *, due: bool = True) -> tuple[Any, list[Any], list[Any]]:
    batch, items = make_batch(prices=(1000, 2000))
    people = [make_leader(f"团长{i}") for i in range(n_leaders)]
    for leader in people:
        for k in range(per_leader):
            buy_paid(shopper(), batch, leader, [(items[0], 1 + k % 2), (items[1], 1)])
    if due:
        _due(batch)
    return batch, items, people


def _due(batch: Any) -> None:
    type(batch).objects.filter(pk=batch.pk).update(cutoff_at=timezone.now())


def test_cut_off_writes_pick_lists_and_supplier_summary() -> None:
    batch, (a, b), (first, second) = _orders_for(2, 3, due=False)
    unpaid = batches.buy(shopper().user, batch.pk, [(a.sku_id, 4)], first.pk)
    _due(batch)

    assert batches.cut_off(batch.pk) is True
    assert batches.cut_off(batch.pk) is False

    batch.refresh_from_db()
    assert batch.status == BatchStatus.CUT_OFF
    rows = list(PickListLine.objects.filter(batch=batch).values_list("leader_id", "sku_id", "quantity", "orders"))
    assert rows == [
        (first.pk, a.sku_id, 4, 3),
        (first.pk, b.sku_id, 3, 3),
        (second.pk, a.sku_id, 4, 3),
        (second.pk, b.sku_id, 3, 3),
    ]
    supply = list(SupplyLine.objects.filter(batch=batch).values_list("sku_id", "quantity", "leaders"))
    assert supply == [(a.sku_id, 8, 2), (b.sku_id, 6, 2)]
    assert PickupOrder.objects.get(order=unpaid).status == PickupStatus.AWAITING_PAYMENT


def test_pick_list_names_buyers_with_their_codes() -> None:
    batch, _items, (leader,) = _orders_for(1, 2)
    batches.cut_off(batch.pk)

    data = batches.pick_list(batch.pk, leader.pk)

    codes = sorted(PickupOrder.objects.filter(leader=leader).values_list("code", flat=True))
    assert [b["code"] for b in data["buyers"]] == codes
    assert [p.quantity for p in data["products"]] == [3, 2]


def test_cut_off_is_set_based() -> None:
    small, *_ = _orders_for(1, 1)
    large, *_ = _orders_for(3, 4)

    with CaptureQueriesContext(connection) as few:
        batches.cut_off(small.pk)
    with CaptureQueriesContext(connection) as many:
        batches.cut_off(large.pk)

    assert len(few.captured_queries) == len(many.captured_queries)
    assert len(many.captured_queries) <= 10
    assert PickListLine.objects.filter(batch=large).count() == 6


def test_batch_moves_through_its_states_in_order(operator_api: Api) -> None:
    batch, _items = make_batch()

    too_early = operator_api.post(f"admin/groupbuy/batches/{batch.pk}/transitions/purchasing")
    type(batch).objects.filter(pk=batch.pk).update(cutoff_at=timezone.now())
    steps = [
        operator_api.post(f"admin/groupbuy/batches/{batch.pk}/transitions/{a}")
        for a in ("cut-off", "purchasing", "delivering")
    ]
    skip = operator_api.post(f"admin/groupbuy/batches/{batch.pk}/transitions/close")

    assert too_early.status_code == 409
    assert [r.json()["status"] for r in steps] == ["cut_off", "purchasing", "delivering"]
    assert skip.status_code == 409
    assert skip.json()["error"]["code"] == "invalid_transition"


def test_operator_creates_a_batch_and_items(operator_api: Api) -> None:
    from jishi.testing.factories import SkuFactory

    sku = SkuFactory(price=1500)
    now = timezone.now()
    created = operator_api.post(
        "admin/groupbuy/batches",
        {
            "name": "周三团",
            "sale_starts_at": now.isoformat(),
            "cutoff_at": (now + timedelta(hours=10)).isoformat(),
            "delivery_date": str((now + timedelta(days=1)).date()),
            "pickup_date": str((now + timedelta(days=1)).date()),
        },
    )
    batch_id = created.json()["id"]
    above = operator_api.post(
        f"admin/groupbuy/batches/{batch_id}/items", {"sku_id": sku.pk, "group_price": 1600, "stock": 10}
    )
    item = operator_api.post(
        f"admin/groupbuy/batches/{batch_id}/items", {"sku_id": sku.pk, "group_price": 1200, "stock": 10}
    )
    twice = operator_api.post(
        f"admin/groupbuy/batches/{batch_id}/items", {"sku_id": sku.pk, "group_price": 1200, "stock": 10}
    )

    assert created.status_code == 201
    assert above.status_code == 422
    assert item.status_code == 201
    assert item.json()["stock_left"] == 10
    assert twice.status_code == 409
