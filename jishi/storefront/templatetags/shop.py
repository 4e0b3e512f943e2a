"""Template filters for shop pages: money in yuan from integer fen, masked phones, media URLs."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.core.files.storage import default_storage

from jishi.core.money import format_yuan

register = template.Library()


@register.filter
def yuan(fen: int | None) -> str:
    """``1250`` → ``¥12.50``; an empty amount shows as ``¥0.00``."""
    return format_yuan(int(fen or 0))


@register.filter
def masked_phone(phone: str | None) -> str:
    """``13912345678`` → ``139****5678``: enough to recognise, not enough to harvest."""
    if not phone or len(phone) < 7:
        return phone or ""
    return f"{phone[:3]}****{phone[-4:]}"


@register.filter
def signed_yuan(fen: int | None) -> str:
    """An adjustment: ``-500`` → ``-¥5.00``, ``1000`` → ``+¥10.00``."""
    amount = int(fen or 0)
    return format_yuan(amount) if amount < 0 else f"+{format_yuan(amount)}"


@register.filter
def yuan_input(fen: int | None) -> str:
    """Fen as a plain yuan number for a form field: ``12850`` → ``128.50``."""
    return f"{Decimal(int(fen or 0)) / 100:.2f}"


@register.filter
def media(name: str | None) -> str:
    """The URL of a stored file (an image name kept on an order line or cart row)."""
    return default_storage.url(name) if name else ""


@register.filter
def spec_text(specs: dict[str, str] | None) -> str:
    return " / ".join(str(v) for v in (specs or {}).values())


@register.filter
def order_actions(order: Any) -> Any:
    """What the buyer may do with ``order`` now (the buttons of an order card)."""
    from jishi.storefront.queries import order_actions as actions

    return actions(order)
