from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from conftest import Api
from jishi.accounts.services import issue_token
from jishi.core import ledger
from jishi.core.models import AccountKind, OutboxEvent
from jishi.inventory.models import StockItem
from jishi.orders import services
from jishi.orders.models import AfterSale, Order, OrderStatus
from jishi.payments.models import Payment, Refund
from jishi.payments.services import pay_with_wallet
from jishi.testing.factories import OperatorFactory
from jishi.testing.shop import shopper, skus

pytestmark = pytest.mark.django_db


@pytest.fixture
def op() -> Api:
    return Api(issue_token(OperatorFactory()))


def paid_order(s: Any, prices: tuple[int, ...] = (19900, 5000), quantities: tuple[int, ...] = (1, 2)) -> Order:
    items = skus(*prices, stock=10)
    order = services.place_order(s.user, [(sku.pk, q) for sku, q in zip(items, quantities, strict=True)], s.address.pk)
    pay_with_wallet(s.user, order.pk)
    order.refresh_from_db()
    return order


def wallet(s: Any) -> int:
    return ledger.balance_of(s.user.pk, AccountKind.WALLET)


def test_partial_refund_by_line_and_amount_goes_back_to_the_wallet(op: Api) -> None:
    s = shopper(wallet=100_000)
    order = paid_order(s)  # 19900 + 2×5000 + 1000 shipping = 30900
    lines = list(order.lines.all())
    api = Api(s.token)
    created = api.post(
        f"orders/{order.pk}/after-sales",
        {
            "lines": [{"line_id": lines[1].pk, "quantity": 1}],
            "amount": 4000,
            "reason": "少发一件",
        },
    )
    assert created.status_code == 201
    case = created.json()
    assert case["lines"] == [{"line_id": lines[1].pk, "quantity": 1, "amount": 4000}]
    assert Order.objects.get(pk=order.pk).status == OrderStatus.REFUNDING
    before = wallet(s)
    approved = op.post(f"admin/after-sales/{case['id']}/approve")
    assert approved.json()["status"] == "refunded"
    assert wallet(s) == before + 4000
    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == (OrderStatus.PAID, 4000)
    lines[1].refresh_from_db()
    assert (lines[1].refunded_quantity, lines[1].refunded_amount) == (1, 4000)
    event = OutboxEvent.objects.get(name="order.refunded")
    assert event.payload["amount"] == 4000
    assert event.payload["full"] is False
    assert event.payload["lines"][0] == {
        "line_id": lines[1].pk,
        "sku_id": lines[1].sku_id,
        "product_id": lines[1].product_id,
        "quantity": 1,
        "amount": 4000,
        "line_paid_amount": 10000,
        "line_quantity": 2,
    }
    # refunded before shipping: the unit goes back to sellable stock
    assert StockItem.objects.get(sku_id=lines[1].sku_id).reserved == 1
    assert Refund.objects.get().amount == 4000
    assert ledger.check_ledger() == []


def test_full_refund_includes_shipping_and_ends_refunded(op: Api) -> None:
    s = shopper(wallet=100_000)
    order = paid_order(s)
    lines = list(order.lines.all())
    before = wallet(s)
    case = services.request_after_sale(s.user, order.pk, [(lines[0].pk, 1), (lines[1].pk, 2)], 30900, "不要了")
    assert [cl.amount for cl in case.lines.order_by("id")] == [19900, 10000]
    op.post(f"admin/after-sales/{case.pk}/approve")
    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == (OrderStatus.REFUNDED, 30900)
    assert wallet(s) == before + 30900
    event = OutboxEvent.objects.get(name="order.refunded")
    assert (event.payload["full"], event.payload["shipping_amount"]) == (True, 1000)
    assert StockItem.objects.filter(reserved__gt=0).count() == 0


@pytest.mark.parametrize("amount", [0, 10001])
def test_refund_above_what_the_lines_paid_is_422(amount: int) -> None:
    s = shopper(wallet=100_000)
    order = paid_order(s)
    line = order.lines.order_by("id")[1]
    response = Api(s.token).post(
        f"orders/{order.pk}/after-sales",
        {
            "lines": [{"line_id": line.pk, "quantity": 2}],
            "amount": amount,
            "reason": "x",
        },
    )
    assert response.status_code == 422
    assert AfterSale.objects.count() == 0
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID


def test_quantity_above_remaining_is_422() -> None:
    s = shopper(wallet=100_000)
    order = paid_order(s)
    line = order.lines.order_by("id")[0]
    response = Api(s.token).post(
        f"orders/{order.pk}/after-sales",
        {
            "lines": [{"line_id": line.pk, "quantity": 2}],
            "amount": 100,
            "reason": "x",
        },
    )
    assert response.json()["error"]["code"] == "quantity_exceeds_refundable"


def test_a_second_open_case_is_409() -> None:
    s = shopper(wallet=100_000)
    order = paid_order(s)
    line = order.lines.order_by("id")[0]
    body = {"lines": [{"line_id": line.pk, "quantity": 1}], "amount": 100, "reason": "x"}
    assert Api(s.token).post(f"orders/{order.pk}/after-sales", body).status_code == 201
    again = Api(s.token).post(f"orders/{order.pk}/after-sales", body)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "after_sale_open"


def test_rejected_case_restores_the_order(op: Api) -> None:
    s = shopper(wallet=100_000)
    order = paid_order(s)
    line = order.lines.order_by("id")[0]
    case = services.request_after_sale(s.user, order.pk, [(line.pk, 1)], 100, "x")
    before = wallet(s)
    assert op.post(f"admin/after-sales/{case.pk}/reject", {"reason": "已发货"}).json()["status"] == "rejected"
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
    assert wallet(s) == before
    assert op.post(f"admin/after-sales/{case.pk}/approve").status_code == 409


def test_after_sales_window_closes_seven_days_after_completion() -> None:
    s = shopper(wallet=100_000)
    order = paid_order(s)
    services.ship_order(OperatorFactory(), order.pk, "SF", "1")
    services.confirm_receipt(s.user, order.pk)
    Order.objects.filter(pk=order.pk).update(completed_at=timezone.now() - timedelta(days=8))
    line = order.lines.order_by("id")[0]
    response = Api(s.token).post(
        f"orders/{order.pk}/after-sales",
        {
            "lines": [{"line_id": line.pk, "quantity": 1}],
            "amount": 100,
            "reason": "x",
        },
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "after_sale_expired"


def test_unpaid_orders_have_no_after_sales() -> None:
    s = shopper()
    (sku,) = skus(1000)
    order = services.place_order(s.user, [(sku.pk, 1)], s.address.pk)
    line = order.lines.get()
    response = Api(s.token).post(
        f"orders/{order.pk}/after-sales",
        {
            "lines": [{"line_id": line.pk, "quantity": 1}],
            "amount": 100,
            "reason": "x",
        },
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "after_sale_not_allowed"


def test_someone_elses_order_and_case_are_404() -> None:
    s, other = shopper(wallet=100_000), shopper()
    order = paid_order(s)
    line = order.lines.order_by("id")[0]
    body = {"lines": [{"line_id": line.pk, "quantity": 1}], "amount": 100, "reason": "x"}
    assert Api(other.token).post(f"orders/{order.pk}/after-sales", body).status_code == 404
    case = services.request_after_sale(s.user, order.pk, [(line.pk, 1)], 100, "x")
    assert Api(other.token).post(f"after-sales/{case.pk}/cancel").status_code == 404
    assert Api(s.token).post(f"after-sales/{case.pk}/cancel").json()["status"] == "cancelled"


def test_return_after_shipping_can_restock(op: Api) -> None:
    s = shopper(wallet=100_000)
    order = paid_order(s, (5000,), (2,))
    services.ship_order(OperatorFactory(), order.pk, "SF", "1")
    line = order.lines.get()
    case = services.request_after_sale(s.user, order.pk, [(line.pk, 1)], 5000, "尺码不合适", kind="return_refund")
    op.post(f"admin/after-sales/{case.pk}/approve", {"restock": True})
    item = StockItem.objects.get(sku_id=line.sku_id)
    assert (item.on_hand, item.reserved) == (10 - 2 + 1, 0)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.SHIPPED


def test_system_refund_of_a_whole_order() -> None:
    s = shopper(wallet=100_000)
    order = paid_order(s)
    before = wallet(s)
    services.refund_whole_order(order, "拼团失败")
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    assert wallet(s) == before + 30900
    assert Payment.objects.get(order=order).refunded_amount == 30900
    assert ledger.check_ledger() == []


def test_refunding_every_unit_after_shipping_is_a_full_refund(op: Api) -> None:
    s = shopper(wallet=100_000)
    order = paid_order(s, (5000,), (2,))
    services.ship_order(OperatorFactory(), order.pk, "SF", "1")
    line = order.lines.get()
    case = services.request_after_sale(s.user, order.pk, [(line.pk, 2)], 10000, "整单退货", kind="return_refund")
    op.post(f"admin/after-sales/{case.pk}/approve")
    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == (OrderStatus.REFUNDED, 10000)  # shipping ¥10 was spent
    payload = OutboxEvent.objects.get(name="order.refunded").payload
    assert (payload["full"], payload["all_units"]) == (False, True)
