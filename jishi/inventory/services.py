"""Every stock change: set on hand, reserve, release and consume, by conditional updates.

No read-modify-write: each change is one UPDATE whose WHERE clause carries the condition
(enough available, enough reserved), taken in SKU order so concurrent orders never deadlock.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Case, F, IntegerField, Sum, Value, When
from django.utils.translation import gettext_lazy as _

from jishi.catalog.models import Sku
from jishi.core import local_cache
from jishi.core.errors import Conflict, InvalidInput, NotFound
from jishi.core.sql import CachedQuery, CachedUpdate

from .models import Location, LocationKind, StockItem, StockMove

Lines = Iterable[tuple[int, int]]  # (sku_id, quantity)


class OutOfStock(Conflict):
    code = "out_of_stock"
    default_message = _("库存不足")

    def __init__(self, sku_ids: list[int]) -> None:
        super().__init__(fields={"sku_id": [str(i) for i in sku_ids]})
        self.sku_ids = sku_ids


_default_location: Location | None = None


def default_location() -> Location:
    """The main warehouse, read once per process (every order asks; it never changes)."""
    global _default_location
    if _default_location is None:
        location = Location.objects.filter(is_default=True).first()
        if location is None:
            location, _created = Location.objects.get_or_create(
                code="main", defaults={"name": "总仓", "kind": LocationKind.WAREHOUSE, "is_default": True}
            )
        _default_location = location
    return _default_location


@local_cache.register
def forget_default_location() -> None:
    global _default_location
    _default_location = None


def _merged(lines: Lines) -> list[tuple[int, int]]:
    totals: dict[int, int] = defaultdict(int)
    for sku_id, quantity in lines:
        if quantity <= 0:
            raise InvalidInput(fields={"quantity": [str(_("数量必须大于 0"))]})
        totals[sku_id] += quantity
    return sorted(totals.items())


@transaction.atomic
def set_on_hand(sku_id: int, quantity: int, location: Location | None = None, reference: str = "") -> StockItem:
    """Set counted stock (ERP sync). Refused if it would fall below what orders have reserved."""
    if quantity < 0:
        raise InvalidInput(fields={"quantity": [str(_("数量不能为负"))]})
    location = location or default_location()
    if not Sku.objects.filter(pk=sku_id).exists():  # found by the served fuzz: a 500 at COMMIT before
        raise NotFound(_("商品规格不存在"), code="sku_unavailable", fields={"sku_id": [str(sku_id)]})
    item, _created = StockItem.objects.get_or_create(sku_id=sku_id, location=location)
    updated = StockItem.objects.filter(pk=item.pk, reserved__lte=quantity).update(on_hand=quantity)
    if not updated:
        raise Conflict(_("在库数量不能少于已被订单预留的数量"), code="below_reserved")
    StockMove.objects.create(sku_id=sku_id, location=location, kind="set", quantity=quantity, reference=reference)
    item.refresh_from_db()
    return item


_SELLABLE = CachedQuery(
    lambda sku_ids: (
        StockItem.objects.filter(sku_id__in=sku_ids)
        .values_list("sku_id")
        .annotate(on_hand=Sum("on_hand"), reserved=Sum("reserved"))
        .order_by()
    ),
    sku_ids=list,
)
_RESERVE = CachedUpdate(
    lambda sku_id, location_id, quantity: (
        StockItem.objects.filter(sku_id=sku_id, location_id=location_id, on_hand__gte=F("reserved") + quantity),
        {"reserved": F("reserved") + quantity},
    ),
    sku_id=int,
    location_id=int,
    quantity=int,
)


def sellable(sku_ids: list[int]) -> dict[int, int]:
    return {sku_id: on_hand - reserved for sku_id, on_hand, reserved in _SELLABLE.rows(sku_ids=sku_ids)}


def _per_sku(merged: list[tuple[int, int]]) -> Case:
    """Each line's quantity as one SQL expression: ``CASE sku_id WHEN … THEN quantity END``."""
    return Case(*(When(sku_id=s, then=Value(q)) for s, q in merged), default=Value(0), output_field=IntegerField())


def _lock_items(location_id: int, sku_ids: list[int]) -> dict[int, tuple[int, int]]:
    """{sku_id: (on_hand, reserved)} of the location's rows, locked in SKU order (PostgreSQL;
    SQLite's write transaction already holds the database)."""
    rows = (
        StockItem.objects.select_for_update()
        .filter(location_id=location_id, sku_id__in=sku_ids)
        .order_by("sku_id")
        .values_list("sku_id", "on_hand", "reserved")
    )
    return {sku_id: (on_hand, reserved) for sku_id, on_hand, reserved in rows}


@transaction.atomic(savepoint=False)
def reserve(lines: Lines, reference: str, location_id: int | None = None) -> None:
    """Reserve every line or none: OutOfStock names the SKUs that are short.

    One line is one conditional UPDATE. More lines lock their rows in SKU order, then one
    UPDATE moves them all, still carrying each line's condition: a basket of any size costs
    three statements, not one per line."""
    location_id = location_id or default_location().pk
    merged = _merged(lines)
    if len(merged) == 1:
        [(sku_id, quantity)] = merged
        if not _RESERVE.run(sku_id=sku_id, location_id=location_id, quantity=quantity):
            raise OutOfStock([sku_id])
    else:
        ids = [s for s, _q in merged]
        held = _lock_items(location_id, ids)
        short = [s for s, q in merged if s not in held or held[s][0] - held[s][1] < q]
        if short:
            raise OutOfStock(short)
        wanted = _per_sku(merged)
        updated = StockItem.objects.filter(
            location_id=location_id, sku_id__in=ids, on_hand__gte=F("reserved") + wanted
        ).update(reserved=F("reserved") + wanted)
        if updated != len(merged):  # not under the locks above; the condition holds regardless
            raise OutOfStock(ids)
    StockMove.objects.bulk_create(
        StockMove(sku_id=s, location_id=location_id, kind="reserve", quantity=q, reference=reference) for s, q in merged
    )


@transaction.atomic(savepoint=False)
def release(lines: Lines, reference: str, location_id: int | None = None) -> None:
    """Give reserved stock back (order closed or cancelled)."""
    location_id = location_id or default_location().pk
    merged = _merged(lines)
    for sku_id, quantity in merged:
        updated = StockItem.objects.filter(sku_id=sku_id, location_id=location_id, reserved__gte=quantity).update(
            reserved=F("reserved") - quantity
        )
        if not updated:
            raise Conflict(_("预留数量不足，无法释放"), code="release_exceeds_reserved")
    StockMove.objects.bulk_create(
        StockMove(sku_id=s, location_id=location_id, kind="release", quantity=q, reference=reference) for s, q in merged
    )


@transaction.atomic(savepoint=False)
def consume(lines: Lines, reference: str, location_id: int | None = None) -> None:
    """Reserved stock leaves the shelf (shipped): on hand and reserved both go down, every line
    or none, in one conditional UPDATE (its rows locked first in SKU order when there are more)."""
    location_id = location_id or default_location().pk
    merged = _merged(lines)
    ids = [s for s, _q in merged]
    if len(merged) > 1:
        _lock_items(location_id, ids)
    taken = _per_sku(merged)
    updated = StockItem.objects.filter(
        location_id=location_id, sku_id__in=ids, reserved__gte=taken, on_hand__gte=taken
    ).update(reserved=F("reserved") - taken, on_hand=F("on_hand") - taken)
    if updated != len(merged):
        raise Conflict(_("预留数量不足，无法出库"), code="consume_exceeds_reserved")
    StockMove.objects.bulk_create(
        StockMove(sku_id=s, location_id=location_id, kind="consume", quantity=q, reference=reference) for s, q in merged
    )


@transaction.atomic(savepoint=False)
def restock(lines: Lines, reference: str, location_id: int | None = None) -> None:
    """Returned goods back on the shelf."""
    location_id = location_id or default_location().pk
    merged = _merged(lines)
    for sku_id, quantity in merged:
        item, _created = StockItem.objects.get_or_create(sku_id=sku_id, location_id=location_id)
        StockItem.objects.filter(pk=item.pk).update(on_hand=F("on_hand") + quantity)
    StockMove.objects.bulk_create(
        StockMove(sku_id=s, location_id=location_id, kind="restock", quantity=q, reference=reference) for s, q in merged
    )


@transaction.atomic(savepoint=False)
def transfer(lines: Lines, source_id: int, target_id: int, reference: str) -> None:
    """Move unreserved stock between locations: every line leaves the source or none does."""
    if source_id == target_id:
        raise InvalidInput(_("调出与调入库位不能相同"), code="same_location", fields={"target": [str(target_id)]})
    merged = _merged(lines)
    short = [
        sku_id
        for sku_id, quantity in merged
        if not StockItem.objects.filter(
            sku_id=sku_id, location_id=source_id, on_hand__gte=F("reserved") + quantity
        ).update(on_hand=F("on_hand") - quantity)
    ]
    if short:
        raise OutOfStock(short)
    for sku_id, quantity in merged:
        item, _created = StockItem.objects.get_or_create(sku_id=sku_id, location_id=target_id)
        StockItem.objects.filter(pk=item.pk).update(on_hand=F("on_hand") + quantity)
    StockMove.objects.bulk_create(
        [
            StockMove(sku_id=s, location_id=source_id, kind="transfer_out", quantity=q, reference=reference)
            for s, q in merged
        ]
        + [
            StockMove(sku_id=s, location_id=target_id, kind="transfer_in", quantity=q, reference=reference)
            for s, q in merged
        ]
    )
