"""Notify jobs: sending queued deliveries, inbox retention, reminders."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from . import services


@db_periodic_task(crontab(minute="40", hour="3"))
def purge_expired_messages() -> int:
    return services.purge_expired()


@db_periodic_task(crontab(minute="0", hour="10"))
def remind_expiring_points() -> int:
    from . import reminders

    return reminders.remind_expiring_points()


@db_task()
def send_deliveries() -> int:
    from . import delivery

    return delivery.send_all_due()


@db_periodic_task(crontab(minute="*"))
def sweep_deliveries() -> int:
    """Whatever a kick missed, a retry that came due, or a crashed worker's lapsed claim."""
    from . import delivery

    return delivery.send_all_due()


@db_periodic_task(crontab(minute="*"))
def run_campaigns() -> int:
    """Start scheduled campaigns and run (or resume after a crash) every running one."""
    from . import campaigns

    return campaigns.run_due()
