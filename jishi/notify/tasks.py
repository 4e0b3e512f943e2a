"""Periodic notify jobs: inbox retention."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from . import services


@db_periodic_task(crontab(minute="40", hour="3"))
def purge_expired_messages() -> int:
    return services.purge_expired()


@db_periodic_task(crontab(minute="0", hour="10"))
def remind_expiring_points() -> int:
    from . import reminders

    return reminders.remind_expiring_points()
