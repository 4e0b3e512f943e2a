"""Community group-buy jobs: cut-offs, shortage refunds resumed, uncollected orders."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from . import batches, pickup


@db_periodic_task(crontab(minute="*"))
def cut_off_due_batches() -> int:
    return batches.cut_off_due()


@db_periodic_task(crontab(minute="*/10"))
def resume_shortage_refunds() -> int:
    return pickup.refund_shortages()


@db_periodic_task(crontab(minute="7"))
def mark_uncollected_orders() -> int:
    return pickup.mark_uncollected()
