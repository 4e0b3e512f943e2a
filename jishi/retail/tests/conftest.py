"""Retail fixtures: a stocked store, its clerk, and a paid store order."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from conftest import Api
from jishi.accounts.services import issue_token
from jishi.core import geocoding
from jishi.core.fake_amap import FakeAmapServer
from jishi.payments import services as payments
from jishi.retail import checkout, courier
from jishi.retail.fake_courier import FakeCourierServer
from jishi.retail.testing import clerk_of, make_store, point_from
from jishi.testing.factories import AddressFactory, SkuFactory, UserFactory
from jishi.testing.shop import fund_wallet


@pytest.fixture
def sku(db: Any) -> Any:
    return SkuFactory(price=3000, stock=50)


@pytest.fixture
def store(sku: Any) -> Any:
    return make_store("A店", stock={sku.pk: 10})


@pytest.fixture
def clerk(store: Any) -> Any:
    return clerk_of(store, UserFactory())


@pytest.fixture
def clerk_api(clerk: Any) -> Api:
    return Api(issue_token(clerk))


def paid_store_order(store: Any, sku: Any, mode: str = "delivery", quantity: int = 1) -> Any:
    buyer = UserFactory()
    fund_wallet(buyer, 100_000)
    address = None
    if mode == "delivery":
        lat, lng = point_from(store, 1200)
        address = AddressFactory(user=buyer, latitude=lat, longitude=lng).pk
    [order] = checkout.place(buyer, [(sku.pk, quantity)], address, {}, mode=mode, store_id=store.pk)
    payments.pay_with_wallet(buyer, order.pk)
    order.refresh_from_db()
    return order


@pytest.fixture
def fake_courier() -> Iterator[FakeCourierServer]:
    server = FakeCourierServer(courier.default_secret()).start()
    courier.use_adapter(courier.HttpCourier(server.url, server.secret))
    yield server
    courier.use_adapter(None)
    server.stop()


@pytest.fixture
def amap() -> Iterator[FakeAmapServer]:
    """The local AMap Web service, signing on, answering every geocode of the test."""
    server = FakeAmapServer("retail-test-key", "retail-test-private").start()
    geocoding.use_geocoder(geocoding.AmapGeocoder(server.key, server.private_key, server.url, timeout=3))
    yield server
    geocoding.use_geocoder(None)
    server.stop()
