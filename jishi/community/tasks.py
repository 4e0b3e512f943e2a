"""Community's periodic jobs: unclaimed group red packets go back to their funders."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from . import red_packets


@db_periodic_task(crontab(minute="*/5"))
def refund_group_red_packets() -> int:
    """Every five minutes; each packet is refunded once however often this runs."""
    return red_packets.refund_due()
