"""Routing at checkout: delivery from the store (fee, slot, stock), pickup, express, shortages."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

import pytest
from django.utils import timezone

from jishi.accounts.services import issue_token
from jishi.core.errors import Conflict
from jishi.core.events import deliver_pending
from jishi.inventory import services as inventory
from jishi.inventory.models import StockItem
from jishi.orders import services as orders
from jishi.orders.models import Order
from jishi.retail import checkout, fulfilment
from jishi.retail.models import DeliverySlot, Fulfilment
from jishi.retail.testing import make_store, point_from
from jishi.testing.concurrency import errors, race
from jishi.testing.factories import AddressFactory, SkuFactory, UserFactory

pytestmark = pytest.mark.django_db


def _address(user: Any, store: Any, meters: float) -> Any:
    lat, lng = point_from(store, meters)
    return AddressFactory(user=user, latitude=lat, longitude=lng)


def _stock(sku: Any, location_id: int) -> tuple[int, int]:
    item = StockItem.objects.get(sku=sku, location_id=location_id)
    return item.on_hand, item.reserved


def test_delivery_order_takes_stock_from_the_store_and_charges_its_fee(
    buyer: Any, buyer_api: Any, store: Any, sku: Any
) -> None:
    address = _address(buyer, store, 2900)
    body = {
        "lines": [{"sku_id": sku.pk, "quantity": 2}],
        "address_id": address.pk,
        "mode": "delivery",
        "store_id": store.pk,
    }
    preview = buyer_api.post("retail/checkout/preview", body)
    assert preview.status_code == 200, preview.content
    assert preview.json()["shipping_fee"] == 500
    assert preview.json()["payable"] == 6500
    resp = buyer_api.post("retail/orders", body)
    assert resp.status_code == 201, resp.content
    order = Order.objects.get(pk=resp.json()["orders"][0]["id"])
    assert (order.location_id, order.shipping_fee, order.payable) == (store.location_id, 500, 6500)
    assert _stock(sku, store.location_id) == (10, 2)
    assert _stock(sku, inventory.default_location().pk) == (50, 0)
    f = Fulfilment.objects.get(order=order)
    assert (f.mode, f.status, f.distance_m, f.fee, f.pickup_code) == ("delivery", "new", 2900, 500, "")


def test_address_outside_the_area_is_refused(buyer: Any, buyer_api: Any, store: Any, sku: Any) -> None:
    address = _address(buyer, store, 4000)
    body = {
        "lines": [{"sku_id": sku.pk, "quantity": 1}],
        "address_id": address.pk,
        "mode": "delivery",
        "store_id": store.pk,
    }
    resp = buyer_api.post("retail/orders", body)
    assert resp.status_code == 409
    assert resp.json()["error"]["code"] == "out_of_area"
    assert Order.objects.count() == 0


def test_minimum_order_for_delivery(buyer: Any, buyer_api: Any, sku: Any) -> None:
    store = make_store("起送店", stock={sku.pk: 10}, min_order_amount=5000)
    address = _address(buyer, store, 500)
    body = {
        "lines": [{"sku_id": sku.pk, "quantity": 1}],
        "address_id": address.pk,
        "mode": "delivery",
        "store_id": store.pk,
    }
    resp = buyer_api.post("retail/orders", body)
    assert resp.status_code == 409
    assert resp.json()["error"]["code"] == "below_minimum_order"
    body["lines"] = [{"sku_id": sku.pk, "quantity": 2}]
    assert buyer_api.post("retail/orders", body).status_code == 201


def test_pickup_needs_no_address_and_draws_a_code(buyer_api: Any, store: Any, sku: Any) -> None:
    body = {"lines": [{"sku_id": sku.pk, "quantity": 1}], "mode": "pickup", "store_id": store.pk}
    resp = buyer_api.post("retail/orders", body)
    assert resp.status_code == 201, resp.content
    order = Order.objects.get(pk=resp.json()["orders"][0]["id"])
    assert (order.shipping_fee, order.payable, order.location_id) == (0, 3000, store.location_id)
    code = Fulfilment.objects.get(order=order).pickup_code
    assert len(code) == 6 and code.isdigit()
    mine = buyer_api.get(f"retail/orders/{order.pk}/fulfilment").json()
    assert mine["pickup_code"] == code


def test_express_is_an_ordinary_order_from_the_warehouse(buyer: Any, buyer_api: Any, store: Any, sku: Any) -> None:
    address = AddressFactory(user=buyer)
    body = {"lines": [{"sku_id": sku.pk, "quantity": 1}], "address_id": address.pk, "mode": "express"}
    resp = buyer_api.post("retail/orders", body)
    assert resp.status_code == 201
    order = Order.objects.get(pk=resp.json()["orders"][0]["id"])
    assert order.location_id == inventory.default_location().pk
    assert not Fulfilment.objects.filter(order=order).exists()


def test_checkout_options_list_covering_stores_with_what_they_lack(
    buyer: Any, buyer_api: Any, store: Any, sku: Any
) -> None:
    other = SkuFactory(price=100, stock=5)
    address = _address(buyer, store, 1000)
    orders.add_to_cart(buyer, sku.pk, 1)
    orders.add_to_cart(buyer, other.pk, 1)
    resp = buyer_api.get(f"retail/checkout/options?address_id={address.pk}")
    assert resp.status_code == 200
    body = resp.json()
    assert [(o["store_id"], o["distance_m"], o["fee"], o["missing_sku_ids"]) for o in body["delivery"]] == [
        (store.pk, 1000, 500, [other.pk])
    ]
    assert [o["store_id"] for o in body["pickup"]] == [store.pk]


def test_short_store_offers_another(buyer: Any, buyer_api: Any, sku: Any) -> None:
    short = make_store("缺货店", stock={sku.pk: 1})
    full = make_store("有货店", at=point_from(short, 800, 90), stock={sku.pk: 9})
    address = _address(buyer, short, 300)
    body = {
        "lines": [{"sku_id": sku.pk, "quantity": 3}],
        "address_id": address.pk,
        "mode": "delivery",
        "store_id": short.pk,
    }
    resp = buyer_api.post("retail/orders", body)
    assert resp.status_code == 409
    assert resp.json()["error"] == {
        "code": "store_short",
        "message": "该门店库存不足，可选择其他门店",
        "fields": {"sku_id": [str(sku.pk)], "store_id": [str(full.pk)]},
    }


def test_split_rule_sends_the_rest_by_express(buyer: Any, sku: Any, settings: Any) -> None:
    settings.JISHI_RETAIL = {"SHORTAGE_RULE": "split"}
    lacking = SkuFactory(price=100, stock=5)
    store = make_store("分单店", stock={sku.pk: 5})
    address = _address(buyer, store, 300)
    placed = checkout.place(buyer, [(sku.pk, 1), (lacking.pk, 2)], address.pk, {}, mode="delivery", store_id=store.pk)
    assert [o.location_id for o in placed] == [store.location_id, inventory.default_location().pk]
    assert [[line.sku_id for line in o.lines.all()] for o in placed] == [[sku.pk], [lacking.pk]]
    assert placed[0].shipping_fee == 500


def _slot(store: Any, capacity: int) -> DeliverySlot:
    return fulfilment.create_slot(store, timezone.localdate() + timedelta(days=1), time(18), time(19), capacity)


def test_slot_books_one_seat_and_refuses_when_full(buyer: Any, store: Any, sku: Any) -> None:
    slot = _slot(store, 1)
    address = _address(buyer, store, 500)
    checkout.place(buyer, [(sku.pk, 1)], address.pk, {}, mode="delivery", store_id=store.pk, slot_id=slot.pk)
    slot.refresh_from_db()
    assert slot.booked == 1
    with pytest.raises(Conflict) as exc:
        checkout.place(buyer, [(sku.pk, 1)], address.pk, {}, mode="delivery", store_id=store.pk, slot_id=slot.pk)
    assert exc.value.code == "slot_full"
    assert Order.objects.count() == 1
    assert _stock(sku, store.location_id) == (10, 1)


def test_closing_an_order_frees_its_slot(buyer: Any, store: Any, sku: Any) -> None:
    slot = _slot(store, 1)
    address = _address(buyer, store, 500)
    [order] = checkout.place(buyer, [(sku.pk, 1)], address.pk, {}, mode="delivery", store_id=store.pk, slot_id=slot.pk)
    orders.cancel_order(buyer, order.pk)
    deliver_pending()
    slot.refresh_from_db()
    assert slot.booked == 0
    assert Fulfilment.objects.get(order=order).status == "cancelled"
    assert _stock(sku, store.location_id) == (10, 0)


@pytest.mark.django_db(transaction=True)
def test_slot_at_capacity_refuses_the_next_order_under_a_race() -> None:
    sku = SkuFactory(price=1000, stock=0)
    store = make_store("抢单店", stock={sku.pk: 100})
    slot = _slot(store, 5)
    buyers = []
    for _i in range(12):
        user = UserFactory()
        buyers.append((user, _address(user, store, 800)))
    results = race(
        12,
        lambda i: checkout.place(
            buyers[i][0], [(sku.pk, 1)], buyers[i][1].pk, {}, mode="delivery", store_id=store.pk, slot_id=slot.pk
        ),
    )
    assert len([r for r in results if isinstance(r, list)]) == 5
    assert {getattr(e, "code", str(e)) for e in errors(results)} == {"slot_full"}
    slot.refresh_from_db()
    assert slot.booked == 5
    assert Fulfilment.objects.filter(slot=slot).count() == 5
    assert _stock(sku, store.location_id) == (100, 5)


def test_other_buyer_cannot_see_my_fulfilment(buyer_api: Any, store: Any, sku: Any) -> None:
    body = {"lines": [{"sku_id": sku.pk, "quantity": 1}], "mode": "pickup", "store_id": store.pk}
    order_id = buyer_api.post("retail/orders", body).json()["orders"][0]["id"]
    from conftest import Api

    other = Api(issue_token(UserFactory()))
    assert other.get(f"retail/orders/{order_id}/fulfilment").status_code == 404
