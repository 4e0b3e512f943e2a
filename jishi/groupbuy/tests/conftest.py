"""Community group-buy fixtures: leaders placed at known distances, a batch on sale, paid orders."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from jishi.accounts.services import issue_token
from jishi.core.events import deliver_pending
from jishi.groupbuy import batches, leaders
from jishi.groupbuy.models import Batch, BatchItem, Leader
from jishi.orders.models import Order
from jishi.payments.services import pay_with_wallet
from jishi.testing.factories import SkuFactory, UserFactory
from jishi.testing.shop import Shopper, fund_wallet, shopper

# A buyer's home in Hangzhou; leaders are placed at exact distances from it.
HOME = (30.2741, 120.1551)
METRES_PER_DEGREE = math.pi * 6_371_008.8 / 180


def offset(north_m: float = 0, east_m: float = 0, origin: tuple[float, float] = HOME) -> tuple[float, float]:
    lat, lng = origin
    return lat + north_m / METRES_PER_DEGREE, lng + east_m / (METRES_PER_DEGREE * math.cos(math.radians(lat)))


def application(name: str, lat: float, lng: float, **point: Any) -> dict[str, Any]:
    return {
        "name": name,
        "phone": "13912345678",
        "id_number": "330106199001011234",
        "pickup_point": {
            "name": f"{name}的自提点",
            "type": "convenience",
            "address": "杭州市西湖区文三路 1 号",
            "latitude": lat,
            "longitude": lng,
            "hours": "08:00-21:00",
            **point,
        },
    }


def make_leader(name: str = "王团长", at: tuple[float, float] = HOME) -> Leader:
    user = UserFactory()
    leader = leaders.apply(user, application(name, *at))
    return leaders.review(None, leader.pk, "approve")


def leader_token(leader: Leader) -> str:
    return issue_token(leader.user)


@pytest.fixture
def leader_at() -> Callable[..., Leader]:
    return make_leader


def make_batch(
    prices: tuple[int, ...] = (1000,),
    group_prices: tuple[int, ...] | None = None,
    stock: int = 100,
    limit: int = 5,
    cutoff: datetime | None = None,
) -> tuple[Batch, list[BatchItem]]:
    now = timezone.now()
    batch = batches.create_batch(
        None,
        {
            "name": "今日团",
            "sale_starts_at": now - timedelta(hours=1),
            "cutoff_at": cutoff or now + timedelta(hours=6),
            "delivery_date": (now + timedelta(days=1)).date(),
            "pickup_date": (now + timedelta(days=1)).date(),
        },
    )
    items = []
    for price, group_price in zip(prices, group_prices or prices, strict=True):
        sku = SkuFactory(price=price, product__price=price)
        items.append(
            batches.add_item(
                None,
                batch.pk,
                {"sku_id": sku.pk, "group_price": group_price, "stock": stock, "per_person_limit": limit},
            )
        )
    return batch, items


@pytest.fixture
def batch_with() -> Callable[..., tuple[Batch, list[BatchItem]]]:
    return make_batch


def buy_paid(
    s: Shopper, batch: Batch, leader: Leader, lines: list[tuple[BatchItem, int]], wallet: int = 100_000
) -> Order:
    fund_wallet(s.user, wallet)
    order = batches.buy(s.user, batch.pk, [(item.sku_id, q) for item, q in lines], leader.pk)
    pay_with_wallet(s.user, order.pk)
    deliver_pending()
    order.refresh_from_db()
    return order


def to_points(batch: Batch) -> None:
    """Cut the batch off (its cut-off is moved to now) and take it to delivering."""
    Batch.objects.filter(pk=batch.pk).update(
        cutoff_at=timezone.now(), sale_starts_at=timezone.now() - timedelta(days=1)
    )
    assert batches.cut_off(batch.pk)
    batches.start_purchasing(None, batch.pk)
    batches.start_delivering(None, batch.pk)
    deliver_pending()


__all__ = ["Shopper", "shopper"]
