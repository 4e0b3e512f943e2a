"""The console home: a registry of dashboard cards and charts that each app fills with its own figures.

Core knows no orders or withdrawals: ``orders/admin.py`` registers the sales cards, ``commission/admin.py``
the pending withdrawals, and so on. An analytics app adds its cards and charts the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

Allowed = Callable[[Any], bool]


@dataclass(frozen=True)
class Period:
    """The windows every sales card reads: today (since local midnight) and the last 7 days including today."""

    now: datetime
    today_start: datetime
    week_start: datetime
    # Figures several cards share (e.g. one sales aggregate for GMV, orders, buyers and AOV), per render.
    memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    def shared(self, key: Any, compute: Callable[[], Any]) -> Any:
        if key not in self.memo:
            self.memo[key] = compute()
        return self.memo[key]

    @classmethod
    def current(cls) -> Period:
        now = timezone.localtime()
        today = now.replace(hour=0, minute=0, second=0, microsecond=0)
        return cls(now=now, today_start=today, week_start=today - timedelta(days=6))

    def days(self) -> list[datetime]:
        return [self.week_start + timedelta(days=i) for i in range(7)]


@dataclass(frozen=True)
class Figure:
    """What a card shows: the main value, an optional comparison line, and a link to the rows behind it."""

    value: str
    note: str = ""
    link: str = ""
    alert: bool = False  # a to-do with something waiting


@dataclass(frozen=True)
class Section:
    key: str
    title: Any
    order: int


SECTIONS: dict[str, Section] = {
    "today": Section("today", _("今日经营"), 10),
    "week": Section("week", _("近 7 日"), 20),
    "todo": Section("todo", _("待办事项"), 30),
}


@dataclass(frozen=True)
class Card:
    key: str
    title: Any
    section: str
    compute: Callable[[Period], Figure]
    icon: str = "monitoring"
    order: int = 100
    allowed: Allowed = field(default=lambda user: bool(user.is_staff))


@dataclass(frozen=True)
class Chart:
    key: str
    title: Any
    render: Callable[[Period], SafeString]
    order: int = 100
    allowed: Allowed = field(default=lambda user: bool(user.is_staff))


_cards: dict[str, Card] = {}
_charts: dict[str, Chart] = {}


def register_card(card: Card) -> Card:
    """Add a card to the console home (a second registration under the same key replaces the first)."""
    if card.section not in SECTIONS:
        raise ValueError(f"unknown dashboard section {card.section!r}")
    _cards[card.key] = card
    return card


def register_chart(chart: Chart) -> Chart:
    _charts[chart.key] = chart
    return chart


def add_section(section: Section) -> None:
    """A new row of cards (e.g. analytics' 流量 or 复购)."""
    SECTIONS.setdefault(section.key, section)


def dashboard_callback(request: HttpRequest, context: dict[str, Any]) -> dict[str, Any]:
    """Unfold's DASHBOARD_CALLBACK: the cards and charts this user may see, computed for the current period."""
    user = request.user
    period = Period.current()
    sections = []
    for section in sorted(SECTIONS.values(), key=lambda s: s.order):
        cards = [c for c in _cards.values() if c.section == section.key and c.allowed(user)]
        shown = [{"card": c, "figure": c.compute(period)} for c in sorted(cards, key=lambda c: (c.order, c.key))]
        if shown:
            sections.append({"section": section, "cards": shown})
    charts = [
        {"chart": c, "svg": c.render(period)}
        for c in sorted(_charts.values(), key=lambda c: (c.order, c.key))
        if c.allowed(user)
    ]
    context.update({"dashboard_sections": sections, "dashboard_charts": charts, "dashboard_period": period})
    return context
