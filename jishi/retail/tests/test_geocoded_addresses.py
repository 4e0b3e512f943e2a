"""Addresses without a point: geocoded through the AMap adapter (local fake) before anything is
saved, never inside a transaction; a failure is a 422 or a 502 and places no order."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from jishi.accounts.models import Address
from jishi.core import geocoding
from jishi.core.fake_amap import FakeAmapServer
from jishi.orders.models import Order
from jishi.retail.models import Fulfilment
from jishi.retail.testing import point_from
from jishi.testing.factories import AddressFactory

pytestmark = pytest.mark.django_db

NEW_ADDRESS = {
    "contact": "李四",
    "phone": "13800000001",
    "province": "浙江省",
    "city": "杭州市",
    "district": "西湖区",
    "detail": "文三路 88 号",
}
NEW_TEXT = "浙江省杭州市西湖区文三路88号"
FACTORY_TEXT = "浙江省杭州市西湖区文三路100号"  # AddressFactory's address


def _order_body(sku: Any, address_id: int, store: Any, mode: str = "delivery") -> dict[str, Any]:
    return {
        "lines": [{"sku_id": sku.pk, "quantity": 1}],
        "address_id": address_id,
        "mode": mode,
        "store_id": store.pk if mode != "express" else None,
    }


def test_an_address_saved_without_a_point_is_geocoded(
    buyer_api: Any, store: Any, sku: Any, amap: FakeAmapServer
) -> None:
    amap.places[NEW_TEXT] = point_from(store, 2900)
    resp = buyer_api.post("addresses", NEW_ADDRESS)
    assert resp.status_code == 201, resp.content
    assert (resp.json()["latitude"], resp.json()["longitude"]) == pytest.approx(point_from(store, 2900), abs=1e-6)
    options = buyer_api.get(f"retail/checkout/options?address_id={resp.json()['id']}")
    assert options.status_code == 200
    [option] = options.json()["delivery"]
    assert (option["store_id"], option["distance_m"], option["fee"]) == (store.pk, 2900, 500)


def test_a_point_given_with_the_address_is_not_geocoded(buyer_api: Any, amap: FakeAmapServer) -> None:
    resp = buyer_api.post("addresses", {**NEW_ADDRESS, "latitude": 30.3, "longitude": 120.2})
    assert resp.status_code == 201
    assert (resp.json()["latitude"], resp.json()["longitude"]) == (30.3, 120.2)
    assert amap.requests == []


def test_a_changed_address_is_geocoded_again_and_a_default_switch_is_not(
    buyer_api: Any, store: Any, amap: FakeAmapServer
) -> None:
    amap.places[NEW_TEXT] = point_from(store, 1000)
    amap.places["浙江省杭州市西湖区文二路1号"] = point_from(store, 2000)
    created = buyer_api.post("addresses", NEW_ADDRESS).json()
    changed = buyer_api.put(f"addresses/{created['id']}", {**NEW_ADDRESS, "detail": "文二路 1 号"})
    assert changed.status_code == 200
    assert (changed.json()["latitude"], changed.json()["longitude"]) == pytest.approx(point_from(store, 2000), abs=1e-6)
    same = buyer_api.put(f"addresses/{created['id']}", {**NEW_ADDRESS, "detail": "文二路 1 号", "is_default": True})
    assert same.status_code == 200
    assert len(amap.requests) == 2  # the unchanged address kept its point


def test_an_old_address_without_a_point_is_geocoded_at_checkout(
    buyer: Any, buyer_api: Any, store: Any, sku: Any, amap: FakeAmapServer
) -> None:
    address = AddressFactory(user=buyer)
    amap.places[FACTORY_TEXT] = point_from(store, 1200)
    resp = buyer_api.post("retail/orders", _order_body(sku, address.pk, store))
    assert resp.status_code == 201, resp.content
    fulfilment = Fulfilment.objects.get(order_id=resp.json()["orders"][0]["id"])
    assert (fulfilment.distance_m, fulfilment.fee) == (1200, 500)
    address.refresh_from_db()
    assert (address.latitude, address.longitude) == pytest.approx(point_from(store, 1200), abs=1e-6)


def test_an_address_the_geocoder_cannot_place_is_a_422_and_no_order(
    buyer: Any, buyer_api: Any, store: Any, sku: Any, amap: FakeAmapServer
) -> None:
    address = AddressFactory(user=buyer, province="火星", city="奥林帕斯", district="山区", detail="1 号")
    resp = buyer_api.post("retail/orders", _order_body(sku, address.pk, store))
    assert resp.status_code == 422
    assert resp.json()["error"]["code"] == "address_not_located"
    options = buyer_api.get(f"retail/checkout/options?address_id={address.pk}")
    assert options.status_code == 422
    assert options.json()["error"]["code"] == "address_not_located"
    assert Order.objects.count() == 0


@pytest.mark.parametrize("failure", ["gateway", "signature"])
def test_geocoder_down_or_refusing_is_a_502_and_no_order(
    buyer: Any, buyer_api: Any, store: Any, sku: Any, amap: FakeAmapServer, failure: str
) -> None:
    if failure == "gateway":
        amap.http_status = 502
    else:
        amap.private_key = "rotated-at-amap"  # our sig no longer verifies
    address = AddressFactory(user=buyer)
    resp = buyer_api.post("retail/orders", _order_body(sku, address.pk, store))
    assert resp.status_code == 502
    assert resp.json()["error"]["code"] == "geocoder_unavailable"
    preview = buyer_api.post("retail/checkout/preview", _order_body(sku, address.pk, store))
    assert preview.status_code == 502
    assert Order.objects.count() == 0
    address.refresh_from_db()
    assert address.latitude is None


def test_geocoder_down_still_saves_the_address_and_express_still_ships(
    buyer_api: Any, store: Any, sku: Any, amap: FakeAmapServer
) -> None:
    amap.http_status = 502
    created = buyer_api.post("addresses", NEW_ADDRESS)
    assert created.status_code == 201
    assert created.json()["latitude"] is None
    resp = buyer_api.post("retail/orders", _order_body(sku, created.json()["id"], store, mode="express"))
    assert resp.status_code == 201, resp.content


class InTransactionSpy:
    """Wraps the AMap adapter and notes, for each call, whether a transaction was open."""

    name = "spy"

    def __init__(self, inner: geocoding.Geocoder) -> None:
        self.inner = inner
        self.in_transaction: list[bool] = []

    def locate(self, query: geocoding.AddressQuery) -> geocoding.GeoPoint | None:
        self.in_transaction.append(connection.in_atomic_block)
        return self.inner.locate(query)


@pytest.mark.django_db(transaction=True)
def test_the_geocoder_is_never_called_inside_a_transaction(
    buyer: Any, buyer_api: Any, store: Any, sku: Any, amap: FakeAmapServer
) -> None:
    spy = InTransactionSpy(geocoding.AmapGeocoder(amap.key, amap.private_key, amap.url))
    geocoding.use_geocoder(spy)
    amap.places[NEW_TEXT] = point_from(store, 800)
    amap.places[FACTORY_TEXT] = point_from(store, 900)
    assert buyer_api.post("addresses", NEW_ADDRESS).status_code == 201
    old = Address.objects.create(
        user=buyer, contact="张三", phone="13800000000", province="浙江省", city="杭州市", district="西湖区",
        detail="文三路 100 号",
    )  # fmt: skip
    assert buyer_api.post("retail/orders", _order_body(sku, old.pk, store)).status_code == 201
    assert spy.in_transaction == [False, False]
