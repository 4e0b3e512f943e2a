"""The one order in which rows of a purchase are locked: order, then its after-sales case, then
(in payments) its payment, then the payment's refund.

Every path that locks more than one of these takes them through here in that order, so a
notify, an approval and a resume job working on the same order queue instead of deadlocking.
Payments' own rows are locked by ``jishi.payments.locks`` after the order is held.
"""

from __future__ import annotations

from django.db import transaction

from jishi.core.errors import NotFound

from .models import AfterSale, Order


def lock_order(order_id: int) -> Order:
    """The order, locked until the transaction ends."""
    assert transaction.get_connection().in_atomic_block, "locks are taken inside a transaction"
    order = Order.objects.select_for_update().filter(pk=order_id).first()
    if order is None:
        raise NotFound()
    return order


def lock_case(case_id: int, *, user_id: int | None = None) -> tuple[Order, AfterSale]:
    """A case and its order, the order first (the case's order never changes, so reading it
    unlocked to learn which order to lock is safe)."""
    rows = AfterSale.objects.filter(pk=case_id)
    if user_id is not None:
        rows = rows.filter(user_id=user_id)
    order_id = rows.values_list("order_id", flat=True).first()
    if order_id is None:
        raise NotFound()
    order = lock_order(order_id)
    case = AfterSale.objects.select_for_update().get(pk=case_id)
    case.order = order
    return order, case
