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


@db_periodic_task(crontab(minute="*"))
def close_abandoned_payments() -> int:
    return services.close_abandoned_payments()


@db_task(retries=3, retry_delay=30)
def close_payments_task(order_id: int) -> int:
    return services.close_payments_of(order_id)


@db_task()
def execute_refund_task(refund_no: str) -> str:
    """A refund recorded by an event handler, made once its transaction committed."""
    return services.execute_refund(refund_no).status


@db_periodic_task(crontab(minute="*"))
def resume_refunds() -> int:
    return services.resume_refunds()
