"""New-retail rule defaults, each overridable by a ``JISHI_RETAIL_<NAME>`` environment variable."""

from __future__ import annotations

import os
from typing import Any


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(f"JISHI_RETAIL_{name}") or ""
    return int(value) if value else default


def _env_str(name: str, default: str) -> str:
    return os.environ.get(f"JISHI_RETAIL_{name}") or default


DEFAULTS: dict[str, Any] = {
    "DEFAULT_RADIUS_M": _env_int("DEFAULT_RADIUS_M", 3000),
    "MAX_RADIUS_M": _env_int("MAX_RADIUS_M", 10000),  # larger areas are refused
    "PREP_MINUTES": _env_int("PREP_MINUTES", 20),  # picking and packing before a rider leaves
    "RIDER_METERS_PER_MINUTE": _env_int("RIDER_METERS_PER_MINUTE", 250),  # 15 km/h through a city
    # A cart the chosen store cannot fill: "offer" names the stores that can; "split" sends what
    # the store lacks as a second order from the warehouse by express.
    "SHORTAGE_RULE": _env_str("SHORTAGE_RULE", "offer"),
    "PICKUP_CODE_DIGITS": _env_int("PICKUP_CODE_DIGITS", 6),
    "MEMBER_CODE_SECONDS": _env_int("MEMBER_CODE_SECONDS", 60),  # a member QR expires after this
    "POS_PAY_MINUTES": _env_int("POS_PAY_MINUTES", 10),  # an offline sale waiting for a provider QR
    "COURIER_SECRET": _env_str("COURIER_SECRET", ""),  # default derived from SECRET_KEY
    "COURIER_URL": _env_str("COURIER_URL", ""),  # the same-city courier's API; empty: own riders only
}


def retail_setting(name: str) -> Any:
    from django.conf import settings

    overrides = getattr(settings, "JISHI_RETAIL", None) or {}
    return overrides.get(name, DEFAULTS[name])
