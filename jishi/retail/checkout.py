"""Routing at checkout: the fulfilment choices for a cart and an address, and placing the order.

The order itself goes through ``orders.place_order`` and the whole checkout pipeline (member
price, coupons, points); retail only adds its ``StoreChoice`` option, which its own pipeline
step turns into a fee, a stock location and a board row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from jishi.accounts import services as accounts
from jishi.accounts.models import Address, User
from jishi.core.errors import Conflict, DomainError, InvalidInput, NotFound
from jishi.core.geocoding import AddressNotLocated, GeocoderUnavailable
from jishi.orders import services as orders
from jishi.orders.models import CartLine, Order
from jishi.orders.pipeline import Checkout

from . import routing
from .conf import retail_setting
from .models import FulfilmentMode, Store, StoreStatus
from .steps import StoreChoice

EXPRESS = "express"


@dataclass(frozen=True)
class StoreOption:
    store: Store
    distance_m: int
    fee: int
    eta_minutes: int
    missing_sku_ids: list[int]


@dataclass(frozen=True)
class Options:
    delivery: list[StoreOption]
    pickup: list[StoreOption]
    # Why the address could not be placed on the map (no delivery offered then), or None.
    address_error: DomainError | None = None


def _cart_lines(user: User, lines: Sequence[tuple[int, int]] | None) -> list[tuple[int, int]]:
    if lines is not None:
        return list(lines)
    return list(CartLine.objects.filter(user=user, selected=True).values_list("sku_id", "quantity"))


def _point(user: User, address_id: int | None) -> tuple[float, float] | None:
    """The address's point, geocoded now (outside any transaction) when it has none yet.
    Raises NotFound, AddressNotLocated (422) or GeocoderUnavailable (502)."""
    if address_id is None:
        return None
    if not Address.objects.filter(user=user, pk=address_id).exists():
        raise NotFound(_("收货地址不存在"), code="address_not_found", fields={"address_id": [str(address_id)]})
    address = accounts.locate_address(user, address_id)
    return address.latitude, address.longitude  # type: ignore[return-value]


def fulfilment_options(
    user: User,
    lines: Sequence[tuple[int, int]] | None,
    address_id: int | None,
    *,
    near: tuple[float, float] | None = None,
    pickup_limit: int = 10,
) -> Options:
    """Stores that deliver to the address (nearest first, fee, ETA) and stores to pick up from
    (nearest to the address or to ``near``), each with the SKUs it lacks for this cart."""
    cart = _cart_lines(user, lines)
    address_error = None
    try:
        point = _point(user, address_id) or near
    except (AddressNotLocated, GeocoderUnavailable) as exc:
        point, address_error = near, exc
    reaches = routing.deliverable(*point) if point else []
    pickups = (
        routing.nearest(point[0], point[1], pickup_limit)
        if point
        else [(s, 0) for s in Store.objects.filter(status=StoreStatus.OPEN, pickup_enabled=True)[:pickup_limit]]
    )
    pickups = [(s, d) for s, d in pickups if s.pickup_enabled and s.status == StoreStatus.OPEN]
    short = routing.shortages({r.store.location_id for r in reaches} | {s.location_id for s, _d in pickups}, cart)
    return Options(
        delivery=[
            StoreOption(r.store, r.distance_m, r.fee, r.eta_minutes, short[r.store.location_id]) for r in reaches
        ],
        pickup=[StoreOption(s, d, 0, 0, short[s.location_id]) for s, d in pickups],
        address_error=address_error,
    )


def _choice(mode: str, store_id: int | None, slot_id: int | None) -> StoreChoice | None:
    if mode == EXPRESS:
        return None
    if mode not in (FulfilmentMode.DELIVERY, FulfilmentMode.PICKUP):
        raise InvalidInput(code="invalid_mode", fields={"mode": [mode]})
    if store_id is None:
        raise InvalidInput(_("请选择门店"), code="store_required", fields={"store_id": [str(_("必填"))]})
    if slot_id is not None and mode != FulfilmentMode.DELIVERY:
        raise InvalidInput(code="slot_for_delivery_only", fields={"slot_id": [str(slot_id)]})
    return StoreChoice(mode=mode, store_id=store_id, slot_id=slot_id)


def preview(
    user: User,
    lines: Sequence[tuple[int, int]] | None,
    address_id: int | None,
    options: dict[str, Any],
    *,
    mode: str,
    store_id: int | None = None,
    slot_id: int | None = None,
) -> Checkout:
    choice = _choice(mode, store_id, slot_id)
    if mode == FulfilmentMode.DELIVERY:
        _point(user, address_id)  # geocoded before the pipeline reads it
    return orders.preview(user, lines, address_id, {**options, "store_fulfilment": choice} if choice else options)


def place(
    user: User,
    lines: Sequence[tuple[int, int]] | None,
    address_id: int | None,
    options: dict[str, Any],
    *,
    mode: str,
    store_id: int | None = None,
    slot_id: int | None = None,
    remark: str = "",
) -> list[Order]:
    """One order, or with the ``split`` rule two: what the store has, and the rest by express
    from the warehouse. With ``offer`` a short store is refused, naming stores that can fill."""
    choice = _choice(mode, store_id, slot_id)
    if choice is None:
        return [orders.place_order(user, lines, address_id, options, remark)]
    if mode == FulfilmentMode.DELIVERY:
        _point(user, address_id)  # geocoded first: the order's transaction makes no remote call
    cart = _cart_lines(user, lines)
    store = Store.objects.filter(pk=choice.store_id).first()
    if store is None:
        raise NotFound(_("门店不存在"), code="store_not_found", fields={"store_id": [str(choice.store_id)]})
    missing = routing.shortages([store.location_id], cart)[store.location_id]
    if not missing:
        return [orders.place_order(user, lines, address_id, {**options, "store_fulfilment": choice}, remark)]
    if retail_setting("SHORTAGE_RULE") != "split" or len(missing) == len({s for s, _q in cart}):
        raise Conflict(
            _("该门店库存不足，可选择其他门店"),
            code="store_short",
            fields={"sku_id": [str(s) for s in missing], "store_id": _alternatives(user, cart, address_id, mode)},
        )
    here = [(s, q) for s, q in cart if s not in missing]
    rest = [(s, q) for s, q in cart if s in missing]
    with transaction.atomic():
        first = orders.place_order(user, here, address_id, {**options, "store_fulfilment": choice}, remark)
        second = orders.place_order(user, rest, address_id, {"coupon_ids": [], "use_points": 0}, remark)
        if lines is None:
            CartLine.objects.filter(user=user, sku_id__in=[s for s, _q in cart]).delete()
    return [first, second]


def _alternatives(user: User, cart: list[tuple[int, int]], address_id: int | None, mode: str) -> list[str]:
    found = fulfilment_options(user, cart, address_id)
    pool = found.delivery if mode == FulfilmentMode.DELIVERY else found.pickup
    return [str(o.store.pk) for o in pool if not o.missing_sku_ids]
