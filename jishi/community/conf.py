"""Community rule defaults: every number a setting (``JISHI_COMMUNITY_*`` in the environment)."""

from __future__ import annotations

import os


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(f"JISHI_COMMUNITY_{name}") or ""
    return int(value) if value else default


# A red packet's unclaimed remainder goes back to its funder this long after it was sent.
RED_PACKET_REFUND_HOURS = _env_int("RED_PACKET_REFUND_HOURS", 24)
RED_PACKET_MAX_SHARES = _env_int("RED_PACKET_MAX_SHARES", 500)
RED_PACKET_MAX_AMOUNT = _env_int("RED_PACKET_MAX_AMOUNT", 2_000_000)  # ¥20,000
GROUP_DEFAULT_CAPACITY = _env_int("GROUP_DEFAULT_CAPACITY", 500)
GROUP_MAX_CAPACITY = _env_int("GROUP_MAX_CAPACITY", 100_000)
MUTE_MAX_MINUTES = _env_int("MUTE_MAX_MINUTES", 30 * 24 * 60)
# The first digest of a group looks back this far; later ones cover the time since the last.
DIGEST_LOOKBACK_HOURS = _env_int("DIGEST_LOOKBACK_HOURS", 24)
# Local hour the daily digest job runs.
DIGEST_HOUR = _env_int("DIGEST_HOUR", 8)
# Core-fan activity score weights (per topic, reply, like received, red-packet share claimed,
# paid order of a product shared in the group, newcomer invited).
SCORE_TOPIC = _env_int("SCORE_TOPIC", 5)
SCORE_REPLY = _env_int("SCORE_REPLY", 2)
SCORE_LIKE_RECEIVED = _env_int("SCORE_LIKE_RECEIVED", 1)
SCORE_RED_PACKET = _env_int("SCORE_RED_PACKET", 1)
SCORE_SHARED_ORDER = _env_int("SCORE_SHARED_ORDER", 10)
SCORE_INVITATION = _env_int("SCORE_INVITATION", 10)
FAN_REWARD_MAX = _env_int("FAN_REWARD_MAX", 50)
