"""Marketing settings: defaults here, overridden by ``JISHI_MKT_<NAME>`` env vars or ``settings.JISHI_MARKETING``."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # coupons
    "COUPON_MAX_PER_ORDER": 3,  # stackable coupons used together on one order
    "COUPON_AUTO_CANDIDATES": 8,  # best-combination search looks at this many of the buyer's coupons
    "COUPON_CLAIMS_PER_MINUTE": 30,
    # flash sales
    "FLASH_PAY_MINUTES": 10,
    "FLASH_ATTEMPTS_PER_WINDOW": 10,  # per buyer
    "FLASH_ATTEMPT_WINDOW_SECONDS": 10,
    "FLASH_ITEM_CACHE_SECONDS": 2,  # item/session facts cached in-process on the hot path
    "FLASH_SOLD_OUT_CACHE_SECONDS": 1,  # a process that saw "sold out" refuses before auth for this long
    "FLASH_REDIS_PREFIX": "jishi:flash",
    "FLASH_RESTOCK_ON_REFUND": True,
    # 拼团
    "GROUP_TIME_LIMIT_HOURS": 24,
    "GROUP_PAY_MINUTES": 15,
    "GROUP_LEADER_BONUS": 500,  # fen earned by the leader when the group completes (0: none)
    "GROUP_LEADER_BONUS_FREEZE_DAYS": 7,  # frozen like a commission on the leader's order
    # bargain
    "BARGAIN_TIME_LIMIT_HOURS": 24,
    "BARGAIN_PAY_MINUTES": 30,
    "BARGAIN_BUY_BEFORE_FLOOR": True,  # the starter may buy at whatever price was reached so far
    # campaign orders: what they earn elsewhere unless a campaign says otherwise
    "CAMPAIGN_COMMISSION": False,
    "CAMPAIGN_POINTS": True,
}


def _coerce(default: Any, raw: str) -> Any:
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(raw)
    return raw


def mkt_setting(name: str) -> Any:
    overrides = getattr(settings, "JISHI_MARKETING", None) or {}
    if name in overrides:
        return overrides[name]
    raw = os.environ.get(f"JISHI_MKT_{name}")
    if raw is not None:
        return _coerce(DEFAULTS[name], raw)
    return DEFAULTS[name]
