"""Test and demo helpers: a store in one line, a point at a given distance from it."""

from __future__ import annotations

from typing import Any

from jishi.accounts.models import User
from jishi.core import geo
from jishi.inventory import services as inventory

from . import stores
from .models import Store

HANGZHOU = (30.2741, 120.1551)
# ≤ 3 km ¥5, then ¥1 per started km, at most ¥20
TIERS = (stores.FeeTier(3000, 500),)


def make_store(
    name: str = "西湖店",
    at: tuple[float, float] = HANGZHOU,
    radius_m: int = 3000,
    stock: dict[int, int] | None = None,
    **area: Any,
) -> Store:
    spec = stores.AreaSpec(
        radius_m=radius_m,
        fee_tiers=area.pop("fee_tiers", TIERS),
        fee_per_km_beyond=area.pop("fee_per_km_beyond", 100),
        fee_cap=area.pop("fee_cap", 2000),
        **area,
    )
    store = stores.create_store(None, name=name, address=f"{name}地址", latitude=at[0], longitude=at[1], area=spec)
    for sku_id, quantity in (stock or {}).items():
        inventory.set_on_hand(sku_id, quantity, location=store.location)
    return store


def point_from(store: Store, meters: float, bearing: float = 0.0) -> tuple[float, float]:
    return geo.destination(store.latitude, store.longitude, bearing, meters)


def clerk_of(store: Store, user: User, role: str = "clerk") -> User:
    stores.add_staff(None, store, user, role)
    return user
