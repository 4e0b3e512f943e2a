"""Periodic content jobs: retry rewards a spent budget held back, and repair counters."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from . import rewards, services


@db_periodic_task(crontab(minute="5", hour="0"))
def sweep_rewards() -> int:
    return rewards.sweep()


@db_periodic_task(crontab(minute="30", hour="3"))
def recount_counters() -> int:
    return services.recount()
