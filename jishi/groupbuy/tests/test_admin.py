"""Console: leader review, pickup points by distance, batch sheets (printable and CSV), charts."""

from __future__ import annotations

import pytest
from django.test import Client

from jishi.groupbuy import batches, pickup
from jishi.groupbuy.models import Leader, LeaderStatus, Route, RouteStop
from jishi.testing.factories import AdminFactory, UserFactory
from jishi.testing.shop import shopper

from .conftest import HOME, application, buy_paid, make_batch, make_leader, offset, to_points

pytestmark = pytest.mark.django_db


@pytest.fixture
def console() -> Client:
    client = Client()
    client.force_login(AdminFactory())
    return client


def _cut_batch() -> tuple[object, Leader, str]:
    leader = make_leader("张团长")
    batch, (eggs,) = make_batch(prices=(1200,))
    order = buy_paid(shopper(), batch, leader, [(eggs, 2)])
    to_points(batch)
    route = Route.objects.create(name="西湖线", driver="老刘")
    RouteStop.objects.create(route=route, leader=leader, position=1)
    return batch, leader, order.gb_pickup.code


def test_pick_lists_print_and_export(console: Client) -> None:
    batch, _leader, code = _cut_batch()

    page = console.get(f"/console/groupbuy/batch/{batch.pk}/pick-lists/")
    sheet = console.get(f"/console/groupbuy/batch/{batch.pk}/pick-lists.csv")

    assert page.status_code == 200
    assert code.encode() in page.content
    assert "张团长".encode() in page.content
    rows = sheet.content.decode("utf-8-sig").strip().splitlines()
    assert len(rows) == 2
    assert rows[1].split(",")[3] == code
    assert rows[1].endswith(",2")


def test_supply_routes_and_sales_pages(console: Client) -> None:
    batch, _leader, _code = _cut_batch()

    supply = console.get(f"/console/groupbuy/batch/{batch.pk}/supply.csv").content.decode("utf-8-sig")
    routes = console.get(f"/console/groupbuy/batch/{batch.pk}/routes/")
    sales = console.get(f"/console/groupbuy/batch/{batch.pk}/sales/")

    assert supply.strip().splitlines()[1].endswith(",2,1")
    assert "西湖线".encode() in routes.content
    assert "共 2 件".encode() in routes.content
    assert b"<svg" in sales.content
    assert "¥24.00".encode() in sales.content


def test_pickup_points_by_distance(console: Client) -> None:
    make_leader("近", offset(north_m=800))
    make_leader("远", offset(north_m=2900))
    make_leader("外", offset(north_m=5000))

    page = console.get(f"/console/groupbuy/pickuppoint/?lat={HOME[0]}&lng={HOME[1]}&radius_m=3000")

    text = page.content.decode()
    assert page.status_code == 200
    assert "0.80 km" in text and "2.90 km" in text
    assert text.index("近的自提点") < text.index("远的自提点")
    assert "外的自提点" not in text


def test_approve_action_and_leader_pages(console: Client) -> None:
    from jishi.groupbuy import leaders

    pending = leaders.apply(UserFactory(), application("待审", *HOME))

    console.post("/console/groupbuy/leader/", {"action": "approve", "_selected_action": [pending.pk]})
    change = console.get(f"/console/groupbuy/leader/{pending.pk}/change/")
    ranking = console.get("/console/groupbuy/leader/ranking/")

    assert Leader.objects.get(pk=pending.pk).status == LeaderStatus.APPROVED
    assert change.status_code == 200
    assert ranking.status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/console/groupbuy/batch/",
        "/console/groupbuy/pickuporder/",
        "/console/groupbuy/delivery/",
        "/console/groupbuy/route/",
        "/console/groupbuy/leaderlevel/",
        "/console/groupbuy/productrate/",
    ],
)
def test_changelists_render(console: Client, url: str) -> None:
    batch, leader, _code = _cut_batch()
    pickup.receive_delivery(None, batch.pk, leader.pk)
    assert batches.supplier_summary(batch.pk)

    assert console.get(url).status_code == 200
