"""Order housekeeping: close unpaid orders, complete shipped ones."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from . import services


@db_periodic_task(crontab(minute="*"))
def close_expired_orders() -> int:
    return services.close_expired_orders()


@db_periodic_task(crontab(minute="*/10"))
def auto_complete_orders() -> int:
    return services.auto_complete_orders()
