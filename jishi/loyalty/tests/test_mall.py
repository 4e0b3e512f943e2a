"""The points mall: redemptions as normal orders, cash parts paid normally, returns on close and refund."""

from __future__ import annotations

import pytest

from conftest import Api
from jishi.core.events import deliver_pending
from jishi.core.ledger import check_ledger
from jishi.inventory.models import StockItem
from jishi.loyalty import points
from jishi.loyalty.models import MallItem, MallQuota, MallRedemption, OrderPoints, RedemptionStatus
from jishi.orders import services as orders
from jishi.orders.models import Order, OrderStatus
from jishi.testing.shop import Shopper, skus

from .conftest import make_level, pay, points_of, refund, wallet_of

pytestmark = pytest.mark.django_db


def item(points_price: int = 800, cash: int = 0, stock: int = 10, **kw: object) -> MallItem:
    (sku,) = skus(5900, stock=100)
    return MallItem.objects.create(name="竹制餐具套装", sku=sku, points=points_price, cash=cash, stock=stock, **kw)


def fund_points(s: Shopper, amount: int) -> None:
    points.credit(s.user.pk, amount, kind="points_adjust", key=f"fund:{s.user.pk}:{amount}")


def test_points_only_item_is_a_paid_order_at_once(rich: Shopper) -> None:
    fund_points(rich, 1000)
    thing = item()
    response = Api(rich.token).post(f"loyalty/mall/{thing.pk}/redeem", {"quantity": 1})

    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["payable"], body["points"]) == ("paid", 0, 800)
    order = Order.objects.get(pk=body["order_id"])
    assert (order.goods_amount, order.shipping_fee, order.payable) == (0, 0, 0)
    assert order.meta["campaign"] == {"kind": "points_mall", "id": thing.pk, "points": False, "commission": False}
    assert points_of(rich.user) == 200
    thing.refresh_from_db()
    assert (thing.stock, thing.redeemed) == (9, 1)
    assert StockItem.objects.get(sku=thing.sku).reserved == 1  # fulfilment ships it like any order
    assert MallRedemption.objects.get(order=order).status == RedemptionStatus.ACTIVE
    assert check_ledger() == []


def test_points_plus_cash_goes_through_normal_payment(rich: Shopper) -> None:
    fund_points(rich, 1000)
    thing = item(points_price=500, cash=1990)
    order = Order.objects.get(
        pk=Api(rich.token).post(f"loyalty/mall/{thing.pk}/redeem", {"quantity": 2}).json()["order_id"]
    )
    assert (order.status, order.payable) == (OrderStatus.PENDING_PAYMENT, 3980)
    assert points_of(rich.user) == 0
    wallet_before = wallet_of(rich.user)

    pay(rich, order)

    assert wallet_of(rich.user) == wallet_before - 3980
    assert MallRedemption.objects.get(order=order).status == RedemptionStatus.ACTIVE


def test_member_discount_and_points_do_not_apply_to_mall_orders(rich: Shopper) -> None:
    make_level("金卡", 0, discount_bp=1000)
    fund_points(rich, 1000)
    thing = item(points_price=500, cash=1000)
    body = Api(rich.token).post(f"loyalty/mall/{thing.pk}/redeem", {}).json()
    assert body["payable"] == 1000


def test_an_unpaid_redemption_closing_gives_everything_back(rich: Shopper) -> None:
    fund_points(rich, 500)
    thing = item(points_price=500, cash=100, per_person_limit=1)
    order = Order.objects.get(pk=Api(rich.token).post(f"loyalty/mall/{thing.pk}/redeem", {}).json()["order_id"])
    orders.close_order(order)
    deliver_pending()

    assert points_of(rich.user) == 500
    thing.refresh_from_db()
    assert (thing.stock, thing.redeemed) == (10, 0)
    assert MallQuota.objects.get(user=rich.user, item=thing).count == 0
    assert MallRedemption.objects.get(order=order).status == RedemptionStatus.RETURNED


def test_full_refund_of_a_cash_redemption_returns_points_stock_and_quota(rich: Shopper) -> None:
    fund_points(rich, 500)
    thing = item(points_price=500, cash=3000)
    order = Order.objects.get(pk=Api(rich.token).post(f"loyalty/mall/{thing.pk}/redeem", {}).json()["order_id"])
    pay(rich, order)
    refund(order)
    assert points_of(rich.user) == 500
    thing.refresh_from_db()
    assert thing.stock == 10
    assert OrderPoints.objects.get(order=order).used_returned == 500


def test_half_refund_returns_half_the_points(rich: Shopper) -> None:
    fund_points(rich, 1000)
    thing = item(points_price=500, cash=3000)
    order = Order.objects.get(
        pk=Api(rich.token).post(f"loyalty/mall/{thing.pk}/redeem", {"quantity": 2}).json()["order_id"]
    )
    pay(rich, order)
    refund(order, 3000, quantity=1)
    assert points_of(rich.user) == 500
    thing.refresh_from_db()
    assert thing.stock == 8  # partial refunds keep the mall stock taken


@pytest.mark.parametrize(
    ("setup", "code", "status"),
    [
        ({"stock": 0}, "mall_sold_out", 409),
        ({"points_price": 5000}, "insufficient_points", 409),
        ({"is_active": False}, "mall_item_not_found", 404),
    ],
)
def test_refusals(rich: Shopper, setup: dict, code: str, status: int) -> None:
    fund_points(rich, 1000)
    thing = item(**setup)
    response = Api(rich.token).post(f"loyalty/mall/{thing.pk}/redeem", {})
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert Order.objects.count() == 0
    assert points_of(rich.user) == 1000


def test_per_person_limit(rich: Shopper) -> None:
    fund_points(rich, 10_000)
    thing = item(points_price=100, per_person_limit=2)
    api = Api(rich.token)
    assert api.post(f"loyalty/mall/{thing.pk}/redeem", {"quantity": 2}).status_code == 201
    refused = api.post(f"loyalty/mall/{thing.pk}/redeem", {})
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "mall_limit_reached")


def test_mall_list_and_bad_quantity(buyer_api: Api) -> None:
    thing = item(cash=990)
    listed = buyer_api.get("loyalty/mall").json()
    assert [(i["id"], i["points"], i["cash"], i["stock"]) for i in listed] == [(thing.pk, 800, 990, 10)]
    assert buyer_api.post(f"loyalty/mall/{thing.pk}/redeem", {"quantity": 0}).status_code == 422
    assert buyer_api.post(f"loyalty/mall/{thing.pk}/redeem", {"quantity": 100}).status_code == 422


def test_a_points_only_redemption_can_be_returned_and_gives_every_point_back(rich: Shopper) -> None:
    fund_points(rich, 1000)
    thing = item(points_price=800)
    order = Order.objects.get(
        pk=Api(rich.token).post(f"loyalty/mall/{thing.pk}/redeem", {"quantity": 1}).json()["order_id"]
    )
    deliver_pending()
    line = order.lines.get()

    response = Api(rich.token).post(
        f"orders/{order.pk}/after-sales",
        {"lines": [{"line_id": line.pk, "quantity": 1}], "amount": 0, "reason": "不喜欢"},
    )
    assert response.status_code == 201, response.content
    orders.approve_after_sale(None, response.json()["id"])
    deliver_pending()

    assert Order.objects.get(pk=order.pk).status == OrderStatus.REFUNDED
    assert points_of(rich.user) == 1000
    thing.refresh_from_db()
    assert (thing.stock, thing.redeemed) == (10, 0)
    assert MallRedemption.objects.get(order=order).status == RedemptionStatus.RETURNED
    assert check_ledger() == []


def test_an_amount_of_zero_is_refused_when_money_was_paid(rich: Shopper) -> None:
    (sku,) = skus(5000)
    order = pay(rich, orders.place_order(rich.user, [(sku.pk, 1)], rich.address.pk))
    line = order.lines.get()
    response = Api(rich.token).post(
        f"orders/{order.pk}/after-sales", {"lines": [{"line_id": line.pk, "quantity": 1}], "amount": 0, "reason": "x"}
    )
    assert (response.status_code, response.json()["error"]["code"]) == (422, "amount_exceeds_refundable")
