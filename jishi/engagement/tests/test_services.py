"""Favourites once per product, history one row per product (newest first), 提醒发货 once per paid order."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from jishi.core.errors import Conflict, NotFound
from jishi.engagement import services
from jishi.engagement.models import Favourite, ProductView, ShipmentReminder
from jishi.orders import services as orders
from jishi.payments.services import pay_with_wallet
from jishi.testing.shop import shopper, skus

pytestmark = pytest.mark.django_db


def test_a_favourite_is_added_once() -> None:
    me = shopper().user
    (sku,) = skus(1000)

    assert services.add_favourite(me, sku.product_id) is True
    assert services.add_favourite(me, sku.product_id) is False
    assert Favourite.objects.filter(user=me).count() == 1
    assert services.is_favourite(me, sku.product_id) is True

    services.remove_favourite(me, sku.product_id)
    assert services.is_favourite(me, sku.product_id) is False


def test_an_unknown_product_cannot_be_a_favourite() -> None:
    with pytest.raises(NotFound) as caught:
        services.add_favourite(shopper().user, 987654)
    assert caught.value.code == "product_unavailable"


def test_history_keeps_one_row_per_product_newest_first() -> None:
    me = shopper().user
    a, b = skus(1000, 2000)
    now = timezone.now()

    services.record_view(me, a.product_id, now - timedelta(minutes=2))
    services.record_view(me, b.product_id, now - timedelta(minutes=1))
    services.record_view(me, a.product_id, now)

    assert list(ProductView.objects.filter(user=me).values_list("product_id", flat=True)) == [
        a.product_id,
        b.product_id,
    ]
    assert services.clear_history(me) == 2


def test_shipment_reminder_once_per_paid_order_and_only_paid() -> None:
    me = shopper(wallet=10_000)
    (sku,) = skus(1000)
    order = orders.place_order(me.user, [(sku.pk, 1)], me.address.pk)

    with pytest.raises(Conflict):
        services.remind_shipment(me.user, order.pk)  # not paid yet
    pay_with_wallet(me.user, order.pk)

    assert services.remind_shipment(me.user, order.pk) is True
    assert services.remind_shipment(me.user, order.pk) is False
    assert ShipmentReminder.objects.filter(order=order).count() == 1
    assert services.reminded([order.pk]) == {order.pk}


def test_someone_elses_order_cannot_be_reminded() -> None:
    me, other = shopper(wallet=10_000), shopper()
    (sku,) = skus(1000)
    order = orders.place_order(me.user, [(sku.pk, 1)], me.address.pk)
    pay_with_wallet(me.user, order.pk)

    with pytest.raises(NotFound):
        services.remind_shipment(other.user, order.pk)
    assert ShipmentReminder.objects.count() == 0
