"""Community's periodic jobs: unclaimed group red packets go back to their funders."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from . import conf, digest, red_packets


@db_periodic_task(crontab(minute="*/5"))
def refund_group_red_packets() -> int:
    """Every five minutes; each packet is refunded once however often this runs."""
    return red_packets.refund_due()


@db_periodic_task(crontab(minute="0", hour=str(conf.DIGEST_HOUR)))
def send_daily_digests() -> int:
    """Once a day; a second run the same day sends nothing (one DigestRun per group and day)."""
    return digest.send_daily_digests()
