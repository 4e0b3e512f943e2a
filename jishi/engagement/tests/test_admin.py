"""Console lists of 提醒发货 and product reviews name orders, buyers and products, never raw ids."""

from __future__ import annotations

import pytest
from django.test import Client

from jishi.content import reviews
from jishi.engagement import services
from jishi.orders import services as orders
from jishi.payments.services import pay_with_wallet
from jishi.testing.factories import AdminFactory, OperatorFactory
from jishi.testing.shop import shopper, skus

pytestmark = pytest.mark.django_db


def test_reminders_and_reviews_are_listed_by_name(client: Client) -> None:
    me = shopper(wallet=10_000, nickname="小王")
    (sku,) = skus(2000)
    order = orders.place_order(me.user, [(sku.pk, 1)], me.address.pk)
    pay_with_wallet(me.user, order.pk)
    services.remind_shipment(me.user, order.pk)
    orders.ship_order(OperatorFactory(), order.pk, "顺丰速运", "SF1")
    orders.confirm_receipt(me.user, order.pk)
    reviews.review_line(me.user, order.lines.get().pk, 5, "好喝")
    client.force_login(AdminFactory())

    reminders = client.get("/console/engagement/shipmentreminder/").content.decode()
    listed = client.get("/console/content/productreview/").content.decode()

    assert order.number in reminders and "小王" in reminders
    assert sku.product.name in listed and "小王" in listed and "待审核" in listed
