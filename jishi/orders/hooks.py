"""What orders asks of higher layers without importing them: refunds go back through payments."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .models import AfterSale, Order

# refunder(order, after_sale, amount): return the money to where it came from, or raise.
Refunder = Callable[["Order", "AfterSale | None", int, str], None]
_refunder: Refunder | None = None


def register_refunder(refunder: Refunder) -> None:
    global _refunder
    _refunder = refunder


def refund_to_origin(order: Order, after_sale: AfterSale | None, amount: int, refund_no: str) -> None:
    if _refunder is None:
        raise RuntimeError("no refunder registered: is jishi.payments installed?")
    _refunder(order, after_sale, amount, refund_no)
