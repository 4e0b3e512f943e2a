"""Charts for the console, drawn server-side as inline SVG: no scripts, no CDN."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from django.utils.safestring import SafeString, mark_safe


def bar_chart(
    rows: Sequence[tuple[str, int]],
    *,
    value_label: str = "",
    width: int = 640,
    bar_height: int = 22,
    format_value: object = None,
) -> SafeString:
    """Horizontal bars, one per (label, value), scaled to the largest value."""
    fmt = format_value if callable(format_value) else str
    peak = max((v for _, v in rows), default=0) or 1
    label_w, value_w = 160, 110
    plot_w = width - label_w - value_w
    height = bar_height * max(len(rows), 1) + 24
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="{escape(value_label)}" font-family="sans-serif" font-size="12">'
    ]
    for i, (label, value) in enumerate(rows):
        y = 12 + i * bar_height
        w = max(1, int(plot_w * max(value, 0) / peak))
        parts.append(
            f'<text x="{label_w - 8}" y="{y + bar_height * 0.65:.0f}" text-anchor="end">{escape(label)}</text>'
        )
        parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{w}" height="{bar_height - 6}" fill="#e63946" rx="3"/>')
        parts.append(f'<text x="{label_w + w + 6}" y="{y + bar_height * 0.65:.0f}">{escape(str(fmt(value)))}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped above
