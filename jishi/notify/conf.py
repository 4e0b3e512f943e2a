"""Notify rule defaults (env-overridable numbers; none of them is a literal in code)."""

from __future__ import annotations

import os


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(f"JISHI_NOTIFY_{name}") or ""
    return int(value) if value else default


# inbox messages older than this many days are deleted by the nightly sweep (0 keeps them forever)
RETENTION_DAYS = _env_int("RETENTION_DAYS", 180)
# members per INSERT statement when many inboxes are written at once
INSERT_BATCH = _env_int("INSERT_BATCH", 2000)

# Sizes that bound input (not business rules).
MAX_TITLE = 100
MAX_LINK = 300
MAX_KEY = 120
