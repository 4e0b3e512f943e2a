"""The product page stays a fixed number of queries with reviews, favourite and history."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from jishi.content import reviews, services
from jishi.orders import services as orders
from jishi.payments.services import pay_with_wallet
from jishi.testing.factories import OperatorFactory
from jishi.testing.shop import shopper, skus

pytestmark = pytest.mark.django_db


def test_product_page_queries_do_not_grow_with_reviews(client: Client, django_assert_max_num_queries: Any) -> None:
    (sku,) = skus(2000, stock=50)
    for _ in range(3):
        buyer = shopper(wallet=10_000)
        order = orders.place_order(buyer.user, [(sku.pk, 1)], buyer.address.pk)
        pay_with_wallet(buyer.user, order.pk)
        orders.ship_order(OperatorFactory(), order.pk, "顺丰速运", "SF1")
        orders.confirm_receipt(buyer.user, order.pk)
        review = reviews.review_line(buyer.user, order.lines.get().pk, 5, "好")
        services.approve_post(OperatorFactory(), review.post_id)
    me = shopper()
    client.force_login(me.user)
    client.get(f"/p/{sku.product_id}/")  # warm caches (settings rows, levels)

    with django_assert_max_num_queries(18):
        response = client.get(f"/p/{sku.product_id}/")

    assert response.status_code == 200
    assert "3 条评价" in response.content.decode()
