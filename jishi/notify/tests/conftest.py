"""Notify fixtures: campaigns from marketing, inbox readers."""

from __future__ import annotations

from jishi.marketing.tests.conftest import bargain_campaign, group_campaign, make_template, now  # noqa: F401
from jishi.notify.models import Message
from jishi.payments.tests.test_refund_intent import alipay  # noqa: F401


def inbox(user_id: int, category: str | None = None) -> list[tuple[str, str]]:
    """(category, title) of a member's messages, oldest first."""
    rows = Message.objects.filter(user_id=user_id).order_by("id")
    if category:
        rows = rows.filter(category=category)
    return [(m.category, m.title) for m in rows]
