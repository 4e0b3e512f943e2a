"""Loyalty rule defaults (env-overridable) and the operator-editable settings row that starts from them."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .models import LoyaltySettings


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(f"JISHI_LOYALTY_{name}") or ""
    return int(value) if value else default


def _env_str(name: str, default: str) -> str:
    return os.environ.get(f"JISHI_LOYALTY_{name}") or default


def _env_json(name: str, default: Any) -> Any:
    value = os.environ.get(f"JISHI_LOYALTY_{name}")
    return json.loads(value) if value else default


# A new shop's settings row starts from these; operators edit the row in the console.
DEFAULTS: dict[str, Any] = {
    # earning
    "points_per_yuan": _env_int("POINTS_PER_YUAN", 1),  # per ¥1 of paid minus refunded, on completion
    "first_order_points": _env_int("FIRST_ORDER_POINTS", 10),  # first completed order paid that day
    "invite_points": _env_int("INVITE_POINTS", 50),
    "post_points": _env_int("POST_POINTS", 5),
    "review_points": _env_int("REVIEW_POINTS", 10),
    "content_points_daily_limit": _env_int("CONTENT_POINTS_DAILY_LIMIT", 3),  # awards per kind per day
    # sign-in: from day N of a streak each sign-in earns P points
    "sign_in_tiers": _env_json(
        "SIGN_IN_TIERS", [{"day": 1, "points": 5}, {"day": 3, "points": 10}, {"day": 7, "points": 20}]
    ),
    "sign_in_reset": _env_str("SIGN_IN_RESET", "never"),  # weekly | monthly | never
    # expiry
    "expiry_mode": _env_str("EXPIRY_MODE", "never"),  # never | year_end_next
    "expiry_notice_days": _env_int("EXPIRY_NOTICE_DAYS", 30),
    # spending at checkout
    "redeem_points_per_yuan": _env_int("REDEEM_POINTS_PER_YUAN", 100),  # 100 points = ¥1
    "max_deduction_bp": _env_int("MAX_DEDUCTION_BP", 5000),  # at most 50% of goods after discounts
    # red packets
    "red_packet_valid_days": _env_int("RED_PACKET_VALID_DAYS", 7),
    # member levels count the growth earned within this many days (0: all time), so a member who
    # stops buying moves down a level once the window has passed
    "growth_window_days": _env_int("GROWTH_WINDOW_DAYS", 365),
}


def loyalty_settings() -> LoyaltySettings:
    """The shop's loyalty settings (one row, created from ``DEFAULTS`` on first use)."""
    from .models import LoyaltySettings

    row = LoyaltySettings.objects.filter(pk=1).first()
    if row is None:
        row, _created = LoyaltySettings.objects.get_or_create(pk=1)
    return row
