"""Loyalty test helpers: orders paid/completed/refunded through the real services, settings, levels."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache

from jishi.core import ledger
from jishi.core.events import deliver_pending
from jishi.core.models import AccountKind
from jishi.loyalty import levels
from jishi.loyalty.conf import loyalty_settings
from jishi.loyalty.models import MemberLevel
from jishi.orders import services as orders
from jishi.orders.models import Order
from jishi.payments.services import pay_with_wallet
from jishi.testing.factories import OperatorFactory
from jishi.testing.shop import Shopper, shopper, skus

OWN_STEPS = {"item_price", "shipping", "points_mall", "member_discount", "points"}


@pytest.fixture(autouse=True)
def _only_orders_and_loyalty_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    """Price with orders' and loyalty's steps only, so other features' steps cannot move exact amounts here."""
    from jishi.orders import pipeline

    monkeypatch.setattr(pipeline, "_steps", {k: v for k, v in pipeline._steps.items() if k in OWN_STEPS})


@pytest.fixture(autouse=True)
def _fresh_level_cache() -> Iterator[None]:
    """The level table is cached per process; tests roll the database back, so forget it both ways."""
    cache.delete(levels.CACHE_KEY)
    yield
    cache.delete(levels.CACHE_KEY)


def points_of(user: Any) -> int:
    return ledger.balance_of(user.pk, AccountKind.POINTS)


def wallet_of(user: Any) -> int:
    return ledger.balance_of(user.pk, AccountKind.WALLET)


def set_rules(**changes: Any) -> None:
    row = loyalty_settings()
    for name, value in changes.items():
        setattr(row, name, value)
    row.save()


def make_level(name: str, threshold: int, **benefits: Any) -> MemberLevel:
    level = MemberLevel.objects.create(name=name, threshold=threshold, **benefits)
    levels.forget_level_table()
    return level


def place(s: Shopper, *prices: int, use_points: int = 0, quantities: tuple[int, ...] | None = None) -> Order:
    items = skus(*prices, stock=50)
    qty = quantities or tuple(1 for _ in prices)
    return orders.place_order(
        s.user, [(sku.pk, q) for sku, q in zip(items, qty, strict=True)], s.address.pk, {"use_points": use_points}
    )


def pay(s: Shopper, order: Order) -> Order:
    pay_with_wallet(s.user, order.pk)
    deliver_pending()
    order.refresh_from_db()
    return order


def complete(order: Order) -> Order:
    orders.ship_order(OperatorFactory(), order.pk, "SF", "SF1")
    order.refresh_from_db()
    orders.complete_order(order)
    deliver_pending()
    order.refresh_from_db()
    return order


def refund(order: Order, amount: int | None = None, quantity: int | None = None) -> Order:
    """Refund ``amount`` for ``quantity`` units of the first line (default: everything refundable)."""
    order.refresh_from_db()
    lines = [
        (line.pk, line.quantity - line.refunded_quantity)
        for line in order.lines.all()
        if line.quantity > line.refunded_quantity
    ]
    if amount is None:
        refundable = sum(line.paid_amount - line.refunded_amount for line in order.lines.all())
        if order.status == "paid":
            refundable = order.paid_amount - order.refunded_amount
        case = orders.request_after_sale(order.user, order.pk, lines, refundable, "test")
    else:
        first = lines[0]
        case = orders.request_after_sale(order.user, order.pk, [(first[0], quantity or first[1])], amount, "test")
    orders.approve_after_sale(None, case.pk)
    deliver_pending()
    order.refresh_from_db()
    return order


@pytest.fixture
def rich() -> Shopper:
    return shopper(wallet=10_000_000)
