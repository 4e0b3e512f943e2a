"""Template filters for shop pages: money in yuan from integer fen, masked phone numbers."""

from __future__ import annotations

from django import template

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
