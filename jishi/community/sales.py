"""Group sales: paid orders by a group's members of products shared in it, placed after the share.

Read by the core-fan score (orders a member made from the group's shares) and the console's chart.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .models import Membership, Topic, TopicKind

PAID_STATUSES = ("paid", "shipped", "completed")


@dataclass(frozen=True)
class SharedSale:
    user_id: int
    product_id: int
    order_id: int
    paid_amount: int


def shared_products(group_id: int) -> dict[int, tuple[str, datetime]]:
    """product id → (name, when first shared in the group)."""
    shared: dict[int, tuple[str, datetime]] = {}
    rows = (
        Topic.objects.filter(group_id=group_id, kind=TopicKind.SHARE, product__isnull=False)
        .order_by("created_at")
        .values_list("product_id", "product__name", "created_at")
    )
    for product_id, name, created_at in rows:
        shared.setdefault(product_id, (name, created_at))
    return shared


def shared_sales(
    group_id: int,
    member_ids: Iterable[int] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[SharedSale]:
    """Paid order lines of shared products by the group's members (or ``member_ids``), after the share."""
    from jishi.orders.models import OrderLine

    shared = shared_products(group_id)
    if not shared:
        return []
    members = (
        list(member_ids)
        if member_ids is not None
        else list(Membership.objects.filter(group_id=group_id).values_list("user_id", flat=True))
    )
    lines = OrderLine.objects.filter(
        order__user_id__in=members, order__status__in=PAID_STATUSES, product_id__in=list(shared)
    )
    if start is not None:
        lines = lines.filter(order__paid_at__gte=start)
    if end is not None:
        lines = lines.filter(order__paid_at__lt=end)
    return [
        SharedSale(user_id=user_id, product_id=product_id, order_id=order_id, paid_amount=paid)
        for user_id, product_id, order_id, paid, paid_at in lines.values_list(
            "order__user_id", "product_id", "order_id", "paid_amount", "order__paid_at"
        ).order_by("id")
        if paid_at is not None and paid_at >= shared[product_id][1]
    ]


def group_sales(group_id: int, limit: int = 10) -> list[dict[str, Any]]:
    """Per shared product: paid amount and orders, best first (the console's chart)."""
    names = {pid: name for pid, (name, _at) in shared_products(group_id).items()}
    amount: dict[int, int] = defaultdict(int)
    orders: dict[int, set[int]] = defaultdict(set)
    for sale in shared_sales(group_id):
        amount[sale.product_id] += sale.paid_amount
        orders[sale.product_id].add(sale.order_id)
    ranked = sorted(amount, key=lambda p: (-amount[p], p))[:limit]
    return [{"product_id": p, "name": names[p], "amount": amount[p], "orders": len(orders[p])} for p in ranked]
