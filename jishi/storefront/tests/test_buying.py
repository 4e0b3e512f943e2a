"""Buying pages through the test client: add to cart, cart, checkout, pay, sandbox cashier."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from jishi.accounts.models import Address
from jishi.catalog.models import ProductStatus
from jishi.core import ledger
from jishi.core.models import AccountKind
from jishi.inventory.models import StockItem
from jishi.orders import pipeline
from jishi.orders import services as orders
from jishi.orders.models import CartLine, Order, OrderStatus
from jishi.payments import services as payments
from jishi.payments.models import Payment, PaymentStatus
from jishi.testing.factories import AddressFactory, ProductFactory, SkuFactory
from jishi.testing.shop import Shopper, fund_wallet

from .conftest import Shop, sku_of

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def text(response: Any) -> str:
    return response.content.decode()


def alert(response: Any) -> str:
    """The text of the page's error alert."""
    found = re.search(r'<div class="alert error[^"]*" role="alert"><p>(.*?)</p>', text(response))
    assert found, text(response)
    return found.group(1)


def available(sku_id: int) -> int:
    item = StockItem.objects.get(sku_id=sku_id)
    return item.on_hand - item.reserved


# --- add to cart ----------------------------------------------------------------------


def test_add_to_cart_puts_the_sku_in_the_cart_and_returns_to_the_product(
    me_client: Client, me: Shopper, shop: Shop
) -> None:
    sku = sku_of(shop.longjing, 12800)

    response = me_client.post("/cart/add/", {"sku_id": sku.pk, "quantity": 2, "then": "cart"})

    assert response.status_code == 302
    assert response["Location"] == f"/p/{shop.longjing.pk}/"
    line = CartLine.objects.get(user=me.user)
    assert (line.sku_id, line.quantity, line.selected) == (sku.pk, 2, True)
    assert "已加入购物车" in text(me_client.get(response["Location"]))


def test_adding_the_same_sku_again_adds_up(me_client: Client, me: Shopper, shop: Shop) -> None:
    sku = sku_of(shop.apple)

    me_client.post("/cart/add/", {"sku_id": sku.pk, "quantity": 2})
    me_client.post("/cart/add/", {"sku_id": sku.pk, "quantity": 3})

    assert CartLine.objects.get(user=me.user).quantity == 5


def test_buy_now_goes_to_checkout_with_just_that_sku(me_client: Client, me: Shopper, shop: Shop) -> None:
    sku = sku_of(shop.apple)

    response = me_client.post("/cart/add/", {"sku_id": sku.pk, "quantity": 3, "then": "checkout"})

    assert response.status_code == 302
    assert response["Location"] == f"/checkout/?sku={sku.pk}&qty=3"
    assert not CartLine.objects.filter(user=me.user).exists()


def test_add_to_cart_when_signed_out_asks_to_log_in_and_comes_back_to_the_product(client: Client, shop: Shop) -> None:
    response = client.post("/cart/add/", {"sku_id": sku_of(shop.apple).pk, "quantity": 1})

    assert response.status_code == 302
    assert response["Location"] == f"/login/?next=/p/{shop.apple.pk}/"
    assert not CartLine.objects.exists()


def test_add_to_cart_is_post_only(me_client: Client) -> None:
    assert me_client.get("/cart/add/").status_code == 405


def test_add_to_cart_needs_the_csrf_token(me: Shopper, shop: Shop) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(me.user)

    response = strict.post("/cart/add/", {"sku_id": sku_of(shop.apple).pk, "quantity": 1})

    assert response.status_code == 403
    assert not CartLine.objects.exists()


@pytest.mark.parametrize(
    ("quantity", "status", "message"),
    [
        ("0", 400, "数量至少为 1"),
        ("abc", 400, "数量须为整数"),
        ("", 400, "请填写数量"),
        ("1000", 422, "数量须在 1 到 999 之间"),
    ],
)
def test_bad_quantity_shows_the_product_page_with_the_error(
    me_client: Client, me: Shopper, shop: Shop, quantity: str, status: int, message: str
) -> None:
    response = me_client.post("/cart/add/", {"sku_id": sku_of(shop.apple).pk, "quantity": quantity})

    assert response.status_code == status
    assert alert(response) == message
    assert "烟台红富士苹果" in text(response)  # still the product page
    assert not CartLine.objects.exists()


def test_add_without_choosing_a_sku_says_so_on_the_product_page(me_client: Client, shop: Shop) -> None:
    response = me_client.post("/cart/add/", {"product_id": shop.longjing.pk, "quantity": 1})

    assert response.status_code == 400
    assert alert(response) == "请选择规格"
    assert "西湖龙井茶" in text(response)


def test_adding_an_unpublished_product_is_refused(me_client: Client, shop: Shop) -> None:
    response = me_client.post("/cart/add/", {"sku_id": sku_of(shop.draft).pk, "quantity": 1})

    assert response.status_code == 404
    assert '<p class="problem-text">商品不存在或已下架</p>' in text(response)
    assert not CartLine.objects.exists()


# --- the cart -------------------------------------------------------------------------


def test_cart_needs_login(client: Client, db: None) -> None:
    response = client.get("/cart/")

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/cart/"


def test_empty_cart_says_so(me_client: Client) -> None:
    response = me_client.get("/cart/")

    assert response.status_code == 200
    assert "购物车是空的" in text(response)
    assert "去结算" not in text(response)


def test_cart_lists_lines_with_specs_price_quantity_and_selected_total(
    me_client: Client, me: Shopper, shop: Shop
) -> None:
    orders.add_to_cart(me.user, sku_of(shop.longjing, 12800).pk, 2)
    orders.add_to_cart(me.user, sku_of(shop.apple).pk, 1)

    body = text(me_client.get("/cart/"))

    assert body.count('class="cart-line"') == 2
    assert "西湖龙井茶" in body
    assert '<span class="cart-specs">250g</span>' in body
    assert "¥128.00" in body
    assert 'name="quantity" value="2"' in body
    assert '<strong class="price" data-total>¥295.90</strong>' in body  # 2 × 128.00 + 39.90
    assert "去结算 (3)" in body
    assert 'href="/checkout/"' in body


def test_cart_flags_lines_that_cannot_be_bought_and_blocks_checkout(me_client: Client, me: Shopper, shop: Shop) -> None:
    pu_erh = sku_of(shop.pu_erh)
    orders.add_to_cart(me.user, pu_erh.pk, 5)  # only 3 in stock
    orders.add_to_cart(me.user, sku_of(shop.apple).pk, 1)
    shop.apple.status = ProductStatus.UNPUBLISHED
    shop.apple.save()

    body = text(me_client.get("/cart/"))

    assert body.count('class="cart-line unavailable"') == 2
    assert '<span class="flag">库存仅剩 3 件</span>' in body
    assert '<span class="flag">已下架</span>' in body
    assert "请先取消勾选失效商品" in body
    assert 'href="/checkout/"' not in body


def test_cart_query_count_does_not_grow_with_lines(me_client: Client, me: Shopper, shop: Shop) -> None:
    orders.add_to_cart(me.user, sku_of(shop.apple).pk, 1)
    me_client.get("/cart/")
    with CaptureQueriesContext(connection) as few:
        me_client.get("/cart/")
    for sku in SkuFactory.create_batch(5, stock=5):
        orders.add_to_cart(me.user, sku.pk, 1)
    with CaptureQueriesContext(connection) as many:
        response = me_client.get("/cart/")

    assert text(response).count('class="cart-line"') == 6
    assert len(many) == len(few)


@pytest.mark.parametrize("field", ["set", "quantity"])
def test_changing_quantity_over_htmx_returns_the_new_cart(
    me_client: Client, me: Shopper, shop: Shop, field: str
) -> None:
    sku = sku_of(shop.apple)
    orders.add_to_cart(me.user, sku.pk, 1)

    response = me_client.post(f"/cart/{sku.pk}/", {"action": "quantity", field: "3"}, headers=HTMX)

    assert response.status_code == 200
    assert text(response).startswith('<div id="cart">')
    assert "<html" not in text(response)
    assert "¥119.70" in text(response)
    assert CartLine.objects.get(user=me.user).quantity == 3


@pytest.mark.parametrize(("quantity", "message"), [("0", "数量至少为 1"), ("1000", "数量须在 1 到 999 之间")])
def test_bad_cart_quantity_over_htmx_shows_the_error_and_changes_nothing(
    me_client: Client, me: Shopper, shop: Shop, quantity: str, message: str
) -> None:
    sku = sku_of(shop.apple)
    orders.add_to_cart(me.user, sku.pk, 2)

    response = me_client.post(f"/cart/{sku.pk}/", {"action": "quantity", "quantity": quantity}, headers=HTMX)

    assert response.status_code == 200  # htmx swaps only 2xx
    assert message in alert(response)
    assert CartLine.objects.get(user=me.user).quantity == 2


def test_bad_cart_quantity_without_htmx_is_a_422_page(me_client: Client, me: Shopper, shop: Shop) -> None:
    sku = sku_of(shop.apple)
    orders.add_to_cart(me.user, sku.pk, 2)

    response = me_client.post(f"/cart/{sku.pk}/", {"action": "quantity", "quantity": "1000"})

    assert response.status_code == 422
    assert alert(response) == "数量须在 1 到 999 之间"
    assert "<html" in text(response)


def test_unselecting_a_line_leaves_it_out_of_the_total(me_client: Client, me: Shopper, shop: Shop) -> None:
    apple, pu_erh = sku_of(shop.apple), sku_of(shop.pu_erh)
    orders.add_to_cart(me.user, apple.pk, 1)
    orders.add_to_cart(me.user, pu_erh.pk, 1)

    response = me_client.post(f"/cart/{pu_erh.pk}/", {"action": "select"}, headers=HTMX)

    assert CartLine.objects.get(sku=pu_erh).selected is False
    assert '<strong class="price" data-total>¥39.90</strong>' in text(response)
    me_client.post(f"/cart/{pu_erh.pk}/", {"action": "select", "selected": "1"}, headers=HTMX)
    assert CartLine.objects.get(sku=pu_erh).selected is True


def test_removing_a_line(me_client: Client, me: Shopper, shop: Shop) -> None:
    sku = sku_of(shop.apple)
    orders.add_to_cart(me.user, sku.pk, 1)

    response = me_client.post(f"/cart/{sku.pk}/", {"action": "remove"})

    assert response.status_code == 302
    assert response["Location"] == "/cart/"
    assert not CartLine.objects.exists()


def test_changing_a_line_that_is_not_in_my_cart_is_404(
    me_client: Client, me: Shopper, other: Shopper, shop: Shop
) -> None:
    sku = sku_of(shop.apple)
    orders.add_to_cart(other.user, sku.pk, 1)

    response = me_client.post(f"/cart/{sku.pk}/", {"action": "remove"})

    assert response.status_code == 404
    assert CartLine.objects.filter(user=other.user).count() == 1


# --- checkout -------------------------------------------------------------------------


class TenOff(pipeline.BaseStep):
    code = "test_ten_off"
    position = pipeline.COUPONS

    def apply(self, checkout: pipeline.Checkout) -> None:
        checkout.add_discount(self.code, "测试满减", 1000)


@pytest.fixture
def ten_off() -> Iterator[None]:
    pipeline.register_step(TenOff())
    yield
    pipeline.unregister_step(TenOff.code)


def test_checkout_needs_login(client: Client, db: None) -> None:
    assert client.get("/checkout/")["Location"] == "/login/?next=/checkout/"


def test_checkout_with_an_empty_cart_says_so(me_client: Client) -> None:
    response = me_client.get("/checkout/")

    assert response.status_code == 422
    assert "没有要结算的商品" in text(response)
    assert 'href="/cart/"' in text(response)


def test_checkout_previews_every_adjustment_line_by_line(
    me_client: Client, me: Shopper, shop: Shop, ten_off: None
) -> None:
    orders.add_to_cart(me.user, sku_of(shop.longjing, 12800).pk, 1)
    orders.add_to_cart(me.user, sku_of(shop.apple).pk, 2)

    response = me_client.get("/checkout/")

    assert response.status_code == 200
    body = text(response)
    assert '<dd data-amount="goods">¥207.80</dd>' in body
    assert (
        '<div class="adjustment" data-step="test_ten_off"><dt>测试满减</dt><dd class="minus">-¥10.00</dd></div>' in body
    )
    assert '<div data-step="shipping"><dt>运费</dt><dd>+¥10.00</dd></div>' in body
    assert '<dd class="price" data-amount="payable">¥207.80</dd>' in body
    assert "西湖龙井茶" in body
    assert "× 2" in body


def test_checkout_preselects_the_default_address(me_client: Client, me: Shopper, shop: Shop) -> None:
    AddressFactory(user=me.user, detail="备用地址 1 号", is_default=False)
    orders.add_to_cart(me.user, sku_of(shop.apple).pk, 1)

    body = text(me_client.get("/checkout/"))

    assert body.count('name="address_id"') == 2
    assert re.search(rf'value="{me.address.pk}" form="checkout-form" checked', body)
    assert "备用地址 1 号" in body


def test_buy_now_checkout_shows_only_that_sku(me_client: Client, me: Shopper, shop: Shop) -> None:
    orders.add_to_cart(me.user, sku_of(shop.pu_erh).pk, 1)
    apple = sku_of(shop.apple)

    body = text(me_client.get(f"/checkout/?sku={apple.pk}&qty=2"))

    assert "烟台红富士苹果" in body
    assert "云南普洱茶饼" not in body
    assert f'<input type="hidden" name="sku" value="{apple.pk}">' in body


def test_bad_buy_now_quantity_is_a_friendly_400(me_client: Client, shop: Shop) -> None:
    response = me_client.get(f"/checkout/?sku={sku_of(shop.apple).pk}&qty=abc")

    assert response.status_code == 400
    assert "数量须为整数" in text(response)


def test_placing_the_order_goes_to_pay_and_empties_the_cart_lines(me_client: Client, me: Shopper, shop: Shop) -> None:
    apple = sku_of(shop.apple)
    orders.add_to_cart(me.user, apple.pk, 2)

    response = me_client.post("/checkout/", {"address_id": me.address.pk, "remark": "请尽快发货"})

    order = Order.objects.get(user=me.user)
    assert response.status_code == 302
    assert response["Location"] == f"/orders/{order.pk}/pay/"
    assert (order.status, order.goods_amount, order.shipping_fee, order.payable) == (
        OrderStatus.PENDING_PAYMENT,
        7980,
        1000,
        8980,
    )
    assert order.remark == "请尽快发货"
    assert order.address["detail"] == me.address.detail
    assert not CartLine.objects.filter(user=me.user).exists()
    assert available(apple.pk) == 48


def test_buy_now_order_leaves_the_cart_alone(me_client: Client, me: Shopper, shop: Shop) -> None:
    orders.add_to_cart(me.user, sku_of(shop.pu_erh).pk, 1)
    apple = sku_of(shop.apple)

    me_client.post("/checkout/", {"address_id": me.address.pk, "sku": apple.pk, "qty": 1})

    assert [line.sku_id for line in Order.objects.get(user=me.user).lines.all()] == [apple.pk]
    assert CartLine.objects.filter(user=me.user).count() == 1


def test_out_of_stock_shows_a_message_and_writes_nothing(me_client: Client, me: Shopper, shop: Shop) -> None:
    pu_erh, apple = sku_of(shop.pu_erh), sku_of(shop.apple)
    orders.add_to_cart(me.user, apple.pk, 1)
    orders.add_to_cart(me.user, pu_erh.pk, 5)  # 3 in stock

    response = me_client.post("/checkout/", {"address_id": me.address.pk})

    assert response.status_code == 409
    assert alert(response) == "库存不足：云南普洱茶饼"
    assert "提交订单" in text(response)  # still the checkout page
    assert not Order.objects.exists()
    assert (available(pu_erh.pk), available(apple.pk)) == (3, 50)
    assert CartLine.objects.filter(user=me.user).count() == 2


def test_placing_without_an_address_is_refused(me_client: Client, me: Shopper, shop: Shop) -> None:
    me.address.delete()
    orders.add_to_cart(me.user, sku_of(shop.apple).pk, 1)

    response = me_client.post("/checkout/", {})

    assert response.status_code == 422
    assert alert(response) == "请选择收货地址"
    assert not Order.objects.exists()


def test_placing_with_someone_elses_address_is_refused(
    me_client: Client, me: Shopper, other: Shopper, shop: Shop
) -> None:
    orders.add_to_cart(me.user, sku_of(shop.apple).pk, 1)
    Address.objects.filter(pk=other.address.pk).update(detail="别人家 9 号")

    response = me_client.post("/checkout/", {"address_id": other.address.pk})

    assert response.status_code == 404
    assert alert(response) == "收货地址不存在"
    assert "别人家 9 号" not in text(response)
    assert not Order.objects.exists()


def test_adding_an_address_at_checkout_chooses_it(me_client: Client, me: Shopper, shop: Shop) -> None:
    apple = sku_of(shop.apple)
    data = {
        "sku": apple.pk,
        "qty": 1,
        "contact": "李四",
        "phone": "13911112222",
        "province": "上海市",
        "city": "上海市",
        "district": "徐汇区",
        "detail": "漕溪北路 1 号",
    }

    response = me_client.post("/checkout/address/", data)

    address = Address.objects.get(user=me.user, contact="李四")
    assert response.status_code == 302
    assert response["Location"] == f"/checkout/?sku={apple.pk}&qty=1&address_id={address.pk}"
    body = text(me_client.get(response["Location"]))
    assert re.search(rf'value="{address.pk}" form="checkout-form" checked', body)


def test_a_bad_address_is_shown_with_its_errors(me_client: Client, me: Shopper, shop: Shop) -> None:
    orders.add_to_cart(me.user, sku_of(shop.apple).pk, 1)
    data = {"contact": "李四", "phone": "12345", "province": "上海市", "city": "上海市", "district": "", "detail": "x"}

    response = me_client.post("/checkout/address/", data)

    assert response.status_code == 400
    assert "手机号格式不正确" in text(response)
    assert "这个字段是必填项。" in text(response)
    assert '<details class="add-address" open>' in text(response)
    assert Address.objects.filter(user=me.user).count() == 1


# --- paying ---------------------------------------------------------------------------


@pytest.fixture
def order(me: Shopper, shop: Shop) -> Order:
    return orders.place_order(me.user, [(sku_of(shop.apple).pk, 2)], me.address.pk)  # payable 89.80


def test_pay_page_shows_amount_and_wallet_balance(me_client: Client, me: Shopper, order: Order) -> None:
    me.fund(10000)

    response = me_client.get(f"/orders/{order.pk}/pay/")

    body = text(response)
    assert response.status_code == 200
    assert '<strong class="price big" data-payable>¥89.80</strong>' in body
    assert "可用余额 ¥100.00" in body
    assert re.search(r'value="wallet" checked', body)
    assert 'value="sandbox"' in body


def test_paying_with_the_wallet_pays_the_order(me_client: Client, me: Shopper, order: Order) -> None:
    me.fund(10000)

    response = me_client.post(f"/orders/{order.pk}/pay/", {"method": "wallet"})

    order.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == f"/orders/{order.pk}/"
    assert (order.status, order.paid_amount, order.payment_method) == (OrderStatus.PAID, 8980, "wallet")
    assert ledger.balance_of(me.user.pk, AccountKind.WALLET) == 1020
    assert ledger.check_ledger() == []


def test_wallet_short_of_money_shows_a_message_and_pays_nothing(me_client: Client, me: Shopper, order: Order) -> None:
    me.fund(100)

    response = me_client.post(f"/orders/{order.pk}/pay/", {"method": "wallet"})

    order.refresh_from_db()
    assert response.status_code == 409
    assert alert(response) == "余额不足"
    assert order.status == OrderStatus.PENDING_PAYMENT
    assert ledger.balance_of(me.user.pk, AccountKind.WALLET) == 100
    assert not Payment.objects.exists()


@pytest.mark.parametrize("method", ["", "alipay", "bitcoin"])
def test_unknown_pay_method_is_refused(me_client: Client, order: Order, method: str) -> None:
    response = me_client.post(f"/orders/{order.pk}/pay/", {"method": method})

    assert response.status_code == 422
    assert alert(response) == "请选择支付方式"


def test_sandbox_goes_to_the_cashier(me_client: Client, me: Shopper, order: Order) -> None:
    response = me_client.post(f"/orders/{order.pk}/pay/", {"method": "sandbox"})

    payment = Payment.objects.get(order=order)
    assert response.status_code == 302
    assert response["Location"] == f"/pay/sandbox/{payment.payment_no}/"
    assert (payment.method, payment.amount, payment.status) == ("sandbox", 8980, PaymentStatus.PENDING)


def test_pay_page_of_a_paid_order_goes_to_the_order(me_client: Client, me: Shopper, order: Order) -> None:
    fund_wallet(me.user, 8980)
    payments.pay_with_wallet(me.user, order.pk)

    assert me_client.get(f"/orders/{order.pk}/pay/")["Location"] == f"/orders/{order.pk}/"


@pytest.mark.parametrize("method", ["get", "post"])
def test_paying_someone_elses_order_is_404(client: Client, other: Shopper, order: Order, method: str) -> None:
    client.force_login(other.user)
    fund_wallet(other.user, 10000)

    response = getattr(client, method)(f"/orders/{order.pk}/pay/", {"method": "wallet"})

    assert response.status_code == 404
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT


# --- the sandbox cashier ----------------------------------------------------------------


@pytest.fixture
def sandbox_payment(me: Shopper, order: Order) -> Payment:
    started = payments.start_payment(me.user, order.pk, "sandbox")
    return Payment.objects.get(pk=started["payment_id"])


def test_cashier_shows_amount_order_number_and_confirm(
    me_client: Client, order: Order, sandbox_payment: Payment
) -> None:
    response = me_client.get(f"/pay/sandbox/{sandbox_payment.payment_no}/")

    body = text(response)
    assert response.status_code == 200
    assert '<p class="cashier-amount" data-amount>¥89.80</p>' in body
    assert order.number in body
    assert "确认支付" in body
    assert 'class="tabbar"' not in body  # the provider's page, not the shop's


def test_confirming_at_the_cashier_pays_the_order_through_the_signed_notify(
    me_client: Client,
    me: Shopper,
    order: Order,
    sandbox_payment: Payment,
    django_capture_on_commit_callbacks: Any,
) -> None:
    url = f"/pay/sandbox/{sandbox_payment.payment_no}/"

    with django_capture_on_commit_callbacks(execute=True):
        response = me_client.post(url)

    order.refresh_from_db()
    sandbox_payment.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == url
    assert sandbox_payment.status == PaymentStatus.PAID
    assert (order.status, order.paid_amount, order.payment_method) == (OrderStatus.PAID, 8980, "sandbox")
    assert me_client.get(url)["Location"] == f"/orders/{order.pk}/"
    assert ledger.check_ledger() == []


def test_while_the_notify_is_on_its_way_the_page_polls(
    me_client: Client, me: Shopper, sandbox_payment: Payment
) -> None:
    url = f"/pay/sandbox/{sandbox_payment.payment_no}/"
    me_client.post(url)  # on_commit callbacks do not run here: the notify has not come yet

    page = me_client.get(url)
    pending = me_client.get(f"{url}status/", headers=HTMX)
    payments.deliver_sandbox_notify(sandbox_payment.pk)
    paid = me_client.get(f"{url}status/", headers=HTMX)

    assert "支付处理中" in text(page)
    assert f'hx-get="{url}status/" hx-trigger="every 1s"' in text(page)
    assert pending.status_code == 200
    assert "支付处理中" in text(pending)
    assert paid["HX-Redirect"] == f"/orders/{sandbox_payment.order_id}/"


@pytest.mark.parametrize("path", ["", "status/"])
def test_someone_elses_payment_is_404(client: Client, other: Shopper, sandbox_payment: Payment, path: str) -> None:
    client.force_login(other.user)

    assert client.get(f"/pay/sandbox/{sandbox_payment.payment_no}/{path}").status_code == 404
    assert client.post(f"/pay/sandbox/{sandbox_payment.payment_no}/").status_code == 404
    sandbox_payment.refresh_from_db()
    assert sandbox_payment.meta == {}


def test_unknown_payment_number_is_404(me_client: Client) -> None:
    assert me_client.get("/pay/sandbox/P000/").status_code == 404


def test_product_page_add_form_posts_to_cart_add(client: Client, shop: Shop) -> None:
    body = text(client.get(f"/p/{shop.apple.pk}/"))

    assert '<form id="buy" class="panel" action="/cart/add/" method="post">' in body
    assert 'name="then" value="checkout"' in body


def test_sold_out_sku_in_cart_is_flagged(me_client: Client, me: Shopper, shop: Shop) -> None:
    sku = SkuFactory(product=ProductFactory(category=shop.fruit, name="梨"), stock=1)
    orders.add_to_cart(me.user, sku.pk, 1)
    StockItem.objects.filter(sku_id=sku.pk).update(on_hand=0)

    assert '<span class="flag">已售罄</span>' in text(me_client.get("/cart/"))
