"""Campaign fixtures: coupon templates, flash items, 拼团 and bargain campaigns, a clock."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from jishi.core.events import deliver_pending
from jishi.marketing import flash, gate
from jishi.marketing.models import (
    BargainCampaign,
    CouponKind,
    CouponTemplate,
    FlashItem,
    FlashSession,
    GroupBuyCampaign,
)
from jishi.testing.shop import skus


@pytest.fixture
def now() -> datetime:
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def make_template(db: Any, now: datetime) -> Callable[..., CouponTemplate]:
    def make(**kw: Any) -> CouponTemplate:
        values: dict[str, Any] = {
            "name": "立减券",
            "kind": CouponKind.FIXED,
            "amount": 500,
            "valid_until": now + timedelta(days=30),
            "total_quantity": 100,
        }
        values.update(kw)
        return CouponTemplate.objects.create(**values)

    return make


def _gate(request: Any, settings: Any, backend: str) -> Iterator[str]:
    flash.clear_cache()
    overrides = {"FLASH_REDIS_PREFIX": f"test:{uuid.uuid4().hex}", "FLASH_ATTEMPTS_PER_WINDOW": 10_000}
    settings.JISHI_MARKETING = overrides
    settings.REDIS_URL = request.getfixturevalue("redis_url") if backend == "redis" else ""
    yield backend
    if backend == "redis":
        client = gate.client()
        for key in client.scan_iter(f"{overrides['FLASH_REDIS_PREFIX']}:*"):
            client.delete(key)
    flash.clear_cache()


@pytest.fixture(params=["db", "redis"])
def gate_backend(request: Any, settings: Any) -> Iterator[str]:
    """Run a flash-sale test through the database gate and through the Redis gate."""
    yield from _gate(request, settings, request.param)


@pytest.fixture
def redis_gate(request: Any, settings: Any) -> Iterator[str]:
    """Redis-only behaviour (restart, drift), with a key prefix of its own."""
    yield from _gate(request, settings, "redis")


@pytest.fixture
def flash_item(db: Any, now: datetime) -> Callable[..., FlashItem]:
    def make(stock: int = 5, price: int = 9900, flash_price: int = 1990, limit: int = 1, **kw: Any) -> FlashItem:
        (sku,) = skus(price, stock=50)
        session = FlashSession.objects.create(
            name="10:00 场",
            starts_at=kw.pop("starts_at", now - timedelta(minutes=5)),
            ends_at=kw.pop("ends_at", now + timedelta(hours=1)),
            rolling=kw.pop("rolling", False),
        )
        # Through the service: the quota is set aside from the warehouse as in production.
        item = flash.add_item(
            None,
            session.pk,
            {"sku_id": sku.pk, "flash_price": flash_price, "stock": stock, "per_person_limit": limit, **kw},
        )
        item.refresh_from_db()
        return item

    return make


@pytest.fixture
def group_campaign(db: Any, now: datetime) -> Callable[..., GroupBuyCampaign]:
    def make(size: int = 3, price: int = 5000, group_price: int = 3900, **kw: Any) -> GroupBuyCampaign:
        (sku,) = skus(price, stock=100)
        values: dict[str, Any] = {
            "name": "三人团",
            "sku": sku,
            "group_price": group_price,
            "group_size": size,
            "starts_at": now - timedelta(days=1),
            "ends_at": now + timedelta(days=7),
        }
        values.update(kw)
        return GroupBuyCampaign.objects.create(**values)

    return make


@pytest.fixture
def bargain_campaign(db: Any, now: datetime) -> Callable[..., BargainCampaign]:
    def make(price: int = 10000, floor: int = 100, helpers: int = 5, **kw: Any) -> BargainCampaign:
        (sku,) = skus(price, stock=100)
        values: dict[str, Any] = {
            "name": "砍价",
            "sku": sku,
            "floor_price": floor,
            "helpers_needed": helpers,
            "starts_at": now - timedelta(days=1),
            "ends_at": now + timedelta(days=7),
        }
        values.update(kw)
        return BargainCampaign.objects.create(**values)

    return make


def deliver() -> int:
    return deliver_pending()
