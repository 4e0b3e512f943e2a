"""Row locks for loyalty, in one place: a buyer's Member row is taken first by every points change."""

from __future__ import annotations

from jishi.core.sql import insert_once

from .models import Member


def lock_member(user_id: int) -> Member:
    """The buyer's Member row, created if missing and locked until the transaction ends.

    Every change to a buyer's points, lots, debt or growth takes this lock before touching the
    ledger, so lot bookkeeping and the ledger balance move together and never deadlock.
    """
    insert_once(Member, {"user": user_id}, conflict=["user"])
    return Member.objects.select_for_update().get(user_id=user_id)
