"""violated_constraint names the broken constraint the same way on PostgreSQL and SQLite."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from jishi.accounts.models import User
from jishi.catalog.models import Sku
from jishi.core.dberrors import unique_field_constraint, violated_constraint
from jishi.orders import services as orders
from jishi.orders.models import CartLine, Order
from jishi.testing.factories import SkuFactory, UserFactory
from jishi.testing.shop import shopper

pytestmark = pytest.mark.django_db


def _integrity_error(write: Callable[[], Any]) -> IntegrityError:
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        write()
    return caught.value


def test_a_second_order_with_the_same_number_names_the_number_constraint() -> None:
    buyer = shopper()
    order = orders.place_order(buyer.user, [(SkuFactory(stock=5).pk, 1)], buyer.address.pk)
    twin = Order.objects.get(pk=order.pk)
    twin.pk = None

    exc = _integrity_error(twin.save)

    assert violated_constraint(exc) == "orders_order_number_key"
    assert unique_field_constraint(Order, "number") == "orders_order_number_key"


def test_a_second_cart_line_for_the_same_sku_names_the_meta_constraint() -> None:
    line = CartLine.objects.create(user=UserFactory(), sku=SkuFactory(), quantity=1)

    exc = _integrity_error(lambda: CartLine.objects.create(user=line.user, sku=line.sku, quantity=2))

    assert violated_constraint(exc) == "cart_line_once"


def test_a_nullable_unique_field_names_its_column_constraint() -> None:
    UserFactory(phone="13900000001")

    exc = _integrity_error(lambda: UserFactory(phone="13900000001", username="another"))

    assert violated_constraint(exc) == "accounts_user_phone_key" == unique_field_constraint(User, "phone")


def test_a_failed_check_names_the_check_constraint() -> None:
    sku = SkuFactory()

    exc = _integrity_error(lambda: Sku.objects.filter(pk=sku.pk).update(price=-1))

    assert violated_constraint(exc) == "sku_price_not_negative"


def test_not_null_has_no_constraint_name() -> None:
    sku = SkuFactory()

    exc = _integrity_error(lambda: Sku.objects.filter(pk=sku.pk).update(price=None))

    assert violated_constraint(exc) is None


def test_unique_field_constraint_refuses_a_field_that_is_not_unique() -> None:
    with pytest.raises(ValueError, match="not unique"):
        unique_field_constraint(Order, "remark")
