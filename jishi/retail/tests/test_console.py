"""Console: store pages render, a store added in the console gets its location, sales chart."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from jishi.retail import pos
from jishi.retail.models import Store
from jishi.testing.factories import AdminFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def console() -> Client:
    client = Client()
    client.force_login(AdminFactory())
    return client


def test_console_pages_render(console: Client, store: Any) -> None:
    for url in [
        "/console/retail/store/",
        "/console/retail/store/add/",
        f"/console/retail/store/{store.pk}/change/",
        "/console/retail/fulfilment/",
        "/console/retail/transfer/",
        "/console/retail/stockcount/",
        "/console/retail/countersale/",
    ]:
        resp = console.get(url)
        assert resp.status_code == 200, url


def test_store_added_in_the_console_is_a_location_and_the_cap_holds(console: Client) -> None:
    form = {
        "name": "控制台店",
        "city": "杭州",
        "address": "文三路",
        "phone": "",
        "status": "open",
        "latitude": "30.27",
        "longitude": "120.15",
        "delivery_enabled": "on",
        "pickup_enabled": "on",
        "area_kind": "radius",
        "delivery_radius_m": "3000",
        "polygon": "[]",
        "fee_tiers": '[{"up_to_m": 3000, "fee": 500}]',
        "fee_per_km_beyond": "100",
        "fee_cap": "2000",
        "min_order_amount": "0",
        "prep_minutes": "",
    }
    for prefix in ("hours", "holidays", "photos", "staff", "slots"):
        form.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    resp = console.post("/console/retail/store/add/", form)
    assert resp.status_code == 302, resp.content.decode()[:2000]
    store = Store.objects.get(name="控制台店")
    assert store.location.kind == "store"
    form.update({"name": "太远店", "delivery_radius_m": "10001"})
    resp = console.post("/console/retail/store/add/", form)
    assert resp.status_code == 200
    assert "10000" in resp.content.decode()
    assert not Store.objects.filter(name="太远店").exists()


def test_sales_chart_splits_online_and_offline(console: Client, store: Any, clerk: Any, sku: Any) -> None:
    pos.ring_up(clerk, store.pk, UserFactory(), [pos.BasketLine(2, sku_id=sku.pk)], tender="cash")
    resp = console.get("/console/retail/store/sales/")
    assert resp.status_code == 200
    text = resp.content.decode()
    assert "<svg" in text
    assert "¥60.00" in text


def test_a_transfer_made_in_the_console_moves_stock_by_barcode(console: Client, store: Any, sku: Any) -> None:
    from jishi.inventory import services as inventory
    from jishi.inventory.models import StockItem
    from jishi.retail.models import Transfer

    sku.barcode = "6907000000001"
    sku.save(update_fields=["barcode"])
    warehouse = inventory.default_location()
    assert console.get("/console/retail/transfer/add/").status_code == 200
    form = {"source": warehouse.pk, "target": store.location_id, "lines": "6907000000001 5\n"}
    resp = console.post("/console/retail/transfer/add/", form)
    assert resp.status_code == 302
    assert resp["Location"] == "/console/retail/transfer/"
    [record] = Transfer.objects.all()
    assert (record.source_id, record.target_id, record.lines) == (warehouse.pk, store.location_id, [[sku.pk, 5]])
    on_hand = dict(StockItem.objects.filter(sku=sku).values_list("location_id", "on_hand"))
    assert (on_hand[warehouse.pk], on_hand[store.location_id]) == (45, 15)


@pytest.mark.parametrize(
    ("lines", "status", "text"),
    [
        ("6907000000001 51", 409, "库存不足"),
        ("6900000000000 1", 400, "条码不存在"),
        ("6907000000001 x", 400, "第 1 行"),
    ],
)
def test_a_console_transfer_that_cannot_be_made_moves_nothing(
    console: Client, store: Any, sku: Any, lines: str, status: int, text: str
) -> None:
    from jishi.inventory import services as inventory
    from jishi.inventory.models import StockItem
    from jishi.retail.models import Transfer

    sku.barcode = "6907000000001"
    sku.save(update_fields=["barcode"])
    form = {"source": inventory.default_location().pk, "target": store.location_id, "lines": lines}
    resp = console.post("/console/retail/transfer/add/", form)
    assert resp.status_code == status
    assert text in resp.content.decode()
    assert Transfer.objects.count() == 0
    assert sorted(StockItem.objects.filter(sku=sku).values_list("on_hand", flat=True)) == [10, 50]
