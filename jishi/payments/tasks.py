"""Payment jobs: deliver sandbox notifies, reconcile payments that never got one."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from . import services


@db_task(retries=5, retry_delay=5)
def send_sandbox_notify(payment_id: int) -> str:
    outcome = services.deliver_sandbox_notify(payment_id)
    if outcome.startswith("http_"):
        raise RuntimeError(f"sandbox notify not accepted: {outcome}")  # huey retries
    return outcome


@db_periodic_task(crontab(minute="*/2"))
def reconcile_pending_payments() -> int:
    return services.reconcile_pending_payments()
