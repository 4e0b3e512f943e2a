"""Stores, areas and the deliverable-stores search."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jishi.core import geo
from jishi.inventory.models import LocationKind, StockItem
from jishi.retail import routing, stores
from jishi.retail.models import Store
from jishi.retail.testing import HANGZHOU, make_store, point_from
from jishi.testing.factories import SkuFactory

pytestmark = pytest.mark.django_db


def test_distance_of_one_degree_of_latitude() -> None:
    assert geo.distance_m(30.0, 120.0, 31.0, 120.0) == 111_195


@settings(max_examples=200, deadline=None)
@given(
    lat=st.floats(-80, 80),
    lng=st.floats(-179.9, 179.9),
    bearing=st.floats(0, 360),
    meters=st.floats(1, 10_000),
)
def test_bounding_box_holds_every_point_within_the_radius(
    lat: float, lng: float, bearing: float, meters: float
) -> None:
    p_lat, p_lng = geo.destination(lat, lng, bearing, meters)
    box = geo.bounding_box(lat, lng, meters)
    lngs_ok = box.min_lng <= p_lng <= box.max_lng or box.min_lng <= p_lng - 360 or p_lng + 360 <= box.max_lng
    assert box.min_lat <= p_lat <= box.max_lat
    assert lngs_ok
    assert abs(geo.distance_m(lat, lng, p_lat, p_lng) - meters) <= 1


def test_polygon_contains() -> None:
    square = [[30.0, 120.0], [30.0, 120.1], [30.1, 120.1], [30.1, 120.0]]
    assert geo.in_polygon(30.05, 120.05, square)
    assert not geo.in_polygon(30.15, 120.05, square)


def test_store_is_an_inventory_location(operator_api: Any) -> None:
    body = {
        "name": "西湖店",
        "address": "杭州市西湖区文三路 1 号",
        "latitude": HANGZHOU[0],
        "longitude": HANGZHOU[1],
        "delivery_radius_m": 3000,
        "fee_tiers": [{"up_to_m": 3000, "fee": 500}],
        "fee_per_km_beyond": 100,
        "fee_cap": 2000,
    }
    resp = operator_api.post("admin/retail/stores", body)
    assert resp.status_code == 201, resp.content
    store = Store.objects.get(pk=resp.json()["id"])
    assert store.location.kind == LocationKind.STORE
    assert resp.json()["fee_tiers"] == [{"up_to_m": 3000, "fee": 500}]


def test_default_radius_is_3_km(operator_api: Any) -> None:
    body = {"name": "店", "address": "地址", "latitude": 30.0, "longitude": 120.0}
    resp = operator_api.post("admin/retail/stores", body)
    assert resp.status_code == 201
    assert resp.json()["delivery_radius_m"] == 3000


@pytest.mark.parametrize(("radius", "status"), [(10_000, 201), (10_001, 422)])
def test_radius_cap_is_10_km(operator_api: Any, radius: int, status: int) -> None:
    body = {"name": "店", "address": "地址", "latitude": 30.0, "longitude": 120.0, "delivery_radius_m": radius}
    resp = operator_api.post("admin/retail/stores", body)
    assert resp.status_code == status
    if status == 422:
        assert resp.json()["error"]["code"] == "radius_too_large"
        assert Store.objects.count() == 0


def test_buyer_cannot_create_stores(buyer_api: Any) -> None:
    resp = buyer_api.post("admin/retail/stores", {"name": "店", "address": "地址", "latitude": 30, "longitude": 120})
    assert resp.status_code == 403


def test_only_the_covering_store_delivers_with_its_tier_fee(api: Any) -> None:
    a = make_store("A店")
    address = point_from(a, 2900)
    b = make_store("B店", at=geo.destination(address[0], address[1], 90, 4000))
    resp = api.get(f"retail/stores/deliverable?lat={address[0]}&lng={address[1]}")
    assert resp.status_code == 200
    assert resp.json() == {"items": [{"id": a.pk, "name": "A店", "distance_m": 2900, "fee": 500, "eta_minutes": 32}]}
    assert b.pk not in [i["id"] for i in resp.json()["items"]]


def test_nearest_first_and_fee_beyond_the_tier(api: Any) -> None:
    far = make_store("远店", radius_m=8000)
    address = point_from(far, 4200)
    near = make_store("近店", at=geo.destination(address[0], address[1], 180, 1000), radius_m=3000)
    items = api.get(f"retail/stores/deliverable?lat={address[0]}&lng={address[1]}").json()["items"]
    assert [(i["id"], i["distance_m"], i["fee"]) for i in items] == [(near.pk, 1000, 500), (far.pk, 4200, 700)]


def test_fee_is_capped() -> None:
    store = make_store(radius_m=10_000, fee_cap=800)
    assert routing.delivery_fee(store, 9_999) == 800


def test_a_point_exactly_at_the_radius_is_inside() -> None:
    store = make_store(radius_m=3000)
    lat, lng = point_from(store, 3000, bearing=37)
    assert [r.store.pk for r in routing.deliverable(lat, lng)] == [store.pk]
    lat, lng = point_from(store, 3001, bearing=37)
    assert routing.deliverable(lat, lng) == []


def test_polygon_area() -> None:
    store = make_store(
        kind="polygon",
        polygon=((30.26, 120.14), (30.26, 120.17), (30.29, 120.17), (30.29, 120.14)),
    )
    assert [r.store.pk for r in routing.deliverable(30.28, 120.16)] == [store.pk]
    assert routing.deliverable(30.25, 120.16) == []


def test_resting_store_does_not_deliver() -> None:
    store = make_store()
    stores.set_status(None, store, "resting")
    assert routing.deliverable(*point_from(store, 100)) == []


def test_deliverable_is_one_statement(django_assert_max_num_queries: Any) -> None:
    stores_ = [make_store(f"店{i}", at=geo.destination(*HANGZHOU, i * 36, 1500)) for i in range(10)]
    with django_assert_max_num_queries(1):
        found = routing.deliverable(*HANGZHOU)
    assert len(found) == len(stores_)


def test_bad_point_is_422(api: Any) -> None:
    assert api.get("retail/stores/deliverable?lat=91&lng=0").status_code == 422
    assert api.get("retail/stores/deliverable?lat=nan&lng=0").status_code == 422


def test_transfer_moves_unreserved_stock_only(operator_api: Any) -> None:
    sku = SkuFactory()
    a = make_store("A店", stock={sku.pk: 5})
    b = make_store("B店")
    body = {
        "source_location_id": a.location_id,
        "target_location_id": b.location_id,
        "lines": [{"sku_id": sku.pk, "quantity": 6}],
    }
    resp = operator_api.post("admin/retail/transfers", body)
    assert resp.status_code == 409
    assert resp.json()["error"]["code"] == "out_of_stock"
    body["lines"] = [{"sku_id": sku.pk, "quantity": 4}]
    assert operator_api.post("admin/retail/transfers", body).status_code == 201
    on_hand = dict(StockItem.objects.filter(sku=sku).values_list("location_id", "on_hand"))
    assert on_hand == {a.location_id: 1, b.location_id: 4}


def test_hours_and_holidays() -> None:
    from datetime import date, datetime, time

    from django.utils import timezone

    store = make_store()
    stores.set_hours(store, [(d, time(9), time(21)) for d in range(7)])
    stores.set_holiday(store, date(2026, 1, 1))
    store = stores.get_store(store.pk)
    tz = timezone.get_current_timezone()
    assert stores.is_open(store, datetime(2026, 1, 2, 10, tzinfo=tz))
    assert not stores.is_open(store, datetime(2026, 1, 2, 22, tzinfo=tz))
    assert not stores.is_open(store, datetime(2026, 1, 1, 10, tzinfo=tz))
