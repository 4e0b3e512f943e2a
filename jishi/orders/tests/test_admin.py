"""Ops console for orders and after-sales: pages load, shipping and case review go through the services."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from jishi.core import ledger
from jishi.core.models import AccountKind, AuditLog
from jishi.inventory.models import StockItem
from jishi.orders import services
from jishi.orders.models import AfterSale, AfterSaleKind, AfterSaleStatus, Order, OrderStatus
from jishi.payments.services import pay_with_wallet
from jishi.testing.factories import OperatorFactory, UserFactory
from jishi.testing.shop import Shopper, shopper, skus

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_operator() -> Any:
    return OperatorFactory(is_staff=True)


@pytest.fixture
def console(staff_operator: Any) -> Client:
    client = Client()
    client.force_login(staff_operator)
    return client


def placed_order(s: Shopper, price: int = 19900, quantity: int = 1) -> Order:
    (sku,) = skus(price, stock=10)
    return services.place_order(s.user, [(sku.pk, quantity)], s.address.pk)


def paid_order(s: Shopper, price: int = 19900, quantity: int = 1) -> Order:
    order = placed_order(s, price, quantity)
    pay_with_wallet(s.user, order.pk)
    order.refresh_from_db()
    return order


def wallet(s: Shopper) -> int:
    return ledger.balance_of(s.user.pk, AccountKind.WALLET)


def texts(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def after_sale(s: Shopper, order: Order, amount: int, kind: str = AfterSaleKind.REFUND_ONLY) -> AfterSale:
    line = order.lines.get()
    return services.request_after_sale(s.user, order.pk, [(line.pk, line.quantity)], amount, "坏了", kind=kind)


# --- pages --------------------------------------------------------------------------------


@pytest.mark.parametrize("url_name", ["admin:orders_order_changelist", "admin:orders_aftersale_changelist"])
def test_changelists_list_the_rows(console: Client, url_name: str) -> None:
    s = shopper(wallet=100_000)
    order = paid_order(s)
    after_sale(s, order, 5000)

    response = console.get(reverse(url_name))

    assert response.status_code == 200
    assert order.number in response.content.decode()


def test_order_changelist_searches_by_buyer_phone(console: Client) -> None:
    s, other = shopper(wallet=100_000), shopper(wallet=100_000)
    mine, theirs = paid_order(s), paid_order(other)

    response = console.get(reverse("admin:orders_order_changelist"), {"q": s.user.phone})

    body = response.content.decode()
    assert (mine.number in body, theirs.number in body) == (True, False)


def test_order_page_shows_lines_address_adjustments_and_payment(console: Client) -> None:
    s = shopper(wallet=100_000)
    order = paid_order(s, price=12345, quantity=2)

    response = console.get(reverse("admin:orders_order_change", args=[order.pk]))

    body = response.content.decode()
    assert response.status_code == 200
    line = order.lines.get()
    assert line.product_name in body
    assert "¥123.45" in body  # unit price
    assert "¥256.90" in body  # 2 × 123.45 + 10.00 shipping paid
    assert s.address.detail in body
    assert order.payments.get().payment_no in body
    assert reverse("admin:orders_order_ship", args=[order.pk]) in body


def test_after_sale_page_shows_its_lines(console: Client) -> None:
    s = shopper(wallet=100_000)
    order = paid_order(s)
    case = after_sale(s, order, 5000)

    response = console.get(reverse("admin:orders_aftersale_change", args=[case.pk]))

    body = response.content.decode()
    assert response.status_code == 200
    assert order.lines.get().product_name in body
    assert "¥50.00" in body
    assert reverse("admin:orders_aftersale_review", args=[case.pk]) in body


def test_pending_after_sales_are_listed_first(console: Client) -> None:
    s, t = shopper(wallet=100_000), shopper(wallet=100_000)
    pending = after_sale(s, paid_order(s), 1000)
    rejected_later = after_sale(t, paid_order(t), 1000)
    services.reject_after_sale(None, rejected_later.pk, "不符合")  # type: ignore[arg-type]

    response = console.get(reverse("admin:orders_aftersale_changelist"))

    assert [case.pk for case in response.context["cl"].result_list] == [pending.pk, rejected_later.pk]


def test_orders_are_read_only(console: Client) -> None:
    order = paid_order(shopper(wallet=100_000))

    response = console.post(reverse("admin:orders_order_change", args=[order.pk]), {"status": "completed"})

    assert response.status_code == 403
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID


def test_staff_without_operator_role_cannot_see_orders() -> None:
    client = Client()
    client.force_login(UserFactory(is_staff=True))

    assert client.get(reverse("admin:orders_order_changelist")).status_code == 403


# --- shipping -----------------------------------------------------------------------------


def test_ship_form_ships_a_paid_order_and_audits_it(console: Client, staff_operator: Any) -> None:
    order = paid_order(shopper(wallet=100_000))
    url = reverse("admin:orders_order_ship", args=[order.pk])
    assert console.get(url).status_code == 200

    response = console.post(url, {"carrier": "顺丰", "tracking_number": "SF123456"})

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:orders_order_change", args=[order.pk])
    assert texts(response) == [f"订单 {order.number} 已发货"]
    order.refresh_from_db()
    assert (order.status, order.carrier, order.tracking_number) == (OrderStatus.SHIPPED, "顺丰", "SF123456")
    log = AuditLog.objects.get()
    assert (log.actor_id, log.action, log.target) == (staff_operator.pk, "order.ship", f"order:{order.pk}")
    assert log.data == {"carrier": "顺丰", "tracking_number": "SF123456"}


def test_shipping_a_pending_order_shows_an_error_and_changes_nothing(console: Client) -> None:
    order = placed_order(shopper())

    response = console.post(
        reverse("admin:orders_order_ship", args=[order.pk]), {"carrier": "顺丰", "tracking_number": "SF1"}
    )

    assert response.status_code == 302
    assert texts(response) == ["订单当前状态不允许此操作（pending_payment → shipped）"]
    order.refresh_from_db()
    assert (order.status, order.carrier, order.tracking_number) == (OrderStatus.PENDING_PAYMENT, "", "")
    assert AuditLog.objects.count() == 0


@pytest.mark.parametrize(
    "data", [{}, {"carrier": "顺丰", "tracking_number": ""}, {"carrier": "", "tracking_number": "1"}]
)
def test_ship_form_requires_carrier_and_tracking(console: Client, data: dict[str, str]) -> None:
    order = paid_order(shopper(wallet=100_000))

    response = console.post(reverse("admin:orders_order_ship", args=[order.pk]), data)

    assert response.status_code == 200
    assert response.context["forms"][0].form.errors
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID


def test_ship_action_sends_one_selected_order_to_its_form(console: Client) -> None:
    order = paid_order(shopper(wallet=100_000))

    response = console.post(
        reverse("admin:orders_order_changelist"), {"action": "ship_selected", "_selected_action": [order.pk]}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:orders_order_ship", args=[order.pk])


def test_ship_action_refuses_several_orders_at_once(console: Client) -> None:
    orders = [paid_order(shopper(wallet=100_000)) for _ in range(2)]

    response = console.post(
        reverse("admin:orders_order_changelist"),
        {"action": "ship_selected", "_selected_action": [o.pk for o in orders]},
        follow=True,
    )

    assert [str(m) for m in response.context["messages"]] == ["请选择一个订单发货（每单运单号不同）"]
    assert Order.objects.filter(status=OrderStatus.PAID).count() == 2


def test_ship_page_needs_the_operator_role() -> None:
    order = paid_order(shopper(wallet=100_000))
    client = Client()
    client.force_login(UserFactory(is_staff=True))

    response = client.post(
        reverse("admin:orders_order_ship", args=[order.pk]), {"carrier": "顺丰", "tracking_number": "1"}
    )

    assert response.status_code == 403
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID


# --- after-sales review -------------------------------------------------------------------


def test_review_page_offers_restock_only_for_returns(console: Client) -> None:
    s = shopper(wallet=100_000)
    refund_only = after_sale(s, paid_order(s), 1000)
    t = shopper(wallet=100_000)
    shipped = paid_order(t)
    services.ship_order(None, shipped.pk, "顺丰", "SF1")  # type: ignore[arg-type]
    returned = after_sale(t, shipped, 1000, kind=AfterSaleKind.RETURN_REFUND)

    pages = [console.get(reverse("admin:orders_aftersale_review", args=[c.pk])) for c in (refund_only, returned)]

    assert [("restock" in p.context["forms"][0].form.fields) for p in pages] == [False, True]


def test_approving_a_partial_refund_pays_the_wallet_back_exactly(console: Client, staff_operator: Any) -> None:
    s = shopper(wallet=100_000)
    order = paid_order(s)  # 19900 + 1000 shipping = 20900
    case = after_sale(s, order, 4321)
    before = wallet(s)

    response = console.post(reverse("admin:orders_aftersale_approve", args=[case.pk]), {})

    assert response.status_code == 302
    assert texts(response) == [
        f"已同意售后 {case.number}：退款 ¥43.21 原路退回（wallet）；订单 {order.number} 状态：待发货，累计已退 ¥43.21"
    ]
    assert wallet(s) == before + 4321
    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == (OrderStatus.PAID, 4321)
    case.refresh_from_db()
    assert (case.status, case.reviewed_by_id, case.restock) == (AfterSaleStatus.REFUNDED, staff_operator.pk, False)
    assert ledger.check_ledger() == []


def test_approving_a_return_with_restock_puts_goods_back(console: Client) -> None:
    s = shopper(wallet=100_000)
    order = paid_order(s, price=5000, quantity=2)
    services.ship_order(None, order.pk, "顺丰", "SF1")  # type: ignore[arg-type]
    case = after_sale(s, order, 10000, kind=AfterSaleKind.RETURN_REFUND)  # shipped: shipping is not refundable
    sku_id = order.lines.get().sku_id
    on_hand = StockItem.objects.get(sku_id=sku_id).on_hand
    before = wallet(s)

    console.post(reverse("admin:orders_aftersale_approve", args=[case.pk]), {"restock": "on"})

    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == (OrderStatus.REFUNDED, 10000)  # every unit came back
    assert wallet(s) == before + 10000
    assert StockItem.objects.get(sku_id=sku_id).on_hand == on_hand + 2
    assert AfterSale.objects.get(pk=case.pk).restock is True


def test_rejecting_restores_the_order_and_moves_no_money(console: Client, staff_operator: Any) -> None:
    s = shopper(wallet=100_000)
    order = paid_order(s)
    case = after_sale(s, order, 5000)
    before = wallet(s)

    response = console.post(reverse("admin:orders_aftersale_reject", args=[case.pk]), {"reason": "已使用"})

    assert texts(response) == [f"已拒绝售后 {case.number}；订单 {order.number} 恢复为：待发货"]
    case.refresh_from_db()
    assert (case.status, case.reject_reason, case.reviewed_by_id) == (
        AfterSaleStatus.REJECTED,
        "已使用",
        staff_operator.pk,
    )
    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == (OrderStatus.PAID, 0)
    assert wallet(s) == before
    assert AuditLog.objects.get().action == "after_sale.reject"


def test_rejecting_needs_a_reason(console: Client) -> None:
    s = shopper(wallet=100_000)
    case = after_sale(s, paid_order(s), 5000)

    response = console.post(reverse("admin:orders_aftersale_reject", args=[case.pk]), {"reason": ""})

    assert response.status_code == 200
    assert list(response.context["forms"][1].form.errors) == ["reason"]
    assert AfterSale.objects.get(pk=case.pk).status == AfterSaleStatus.PENDING


def test_approving_a_closed_case_shows_an_error_and_refunds_nothing(console: Client) -> None:
    s = shopper(wallet=100_000)
    case = after_sale(s, paid_order(s), 5000)
    services.reject_after_sale(None, case.pk, "不符合")  # type: ignore[arg-type]
    before = wallet(s)

    response = console.post(reverse("admin:orders_aftersale_approve", args=[case.pk]), {})

    assert texts(response) == ["售后单已处理"]
    assert wallet(s) == before
    assert AfterSale.objects.get(pk=case.pk).status == AfterSaleStatus.REJECTED


# --- language -----------------------------------------------------------------------------


def test_console_defaults_to_chinese_with_a_language_switch(console: Client) -> None:
    body = console.get(reverse("admin:orders_order_changelist")).content.decode()

    assert 'action="/i18n/setlang/"' in body
    assert "注销" in body


def test_language_switch_renders_the_console_in_english(console: Client) -> None:
    switched = console.post("/i18n/setlang/", {"language": "en", "next": "/console/orders/order/"})
    assert switched.status_code == 302

    body = console.get(reverse("admin:orders_order_changelist")).content.decode()

    assert "Log out" in body
    assert "注销" not in body
