"""What orders asks of higher layers without importing them: refunds go back through payments.

A refund has two phases. ``request_refund`` runs inside the caller's transaction (the order
and the case locked): it records the refund with its fixed number and, when no remote call is
needed (wallet), settles it at once. ``execute_refund`` runs outside any transaction: it asks
the provider (the same refund number every time, so a retry is idempotent at the provider) and
settles the answer in a transaction of its own, which finishes the case through
``orders.services.finish_refund``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .models import AfterSale, Order


@dataclass(frozen=True)
class Refunder:
    # (order, case, amount, refund_no) -> True when settled already (no remote call needed)
    request: Callable[[Order, AfterSale, int, str], bool]
    # (refund_no) -> None; raises when the provider refused or could not be reached
    execute: Callable[[str], object]
    # (refund_no) -> None; execute once the current transaction commits (from event handlers)
    execute_after_commit: Callable[[str], None]


_refunder: Refunder | None = None


def register_refunder(refunder: Refunder) -> None:
    global _refunder
    _refunder = refunder


def _get() -> Refunder:
    if _refunder is None:
        raise RuntimeError("no refunder registered: is jishi.payments installed?")
    return _refunder


def request_refund(order: Order, case: AfterSale, amount: int, refund_no: str) -> bool:
    return _get().request(order, case, amount, refund_no)


def execute_refund(refund_no: str) -> None:
    _get().execute(refund_no)


def execute_refund_after_commit(refund_no: str) -> None:
    _get().execute_after_commit(refund_no)
