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


def column_chart(
    rows: Sequence[tuple[str, int]],
    *,
    value_label: str = "",
    width: int = 560,
    height: int = 190,
    format_value: object = None,
    colour: str = "#e63946",
) -> SafeString:
    """Vertical columns, one per (label, value) — a week of days — with the value above each column."""
    fmt = format_value if callable(format_value) else str
    peak = max((v for _, v in rows), default=0) or 1
    top, bottom, side = 26, 28, 8
    plot_h = height - top - bottom
    slot = (width - 2 * side) / max(len(rows), 1)
    bar_w = min(44.0, slot * 0.56)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(value_label)}" font-family="sans-serif" font-size="11" class="jishi-chart">',
        f'<line x1="{side}" y1="{top + plot_h}" x2="{width - side}" y2="{top + plot_h}" stroke="#e5e7eb"/>',
    ]
    for i, (label, value) in enumerate(rows):
        cx = side + slot * i + slot / 2
        h = max(2.0, plot_h * max(value, 0) / peak) if value else 2.0
        y = top + plot_h - h
        fill = colour if value else "#e5e7eb"
        parts.append(
            f'<rect x="{cx - bar_w / 2:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" rx="4" fill="{fill}"/>'
        )
        parts.append(
            f'<text x="{cx:.1f}" y="{y - 6:.1f}" text-anchor="middle" fill="#374151">{escape(str(fmt(value)))}</text>'
        )
        parts.append(f'<text x="{cx:.1f}" y="{height - 8}" text-anchor="middle" fill="#6b7280">{escape(label)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped above
