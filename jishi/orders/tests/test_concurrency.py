"""Races on real databases: threads with their own connections, as app servers would be."""

from __future__ import annotations

from collections import Counter

import pytest

from conftest import Api
from jishi.core import ledger
from jishi.core.models import AccountKind
from jishi.inventory.models import StockItem
from jishi.orders.models import Order, OrderStatus
from jishi.payments.models import Payment
from jishi.testing.concurrency import race
from jishi.testing.shop import shopper, skus

pytestmark = pytest.mark.django_db(transaction=True)


def test_sixty_buyers_race_for_the_last_ten_units() -> None:
    (sku,) = skus(990, stock=10)
    buyers = [shopper() for _ in range(60)]

    def buy(i: int) -> int:
        s = buyers[i]
        response = Api(s.token).post(
            "orders", {"lines": [{"sku_id": sku.pk, "quantity": 1}], "address_id": s.address.pk}
        )
        return response.status_code

    statuses = Counter(race(60, buy))
    assert statuses == {201: 10, 409: 50}
    item = StockItem.objects.get(sku=sku)
    assert (item.on_hand, item.reserved) == (10, 10)
    assert Order.objects.count() == 10


def test_double_clicked_wallet_payment_pays_once() -> None:
    s = shopper(wallet=100_000)
    (sku,) = skus(1990)
    order = (
        Api(s.token).post("orders", {"lines": [{"sku_id": sku.pk, "quantity": 1}], "address_id": s.address.pk}).json()
    )

    def pay(i: int) -> int:
        return Api(s.token).post(f"orders/{order['id']}/pay", {"method": "wallet"}).status_code

    statuses = Counter(race(8, pay))
    assert statuses == {200: 1, 409: 7}
    assert Payment.objects.count() == 1
    assert ledger.balance_of(s.user.pk, AccountKind.WALLET) == 100_000 - 2990
    assert Order.objects.get(pk=order["id"]).status == OrderStatus.PAID
    assert ledger.check_ledger() == []


def test_one_wallet_many_orders_never_overdraws() -> None:
    s = shopper(wallet=10_000)
    (sku,) = skus(1500, stock=100)
    api = Api(s.token)
    orders = [
        api.post("orders", {"lines": [{"sku_id": sku.pk, "quantity": 1}], "address_id": s.address.pk}).json()
        for _ in range(8)
    ]

    def pay(i: int) -> int:
        return Api(s.token).post(f"orders/{orders[i]['id']}/pay", {"method": "wallet"}).status_code

    statuses = Counter(race(8, pay))
    assert statuses == {200: 4, 409: 4}  # 4 × ¥25.00 fit in ¥100.00
    assert ledger.balance_of(s.user.pk, AccountKind.WALLET) == 0
    assert ledger.check_ledger() == []
