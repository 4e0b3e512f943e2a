"""The orders console: dashboard figures, filters, CSV export, CSV bulk shipping, pick list and packing slips."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from jishi.core.models import AuditLog
from jishi.orders import services
from jishi.orders.models import Order, OrderStatus
from jishi.payments.services import pay_with_wallet
from jishi.testing.factories import OperatorFactory
from jishi.testing.shop import Shopper, shopper, skus

pytestmark = pytest.mark.django_db


@pytest.fixture
def console() -> Client:
    client = Client()
    client.force_login(OperatorFactory(is_staff=True))
    return client


def paid_order(s: Shopper, price: int, quantity: int = 1) -> Order:
    (sku,) = skus(price, stock=20)
    order = services.place_order(s.user, [(sku.pk, quantity)], s.address.pk)
    pay_with_wallet(s.user, order.pk)
    order.refresh_from_db()
    return order


def figures(console: Client) -> dict[str, Any]:
    page = console.get(reverse("admin:index"))
    return {
        item["card"].key: item["figure"].value
        for section in page.context["dashboard_sections"]
        for item in section["cards"]
    }


def test_dashboard_counts_todays_sales_and_to_dos(console: Client) -> None:
    a, b = shopper(wallet=100_000), shopper(wallet=100_000)
    paid_order(a, 12800)
    paid_order(a, 5000, quantity=2)
    paid_order(b, 2000)
    shown = figures(console)
    # shipping is added per order (JISHI_SHIPPING_FEE), so GMV is read from the orders themselves
    gmv = sum(o.paid_amount for o in Order.objects.all())
    assert shown["today.gmv"] == f"¥{gmv // 100}.{gmv % 100:02d}"
    assert (shown["today.orders"], shown["today.buyers"], shown["todo.ship"]) == ("3", "2", "3")
    assert shown["today.aov"] == f"¥{gmv // 3 // 100}.{gmv // 3 % 100:02d}"
    assert shown["week.orders"] == "3"


def test_dashboard_cards_link_to_their_filtered_lists(console: Client) -> None:
    admin = Client()
    admin.force_login(OperatorFactory(is_staff=True, is_superuser=True))
    page = admin.get(reverse("admin:index"))
    links = {
        item["card"].key: item["figure"].link
        for section in page.context["dashboard_sections"]
        for item in section["cards"]
    }
    assert links["todo.ship"] == "/console/orders/order/?status__exact=paid"
    assert links["todo.after_sales"] == "/console/orders/aftersale/?status__exact=pending"
    assert links["todo.withdrawals"] == "/console/commission/withdrawal/?status__exact=pending"
    assert links["todo.posts"] == "/console/content/post/?status__exact=pending"
    assert links["todo.low_stock"] == "/console/inventory/stockitem/?low=1"
    assert [console.get(links[key]).status_code for key in ("todo.ship", "todo.after_sales", "todo.low_stock")] == [
        200,
        200,
        200,
    ]
    # an operator without the withdrawal/post permissions is not shown cards that link to pages they cannot open
    assert {"todo.withdrawals", "todo.posts"} & set(figures(console)) == set()


def test_orders_filter_by_payment_method_and_channel(console: Client) -> None:
    s = shopper(wallet=100_000)
    order = paid_order(s, 3000)
    url = reverse("admin:orders_order_changelist")
    by_method = console.get(url, {"payment_method": "wallet", "channel": "normal"})
    by_other = console.get(url, {"payment_method": "alipay"})
    assert [o.pk for o in by_method.context["cl"].result_list] == [order.pk]
    assert list(by_other.context["cl"].result_list) == []
    assert "余额" in by_method.content.decode()


def test_export_writes_the_filtered_orders_in_yuan(console: Client) -> None:
    s = shopper(wallet=100_000)
    kept = paid_order(s, 12850)
    other = paid_order(s, 1000)
    services.ship_order(OperatorFactory(), other.pk, "顺丰", "SF1")
    response = console.get(reverse("admin:orders_order_export"), {"status__exact": OrderStatus.PAID})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["订单号", "下单时间", "付款时间", "状态"]
    assert [r[0] for r in rows[1:]] == [kept.number]
    assert rows[1][3] == "待发货"
    assert rows[1][13] == f"{kept.paid_amount // 100}.{kept.paid_amount % 100:02d}"


def test_export_neutralises_spreadsheet_formulas(console: Client) -> None:
    s = shopper(wallet=100_000)
    order = paid_order(s, 1000)
    Order.objects.filter(pk=order.pk).update(remark="=HYPERLINK(1)")
    rows = list(csv.reader(io.StringIO(console.get(reverse("admin:orders_order_export")).content.decode("utf-8-sig"))))
    assert rows[1][-1] == "'=HYPERLINK(1)"


def test_bulk_ship_ships_each_good_row_and_reports_the_bad_ones(console: Client) -> None:
    s = shopper(wallet=100_000)
    first, second = paid_order(s, 1000), paid_order(s, 2000)
    content = f"订单号,快递公司,运单号\n{first.number},顺丰,SF100\nNOPE,中通,ZT1\n{second.number},中通,ZT200\n"
    upload = SimpleUploadedFile("ship.csv", content.encode("utf-8"), content_type="text/csv")
    response = console.post(reverse("admin:orders_order_bulk_ship"), {"file": upload})
    results = [(r.row.number, r.ok) for r in response.context["results"]]
    assert results == [(first.number, True), ("NOPE", False), (second.number, True)]
    shipped = {o.number: (o.status, o.carrier, o.tracking_number) for o in Order.objects.all()}
    assert shipped[first.number] == (OrderStatus.SHIPPED, "顺丰", "SF100")
    assert shipped[second.number] == (OrderStatus.SHIPPED, "中通", "ZT200")
    assert AuditLog.objects.filter(action="order.ship").count() == 2


def test_bulk_ship_reads_gbk_and_refuses_a_short_row(console: Client) -> None:
    s = shopper(wallet=100_000)
    order = paid_order(s, 1000)
    gbk = SimpleUploadedFile("ship.csv", f"{order.number},韵达,YD1\n".encode("gb18030"))
    console.post(reverse("admin:orders_order_bulk_ship"), {"file": gbk})
    assert Order.objects.get(pk=order.pk).carrier == "韵达"
    short = SimpleUploadedFile("ship.csv", b"123,only-two\n")
    response = console.post(reverse("admin:orders_order_bulk_ship"), {"file": short})
    assert response.context["form"].errors["file"] == ["第 1 行应有三列：订单号, 快递公司, 运单号"]


def test_pick_list_sums_skus_of_paid_orders_and_slip_shows_the_address(console: Client) -> None:
    s = shopper(wallet=100_000)
    (sku,) = skus(1500, stock=30)
    orders = [services.place_order(s.user, [(sku.pk, n)], s.address.pk) for n in (2, 3)]
    for order in orders:
        pay_with_wallet(s.user, order.pk)
    picks = console.get(reverse("admin:orders_order_pick_list")).context["picks"]
    assert [(p["quantity"], sorted(p["orders"])) for p in picks] == [(5, sorted(o.number for o in orders))]
    slip = console.get(reverse("admin:orders_order_packing_slip", args=[orders[0].pk])).content.decode()
    assert s.address.detail in slip and orders[0].number in slip


def test_dashboard_and_order_list_queries_do_not_grow_with_orders(
    console: Client, django_assert_max_num_queries: Any
) -> None:
    s = shopper(wallet=1_000_000)
    for price in range(1000, 1000 + 100 * 25, 100):
        paid_order(s, price)
    with django_assert_max_num_queries(30):
        console.get(reverse("admin:index"))
    with django_assert_max_num_queries(16):
        response = console.get(reverse("admin:orders_order_changelist"))
    assert len(response.context["cl"].result_list) == 25
