"""Periodic jobs: courier requests committed but never sent (a crash between) are resumed."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from . import courier


@db_periodic_task(crontab(minute="*/2"))
def resume_courier_requests() -> int:
    return courier.resume_pending_requests()
