"""Content-commerce rule defaults (env-overridable); the operator-editable settings row starts from them."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .models import ContentSettings


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(f"JISHI_CONTENT_{name}") or ""
    return int(value) if value else default


def _env_bool(name: str, default: bool) -> bool:
    value = (os.environ.get(f"JISHI_CONTENT_{name}") or "").strip().lower()
    return value in {"1", "true", "yes", "on"} if value else default


DEFAULTS: dict[str, Any] = {
    # a sale within this many days of the buyer last opening a post about the product is the post's
    "attribution_days": _env_int("ATTRIBUTION_DAYS", 7),
    # creator commission on attributed lines, basis points of what was paid for the line (0 = off)
    "commission_bp": _env_int("COMMISSION_BP", 500),
    "commission_freeze_days": _env_int("COMMISSION_FREEZE_DAYS", 7),
    # a reward rule's interaction threshold when the operator gives none
    "reward_threshold": _env_int("REWARD_THRESHOLD", 10),
    # anti-gaming: interactions from accounts created after the post do not count towards rewards
    "exclude_new_accounts": _env_bool("EXCLUDE_NEW_ACCOUNTS", True),
    # clean comments show at once; comments with a flagged word wait for an operator either way
    "comment_auto_approve": _env_bool("COMMENT_AUTO_APPROVE", True),
    # the "hot" feed ranks posts published within this window
    "hot_window_days": _env_int("HOT_WINDOW_DAYS", 30),
}

# Sizes that bound input (not business rules, so not operator-editable).
MAX_TITLE = 80
MAX_BODY = 20_000
MAX_COMMENT = 500
MAX_PRODUCTS = 10
MAX_IMAGES = 9
MAX_REASON = 200
HOT_CANDIDATES = 500  # the hot feed scores at most this many recent posts
# Interaction weights of the hot score; the age decay is (hours + 2) ** HOT_GRAVITY.
HOT_WEIGHTS = {"like": 1, "comment": 2, "favourite": 2, "share": 3}
HOT_GRAVITY = 1.5


def content_settings() -> ContentSettings:
    """The shop's content settings (one row, created from ``DEFAULTS`` on first use)."""
    from .models import ContentSettings

    row = ContentSettings.objects.filter(pk=1).first()
    if row is None:
        row, _created = ContentSettings.objects.get_or_create(pk=1, defaults=dict(DEFAULTS))
    return row
