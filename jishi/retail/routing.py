"""Which stores reach a point, at what fee and ETA, and which of them can fill a cart.

One SQL statement finds the candidates: open stores delivering, inside the bounding box of the
largest radius allowed. The exact great-circle distance (``jishi.core.geo``) then keeps the
stores whose own area covers the point.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from jishi.core import geo
from jishi.inventory.models import StockItem

from .conf import retail_setting
from .models import AreaKind, Store, StoreStatus


@dataclass(frozen=True)
class Reach:
    store: Store
    distance_m: int
    fee: int
    eta_minutes: int


def delivery_fee(store: Store, distance: int) -> int:
    """The tier covering ``distance``; beyond the last tier, a price per started km; capped."""
    tiers = store.fee_tiers or []
    for tier in tiers:
        if distance <= int(tier["up_to_m"]):
            return int(tier["fee"])
    last_up_to, last_fee = (int(tiers[-1]["up_to_m"]), int(tiers[-1]["fee"])) if tiers else (0, 0)
    fee = last_fee + store.fee_per_km_beyond * math.ceil((distance - last_up_to) / 1000)
    return min(fee, store.fee_cap) if store.fee_cap else fee


def eta_minutes(store: Store, distance: int) -> int:
    prep = store.prep_minutes if store.prep_minutes is not None else retail_setting("PREP_MINUTES")
    return int(prep) + math.ceil(distance / retail_setting("RIDER_METERS_PER_MINUTE"))


def covers(store: Store, lat: float, lng: float, distance: int) -> bool:
    if store.area_kind == AreaKind.POLYGON:
        return geo.in_polygon(lat, lng, store.polygon)
    return distance <= store.delivery_radius_m


_CANDIDATE_FIELDS = (
    "id",
    "name",
    "latitude",
    "longitude",
    "area_kind",
    "delivery_radius_m",
    "polygon",
    "reach_m",
    "fee_tiers",
    "fee_per_km_beyond",
    "fee_cap",
    "min_order_amount",
    "prep_minutes",
    "location_id",
)


def deliverable(lat: float, lng: float) -> list[Reach]:
    """Stores whose area covers (lat, lng), nearest first: one SQL statement."""
    cap = retail_setting("MAX_RADIUS_M")
    box = geo.bounding_box(lat, lng, cap)
    candidates = (
        Store.objects.filter(box.q(), geo.within_own_reach(lat, lng, cap, "reach_m"))
        .filter(status=StoreStatus.OPEN, delivery_enabled=True)
        .only(*_CANDIDATE_FIELDS)
        .order_by()
    )
    out = []
    for store in candidates:
        d = geo.distance_m(lat, lng, store.latitude, store.longitude)
        if d <= store.reach_m and covers(store, lat, lng, d):
            out.append(Reach(store, d, delivery_fee(store, d), eta_minutes(store, d)))
    out.sort(key=lambda r: (r.distance_m, r.store.pk))
    return out


def nearest(lat: float, lng: float, limit: int, radius_m: int | None = None) -> list[tuple[Store, int]]:
    """Visible stores within ``radius_m`` (default the largest delivery radius), nearest first."""
    radius = radius_m or retail_setting("MAX_RADIUS_M")
    box = geo.bounding_box(lat, lng, radius)
    rows = Store.objects.filter(box.q()).exclude(status=StoreStatus.CLOSED).prefetch_related("hours", "holidays")
    found = [(s, geo.distance_m(lat, lng, s.latitude, s.longitude)) for s in rows]
    found = [(s, d) for s, d in found if d <= radius]
    found.sort(key=lambda sd: (sd[1], sd[0].pk))
    return found[:limit]


def shortages(location_ids: Collection[int], lines: Sequence[tuple[int, int]]) -> dict[int, list[int]]:
    """{location_id: SKUs it cannot fill} for a cart, in one query over every location."""
    wanted: dict[int, int] = {}
    for sku_id, quantity in lines:
        wanted[sku_id] = wanted.get(sku_id, 0) + quantity
    available = {
        (loc, sku): on_hand - reserved
        for loc, sku, on_hand, reserved in StockItem.objects.filter(
            location_id__in=list(location_ids), sku_id__in=list(wanted)
        ).values_list("location_id", "sku_id", "on_hand", "reserved")
    }
    return {
        loc: sorted(sku for sku, q in wanted.items() if (available.get((loc, sku)) or 0) < q) for loc in location_ids
    }
