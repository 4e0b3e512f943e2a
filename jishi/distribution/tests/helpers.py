"""Distribution test helpers: promoter chains and paid orders."""

from __future__ import annotations

import itertools
from typing import Any

from jishi.core.events import deliver_pending
from jishi.distribution import services
from jishi.distribution.models import Promoter
from jishi.orders import services as orders
from jishi.orders.models import Order
from jishi.payments.services import pay_with_wallet
from jishi.testing.shop import Shopper, shopper, skus


def configure(**rules: Any) -> None:
    services.update_settings(None, rules)


def promoter(s: Shopper) -> Promoter:
    return services.apply(s.user)


def chain(n: int, wallet: int = 0) -> list[Shopper]:
    """n people, each (but the first) bound to the previous one's code; all but the last promote."""
    people = [shopper(wallet=wallet) for _ in range(n)]
    for upper, lower in itertools.pairwise(people):
        code = promoter(upper).code
        services.bind(lower.user, code)
    return people


def buy(s: Shopper, price: int, quantity: int = 1, **options: Any) -> Order:
    (sku,) = skus(price, stock=100)
    order = orders.place_order(s.user, [(sku.pk, quantity)], s.address.pk, options)
    pay_with_wallet(s.user, order.pk)
    deliver_pending()
    order.refresh_from_db()
    return order
