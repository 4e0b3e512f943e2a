"""Community group-buy settings: defaults here, overridden by ``JISHI_GB_<NAME>`` env vars or
``settings.JISHI_GROUPBUY``."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    "RADIUS_M": 3000,  # leaders shown to a buyer within this distance
    "LEADER_RATE_BP": 1000,  # leader commission when neither a level nor a product says otherwise
    "COMMISSION_CAP_BP": 3000,  # leader + promoter commission on one product never above this
    "REBIND_COOL_DOWN_DAYS": 7,  # a member may change leader this long after the last choice
    "PAY_MINUTES": 15,  # an unpaid batch order closes after this (and never later than the cut-off)
    "UNCOLLECTED_DAYS": 3,  # days after the pickup date before an order counts as uncollected
    "NEAREST_LIMIT": 20,
}


def _coerce(default: Any, raw: str) -> Any:
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(raw)
    return raw


def gb_setting(name: str) -> Any:
    overrides = getattr(settings, "JISHI_GROUPBUY", None) or {}
    if name in overrides:
        return overrides[name]
    raw = os.environ.get(f"JISHI_GB_{name}")
    if raw is not None:
        return _coerce(DEFAULTS[name], raw)
    return DEFAULTS[name]
