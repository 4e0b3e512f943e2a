"""The buyer's own pages through the test client: orders, order detail, after-sales, addresses, me."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from jishi.accounts.models import Address
from jishi.core import ledger
from jishi.inventory.models import StockItem
from jishi.orders import services as orders
from jishi.orders.models import AfterSale, AfterSaleStatus, Order, OrderStatus
from jishi.payments import services as payments
from jishi.storefront import queries
from jishi.testing.factories import AddressFactory, OperatorFactory
from jishi.testing.shop import Shopper, fund_wallet

from .conftest import Shop, sku_of

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def text(response: Any) -> str:
    return response.content.decode()


def place(buyer: Shopper, shop: Shop, *, apples: int = 2, pu_erh: int = 0, pay: bool = False) -> Order:
    lines = [(sku_of(shop.apple).pk, apples)] + ([(sku_of(shop.pu_erh).pk, pu_erh)] if pu_erh else [])
    order = orders.place_order(buyer.user, lines, buyer.address.pk)
    if pay:
        fund_wallet(buyer.user, order.payable, key=f"fund:{order.pk}")
        payments.pay_with_wallet(buyer.user, order.pk)
        order.refresh_from_db()
    return order


def ship(order: Order) -> Order:
    return orders.ship_order(OperatorFactory(), order.pk, "顺丰速运", "SF1234567890")


# --- order list -------------------------------------------------------------------------


def test_orders_need_login(client: Client, db: None) -> None:
    assert client.get("/orders/")["Location"] == "/login/?next=/orders/"


def test_no_orders_says_so(me_client: Client) -> None:
    body = text(me_client.get("/orders/"))

    assert "暂无订单" in body


def test_order_list_shows_my_orders_only_with_status(
    me_client: Client, me: Shopper, other: Shopper, shop: Shop
) -> None:
    pending = place(me, shop)
    paid = place(me, shop, pay=True)
    theirs = place(other, shop)

    body = text(me_client.get("/orders/"))

    assert body.count('class="order-card"') == 2
    assert f'data-order="{pending.pk}"' in body
    assert f'data-order="{paid.pk}"' in body
    assert f'data-order="{theirs.pk}"' not in body
    assert '<span class="status status-paid">待发货</span>' in body
    assert f'href="/orders/{pending.pk}/pay/"' in body


@pytest.mark.parametrize(
    ("tab", "expected"),
    [
        ("", {"pending", "paid", "shipped"}),
        ("pending_payment", {"pending"}),
        ("paid", {"paid"}),
        ("shipped", {"shipped"}),
    ],
)
def test_order_tabs_filter_by_status(me_client: Client, me: Shopper, shop: Shop, tab: str, expected: set[str]) -> None:
    made = {"pending": place(me, shop), "paid": place(me, shop, pay=True), "shipped": ship(place(me, shop, pay=True))}

    body = text(me_client.get("/orders/", {"status": tab}))

    shown = {name for name, order in made.items() if f'data-order="{order.pk}"' in body}
    assert shown == expected
    assert f'href="/orders/{"?status=" + tab if tab else ""}" class="on"' in body


def test_after_sale_tab_shows_orders_in_refund(me_client: Client, me: Shopper, shop: Shop) -> None:
    order = place(me, shop, pay=True)
    place(me, shop, pay=True)
    orders.request_after_sale(me.user, order.pk, [(order.lines.get().pk, 1)], 100, "不想要了")

    body = text(me_client.get("/orders/", {"status": "after_sale"}))

    assert body.count('class="order-card"') == 1
    assert f'data-order="{order.pk}"' in body


def test_unknown_tab_means_all(me_client: Client, me: Shopper, shop: Shop) -> None:
    place(me, shop)

    response = me_client.get("/orders/", {"status": "<script>"})

    assert response.status_code == 200
    assert text(response).count('class="order-card"') == 1


def test_order_list_loads_more_with_htmx(
    me_client: Client, me: Shopper, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queries, "ORDERS_PAGE_SIZE", 2)
    for _i in range(3):
        place(me, shop, apples=1)

    first = text(me_client.get("/orders/"))
    more = me_client.get("/orders/?page=2", headers=HTMX)

    assert first.count('class="order-card"') == 2
    assert 'hx-get="?page=2"' in first
    assert "<html" not in text(more)
    assert text(more).count('class="order-card"') == 1
    assert "没有更多了" in text(more)


def test_order_list_query_count_does_not_grow_with_orders(me_client: Client, me: Shopper, shop: Shop) -> None:
    place(me, shop)
    me_client.get("/orders/")
    with CaptureQueriesContext(connection) as few:
        me_client.get("/orders/")
    for _i in range(4):
        place(me, shop, apples=1, pu_erh=0)
    with CaptureQueriesContext(connection) as many:
        response = me_client.get("/orders/")

    assert text(response).count('class="order-card"') == 5
    assert len(many) == len(few)


# --- order detail ---------------------------------------------------------------------


def test_order_detail_shows_status_address_lines_amounts_and_method(me_client: Client, me: Shopper, shop: Shop) -> None:
    order = place(me, shop, apples=2, pu_erh=1, pay=True)

    body = text(me_client.get(f"/orders/{order.pk}/"))

    assert '<strong class="order-status" data-status="paid">待发货</strong>' in body
    assert "张三" in body
    assert "浙江省杭州市西湖区文三路 100 号" in body
    assert "烟台红富士苹果" in body
    assert "云南普洱茶饼" in body
    assert "<dd>¥146.30</dd>" in body  # goods: 2 × 39.90 + 66.50
    assert '<div data-step="shipping"><dt>运费</dt><dd>+¥10.00</dd></div>' in body
    assert '<dd class="price">¥156.30</dd>' in body
    assert "<dd data-method>余额</dd>" in body
    assert f"<dd data-number>{order.number}</dd>" in body
    assert "申请售后" in body
    assert "取消订单" not in body


def test_order_detail_shows_tracking_and_confirm_when_shipped(me_client: Client, me: Shopper, shop: Shop) -> None:
    order = ship(place(me, shop, pay=True))

    body = text(me_client.get(f"/orders/{order.pk}/"))

    assert "已发货" in body
    assert "顺丰速运 · <span data-tracking>SF1234567890</span>" in body
    assert "确认收货" in body


def test_pending_order_offers_pay_and_cancel(me_client: Client, me: Shopper, shop: Shop) -> None:
    order = place(me, shop)

    body = text(me_client.get(f"/orders/{order.pk}/"))

    assert f'href="/orders/{order.pk}/pay/"' in body
    assert f'action="/orders/{order.pk}/cancel/"' in body
    assert "申请售后" not in body


@pytest.mark.parametrize("path", ["", "after-sales/"])
def test_someone_elses_order_is_404(client: Client, other: Shopper, me: Shopper, shop: Shop, path: str) -> None:
    order = place(me, shop, pay=True)
    client.force_login(other.user)

    assert client.get(f"/orders/{order.pk}/{path}").status_code == 404


def test_missing_order_is_404(me_client: Client) -> None:
    assert me_client.get("/orders/999999/").status_code == 404


def test_cancelling_a_pending_order_closes_it_and_returns_stock(me_client: Client, me: Shopper, shop: Shop) -> None:
    order = place(me, shop, apples=2)

    response = me_client.post(f"/orders/{order.pk}/cancel/")

    order.refresh_from_db()
    assert response["Location"] == f"/orders/{order.pk}/"
    assert order.status == OrderStatus.CLOSED
    item = StockItem.objects.get(sku=sku_of(shop.apple))
    assert item.on_hand - item.reserved == 50


def test_cancelling_a_paid_order_is_refused_with_a_message(me_client: Client, me: Shopper, shop: Shop) -> None:
    order = place(me, shop, pay=True)

    response = me_client.post(f"/orders/{order.pk}/cancel/")

    order.refresh_from_db()
    assert response.status_code == 409
    assert "订单当前状态不允许此操作" in text(response)
    assert order.status == OrderStatus.PAID


@pytest.mark.parametrize("action", ["cancel", "confirm"])
def test_acting_on_someone_elses_order_is_404(
    client: Client, me: Shopper, other: Shopper, shop: Shop, action: str
) -> None:
    order = place(me, shop)
    client.force_login(other.user)

    response = client.post(f"/orders/{order.pk}/{action}/")

    order.refresh_from_db()
    assert response.status_code == 404
    assert order.status == OrderStatus.PENDING_PAYMENT


def test_confirming_receipt_completes_the_order(me_client: Client, me: Shopper, shop: Shop) -> None:
    order = ship(place(me, shop, pay=True))

    me_client.post(f"/orders/{order.pk}/confirm/")

    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert "已确认收货" in text(me_client.get(f"/orders/{order.pk}/"))


def test_order_actions_are_post_only(me_client: Client, me: Shopper, shop: Shop) -> None:
    order = place(me, shop)

    assert me_client.get(f"/orders/{order.pk}/cancel/").status_code == 405


# --- after-sales ----------------------------------------------------------------------


def test_after_sale_form_defaults_to_everything_and_the_most_refundable(
    me_client: Client, me: Shopper, shop: Shop
) -> None:
    order = place(me, shop, apples=2, pu_erh=1, pay=True)  # paid 156.30 with shipping

    body = text(me_client.get(f"/orders/{order.pk}/after-sales/"))

    assert body.count('type="checkbox" name="line"') == 2
    assert body.count("checked") >= 3  # both lines and 仅退款
    assert 'name="amount" step="0.01" min="0.01" max="156.30" inputmode="decimal"\n           value="156.30"' in body
    assert "最多可退 ¥156.30" in body
    assert re.search(r'value="return_refund" disabled', body)  # not shipped yet


def test_after_sale_most_refundable_follows_the_picked_lines(me_client: Client, me: Shopper, shop: Shop) -> None:
    order = place(me, shop, apples=2, pu_erh=1, pay=True)
    apple_line = order.lines.get(sku=sku_of(shop.apple))

    response = me_client.get(
        f"/orders/{order.pk}/after-sales/", {"line": apple_line.pk, f"qty_{apple_line.pk}": 1}, headers=HTMX
    )

    assert 'data-most="3990"' in text(response)


def test_requesting_a_refund_opens_a_case_shown_on_the_order(me_client: Client, me: Shopper, shop: Shop) -> None:
    order = place(me, shop, apples=2, pay=True)
    line = order.lines.get()

    response = me_client.post(
        f"/orders/{order.pk}/after-sales/",
        {"line": [line.pk], f"qty_{line.pk}": 1, "amount": "", "reason": "买多了", "kind": "refund_only"},
    )

    case = AfterSale.objects.get(order=order)
    order.refresh_from_db()
    assert response["Location"] == f"/orders/{order.pk}/"
    assert (case.amount, case.kind, case.status, case.reason) == (3990, "refund_only", "pending", "买多了")
    assert [(cl.order_line_id, cl.quantity) for cl in case.lines.all()] == [(line.pk, 1)]
    assert order.status == OrderStatus.REFUNDING
    body = text(me_client.get(f"/orders/{order.pk}/"))
    assert "待审核" in body
    assert "¥39.90" in body
    assert f'action="/after-sales/{case.pk}/cancel/"' in body


def test_asking_for_more_than_refundable_shows_the_limit_in_yuan(me_client: Client, me: Shopper, shop: Shop) -> None:
    order = place(me, shop, apples=2, pay=True)
    line = order.lines.get()

    response = me_client.post(
        f"/orders/{order.pk}/after-sales/",
        {"line": [line.pk], f"qty_{line.pk}": 1, "amount": "40.00", "reason": "买多了", "kind": "refund_only"},
    )

    assert response.status_code == 422
    assert "退款金额须大于 0 且不超过 ¥39.90" in text(response)
    assert not AfterSale.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"reason": "x", "kind": "refund_only"}, "请选择要退款的商品"),
        ({"line": ["LINE"], "kind": "refund_only"}, "请填写原因"),
        ({"line": ["LINE"], "qty_LINE": "3", "reason": "x", "kind": "refund_only"}, "超过可退数量"),
        ({"line": ["LINE"], "reason": "x", "kind": "teleport"}, "类型"),
    ],
)
def test_bad_after_sale_input_is_a_400_with_the_reason(
    me_client: Client, me: Shopper, shop: Shop, data: dict[str, Any], message: str
) -> None:
    order = place(me, shop, apples=2, pay=True)
    line_id = str(order.lines.get().pk)
    data = {k.replace("LINE", line_id): [line_id] if v == ["LINE"] else v for k, v in data.items()}

    response = me_client.post(f"/orders/{order.pk}/after-sales/", data)

    assert response.status_code == 400
    assert message in text(response)
    assert not AfterSale.objects.exists()


def test_return_before_shipping_is_refused(me_client: Client, me: Shopper, shop: Shop) -> None:
    order = place(me, shop, apples=1, pay=True)
    line = order.lines.get()

    response = me_client.post(
        f"/orders/{order.pk}/after-sales/", {"line": [line.pk], "reason": "x", "kind": "return_refund"}
    )

    assert response.status_code == 422
    assert "未发货订单请选择仅退款" in text(response)


def test_after_sale_on_a_pending_order_is_refused(me_client: Client, me: Shopper, shop: Shop) -> None:
    order = place(me, shop)

    response = me_client.get(f"/orders/{order.pk}/after-sales/")

    assert response.status_code == 409
    assert "当前订单状态不能申请售后" in text(response)


def test_cancelling_a_pending_case_puts_the_order_back(me_client: Client, me: Shopper, shop: Shop) -> None:
    order = place(me, shop, pay=True)
    case = orders.request_after_sale(me.user, order.pk, [(order.lines.get().pk, 1)], 100, "x")

    response = me_client.post(f"/after-sales/{case.pk}/cancel/")

    case.refresh_from_db()
    order.refresh_from_db()
    assert response["Location"] == f"/orders/{order.pk}/"
    assert case.status == AfterSaleStatus.CANCELLED
    assert order.status == OrderStatus.PAID
    assert "已撤销" in text(me_client.get(f"/orders/{order.pk}/"))


def test_cancelling_someone_elses_case_is_404(client: Client, me: Shopper, other: Shopper, shop: Shop) -> None:
    order = place(me, shop, pay=True)
    case = orders.request_after_sale(me.user, order.pk, [(order.lines.get().pk, 1)], 100, "x")
    client.force_login(other.user)

    response = client.post(f"/after-sales/{case.pk}/cancel/")

    case.refresh_from_db()
    assert response.status_code == 404
    assert case.status == AfterSaleStatus.PENDING


def test_refunded_case_shows_on_the_order_and_ledger_holds(me_client: Client, me: Shopper, shop: Shop) -> None:
    order = place(me, shop, apples=2, pay=True)
    case = orders.request_after_sale(me.user, order.pk, [(order.lines.get().pk, 1)], 3990, "x")
    orders.approve_after_sale(OperatorFactory(), case.pk)

    body = text(me_client.get(f"/orders/{order.pk}/"))

    assert '<span class="status case-refunded">已退款</span>' in body
    assert "已退 1 件 ¥39.90" in body
    assert ledger.check_ledger() == []


# --- me and addresses -----------------------------------------------------------------


def test_me_links_orders_wallet_and_addresses(me_client: Client, me: Shopper, shop: Shop) -> None:
    me.fund(12345)
    place(me, shop)
    place(me, shop)

    body = text(me_client.get("/me/"))

    assert 'href="/orders/"' in body
    assert 'href="/orders/?status=pending_payment"' in body
    assert '<span class="badge">2</span>' in body
    assert '<strong class="price" data-balance>¥123.45</strong>' in body
    assert 'href="/addresses/"' in body


def test_addresses_page_lists_and_adds(me_client: Client, me: Shopper) -> None:
    response = me_client.post(
        "/addresses/",
        {
            "contact": "王五",
            "phone": "13700001234",
            "province": "广东省",
            "city": "深圳市",
            "district": "南山区",
            "detail": "科技园 8 号",
            "is_default": "1",
        },
    )

    assert response["Location"] == "/addresses/"
    new = Address.objects.get(user=me.user, contact="王五")
    assert new.is_default is True
    me.address.refresh_from_db()
    assert me.address.is_default is False
    body = text(me_client.get("/addresses/"))
    assert "广东省深圳市南山区科技园 8 号" in body
    assert "137****1234" in body


def test_setting_default_and_deleting_addresses(me_client: Client, me: Shopper) -> None:
    spare = AddressFactory(user=me.user, is_default=False)

    me_client.post(f"/addresses/{spare.pk}/default/")
    spare.refresh_from_db()
    me_client.post(f"/addresses/{me.address.pk}/delete/")

    assert spare.is_default is True
    assert list(Address.objects.filter(user=me.user)) == [spare]


@pytest.mark.parametrize("action", ["default", "delete"])
def test_someone_elses_address_is_404(me_client: Client, other: Shopper, action: str) -> None:
    response = me_client.post(f"/addresses/{other.address.pk}/{action}/")

    assert response.status_code == 404
    assert Address.objects.filter(pk=other.address.pk, is_default=True).exists()


# --- language -------------------------------------------------------------------------


def test_buying_pages_are_translated(me_client: Client, me: Shopper, shop: Shop) -> None:
    order = place(me, shop, pay=True)
    orders.add_to_cart(me.user, sku_of(shop.apple).pk, 1)
    me_client.post("/i18n/setlang/", {"language": "en", "next": "/"})

    cart = text(me_client.get("/cart/"))
    detail = text(me_client.get(f"/orders/{order.pk}/"))
    checkout = text(me_client.get("/checkout/"))

    assert "Check out (1)" in cart
    assert "Awaiting shipment" in detail
    assert "Wallet" in detail
    assert "Shipping" in checkout
    assert "Place order" in checkout
