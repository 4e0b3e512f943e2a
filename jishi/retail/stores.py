"""Stores and what belongs to one: its location, area, hours, staff, transfers and stock counts."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jishi.accounts.models import Role, User
from jishi.accounts.services import grant_role, has_role, revoke_role
from jishi.core import audit, geo
from jishi.core.errors import Forbidden, InvalidInput, NotFound
from jishi.inventory import services as inventory
from jishi.inventory.models import Location, LocationKind, StockItem

from .conf import retail_setting
from .models import (
    AreaKind,
    StaffRole,
    StockCount,
    Store,
    StoreHoliday,
    StoreHours,
    StoreStaff,
    StoreStatus,
    Transfer,
)


@dataclass(frozen=True)
class FeeTier:
    up_to_m: int
    fee: int


@dataclass(frozen=True)
class AreaSpec:
    """A delivery area as an operator sets it; checked by ``check_area`` before it is saved."""

    kind: str = AreaKind.RADIUS
    radius_m: int | None = None
    polygon: tuple[tuple[float, float], ...] = ()
    fee_tiers: tuple[FeeTier, ...] = ()
    fee_per_km_beyond: int = 0
    fee_cap: int = 0
    min_order_amount: int = 0


def _number(prefix: str) -> str:
    return f"{prefix}{timezone.localdate():%y%m%d}{secrets.randbelow(10**10):010d}"


def _check_point(lat: float, lng: float, field: str = "latitude") -> None:
    if not geo.valid_point(lat, lng):
        raise InvalidInput(_("坐标无效"), code="invalid_point", fields={field: [f"{lat},{lng}"]})


def check_area(lat: float, lng: float, spec: AreaSpec) -> dict[str, Any]:
    """The area's model fields, or InvalidInput naming what is wrong (radius over the cap...)."""
    cap = retail_setting("MAX_RADIUS_M")
    radius = retail_setting("DEFAULT_RADIUS_M") if spec.radius_m is None else spec.radius_m
    if not 1 <= radius <= cap:
        raise InvalidInput(
            _("配送半径须在 1 到 %(cap)s 米之间") % {"cap": cap},
            code="radius_too_large" if radius > cap else "invalid_radius",
            fields={"delivery_radius_m": [str(cap)]},
        )
    polygon = [[float(p[0]), float(p[1])] for p in spec.polygon]
    reach = radius
    if spec.kind == AreaKind.POLYGON:
        if len(polygon) < 3 or not all(geo.valid_point(p[0], p[1]) for p in polygon):
            raise InvalidInput(_("多边形至少需要 3 个有效顶点"), code="invalid_polygon", fields={"polygon": ["3"]})
        reach = geo.polygon_reach_m(lat, lng, polygon)
        if reach > cap:
            raise InvalidInput(
                _("配送范围不能超过门店 %(cap)s 米") % {"cap": cap},
                code="radius_too_large",
                fields={"polygon": [str(cap)]},
            )
    tiers = sorted(spec.fee_tiers, key=lambda t: t.up_to_m)
    if len({t.up_to_m for t in tiers}) != len(tiers) or any(t.fee < 0 or t.up_to_m < 1 for t in tiers):
        raise InvalidInput(_("阶梯运费的距离须各不相同，金额不能为负"), code="invalid_tiers", fields={"fee_tiers": []})
    if min(spec.fee_per_km_beyond, spec.fee_cap, spec.min_order_amount) < 0:
        raise InvalidInput(code="negative_amount", fields={"fee_cap": ["0"]})
    return {
        "area_kind": spec.kind,
        "delivery_radius_m": radius,
        "polygon": polygon if spec.kind == AreaKind.POLYGON else [],
        "reach_m": reach,
        "fee_tiers": [{"up_to_m": t.up_to_m, "fee": t.fee} for t in tiers],
        "fee_per_km_beyond": spec.fee_per_km_beyond,
        "fee_cap": spec.fee_cap,
        "min_order_amount": spec.min_order_amount,
    }


def create_store(
    actor: User | None,
    *,
    name: str,
    address: str,
    latitude: float,
    longitude: float,
    area: AreaSpec,
    city: str = "",
    phone: str = "",
) -> Store:
    """A store and its inventory location, in one transaction."""
    _check_point(latitude, longitude)
    fields = check_area(latitude, longitude, area)
    with transaction.atomic():
        location = Location.objects.create(code=_number("S"), name=name[:64], kind=LocationKind.STORE)
        store = Store.objects.create(
            location=location,
            name=name[:64],
            city=city[:32],
            address=address[:200],
            latitude=latitude,
            longitude=longitude,
            phone=phone[:20],
            **fields,
        )
        audit.record(actor, "retail.store.create", f"store:{store.pk}", name=store.name)
    return store


def update_area(actor: User | None, store: Store, area: AreaSpec) -> Store:
    fields = check_area(store.latitude, store.longitude, area)
    Store.objects.filter(pk=store.pk).update(**fields)
    for key, value in fields.items():
        setattr(store, key, value)
    audit.record(actor, "retail.store.area", f"store:{store.pk}", radius=store.delivery_radius_m)
    return store


def set_status(actor: User | None, store: Store, status: str) -> Store:
    if status not in StoreStatus.values:
        raise InvalidInput(code="invalid_status", fields={"status": [status]})
    Store.objects.filter(pk=store.pk).update(status=status)
    store.status = status
    audit.record(actor, "retail.store.status", f"store:{store.pk}", status=status)
    return store


def set_hours(store: Store, hours: Sequence[tuple[int, time, time]]) -> list[StoreHours]:
    """Replace the weekly hours: (weekday 0–6, opens, closes); a weekday left out is closed."""
    days = [h[0] for h in hours]
    if len(set(days)) != len(days) or any(not 0 <= d <= 6 for d in days):
        raise InvalidInput(code="invalid_weekday", fields={"hours": [str(d) for d in days]})
    if any(closes <= opens for _d, opens, closes in hours):
        raise InvalidInput(_("关门时间须晚于开门时间"), code="invalid_hours", fields={"hours": []})
    with transaction.atomic():
        StoreHours.objects.filter(store=store).delete()
        return StoreHours.objects.bulk_create(
            StoreHours(store=store, weekday=d, opens=o, closes=c) for d, o, c in sorted(hours)
        )


def set_holiday(
    store: Store, day: date, *, opens: time | None = None, closes: time | None = None, note: str = ""
) -> StoreHoliday:
    closed = opens is None or closes is None
    if not closed and closes <= opens:  # type: ignore[operator]
        raise InvalidInput(_("关门时间须晚于开门时间"), code="invalid_hours", fields={"closes": []})
    holiday, _created = StoreHoliday.objects.update_or_create(
        store=store, date=day, defaults={"closed": closed, "opens": opens, "closes": closes, "note": note[:64]}
    )
    return holiday


def hours_on(store: Store, day: date) -> tuple[time, time] | None:
    """Opening hours on ``day`` (a holiday overrides its weekday), or None when closed."""
    holiday = next((h for h in store.holidays.all() if h.date == day), None)
    if holiday is not None:
        return None if holiday.closed else (holiday.opens, holiday.closes)  # type: ignore[return-value]
    row = next((h for h in store.hours.all() if h.weekday == day.weekday()), None)
    return None if row is None else (row.opens, row.closes)


def is_open(store: Store, at: datetime | None = None) -> bool:
    if store.status != StoreStatus.OPEN:
        return False
    at = timezone.localtime(at or timezone.now())
    hours = hours_on(store, at.date())
    return hours is not None and hours[0] <= at.time() < hours[1]


# --- staff --------------------------------------------------------------------------


def add_staff(actor: User | None, store: Store, user: User, role: str = StaffRole.CLERK) -> StoreStaff:
    """Staff of one store; they hold the accounts clerk role while they work at any store."""
    if role not in StaffRole.values:
        raise InvalidInput(code="invalid_role", fields={"role": [role]})
    with transaction.atomic():
        post, _created = StoreStaff.objects.update_or_create(store=store, user=user, defaults={"role": role})
        grant_role(user, Role.CLERK)
        audit.record(actor, "retail.staff.add", f"store:{store.pk}", user=user.pk, role=role)
    return post


def remove_staff(actor: User | None, store: Store, user: User) -> None:
    with transaction.atomic():
        StoreStaff.objects.filter(store=store, user=user).delete()
        if not StoreStaff.objects.filter(user=user).exists():
            revoke_role(user, Role.CLERK)
        audit.record(actor, "retail.staff.remove", f"store:{store.pk}", user=user.pk)


def staff_store_ids(user: User) -> list[int]:
    return list(StoreStaff.objects.filter(user=user).values_list("store_id", flat=True))


def require_staff(user: User, store_id: int, *, manager: bool = False) -> Store:
    """The store if ``user`` works there (an operator may act for any store); 403 otherwise."""
    store = Store.objects.filter(pk=store_id).first()
    if store is None:
        raise NotFound(_("门店不存在"), code="store_not_found")
    if has_role(user, Role.OPERATOR):
        return store
    rows = StoreStaff.objects.filter(store=store, user=user)
    if manager:
        rows = rows.filter(role=StaffRole.MANAGER)
    if not rows.exists():
        raise Forbidden(_("您不是该门店的员工"), code="not_store_staff")
    return store


def get_store(store_id: int, *, visible_only: bool = False) -> Store:
    rows = Store.objects.prefetch_related("hours", "holidays", "photos")
    if visible_only:
        rows = rows.exclude(status=StoreStatus.CLOSED)
    store = rows.filter(pk=store_id).first()
    if store is None:
        raise NotFound(_("门店不存在"), code="store_not_found")
    return store


# --- stock --------------------------------------------------------------------------


def transfer_stock(
    actor: User | None, source: Location, target: Location, lines: Sequence[tuple[int, int]]
) -> Transfer:
    """Unreserved stock moves from one location to another: all lines or none."""
    number = _number("T")
    with transaction.atomic():
        inventory.transfer(lines, source.pk, target.pk, reference=number)
        record = Transfer.objects.create(
            number=number,
            source=source,
            target=target,
            lines=[[int(s), int(q)] for s, q in lines],
            created_by=actor,
        )
        audit.record(actor, "retail.transfer", f"transfer:{record.pk}", from_location=source.pk, to_location=target.pk)
    return record


def count_stock(actor: User | None, store: Store, counted: Sequence[tuple[int, int]]) -> StockCount:
    """A stock count sets on hand to what was counted (never below what orders reserved)."""
    sku_ids = [s for s, _q in counted]
    if len(set(sku_ids)) != len(sku_ids):
        raise InvalidInput(code="duplicate_sku", fields={"lines": [str(s) for s in sku_ids]})
    number = _number("C")
    with transaction.atomic():
        before = dict(
            StockItem.objects.filter(location=store.location, sku_id__in=sku_ids).values_list("sku_id", "on_hand")
        )
        for sku_id, quantity in counted:
            inventory.set_on_hand(sku_id, quantity, location=store.location, reference=number)
        record = StockCount.objects.create(
            number=number,
            store=store,
            lines=[{"sku_id": s, "counted": q, "before": before.get(s, 0)} for s, q in counted],
            created_by=actor,
        )
    return record


def store_stock(store: Store, sku_ids: Sequence[int] | None = None) -> list[StockItem]:
    rows = StockItem.objects.filter(location=store.location).select_related("sku__product").order_by("sku_id")
    if sku_ids is not None:
        rows = rows.filter(sku_id__in=list(sku_ids))
    return list(rows)


def visible_stores() -> Any:
    return Store.objects.filter(~Q(status=StoreStatus.CLOSED))
