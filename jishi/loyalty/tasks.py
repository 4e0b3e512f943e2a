"""Loyalty's periodic jobs: points expiry and unclaimed red packets."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from . import levels, points, red_packets


@db_periodic_task(crontab(minute="5", hour="*"))
def expire_points() -> int:
    """Hourly (lots expire at shop midnight; a late or missed run catches up)."""
    return points.expire_due_points()


@db_periodic_task(crontab(minute="*/10"))
def expire_red_packets() -> int:
    return red_packets.expire_red_packets()


@db_periodic_task(crontab(minute="20", hour="3"))
def expire_growth() -> int:
    """Nightly: growth older than the window stops counting; levels follow it down."""
    return levels.expire_growth()
