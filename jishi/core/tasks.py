"""Core background jobs: event delivery and housekeeping."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from .models import IdempotencyRecord, RateCounter


@db_task()
def deliver_events() -> int:
    from .events import deliver_pending

    return deliver_pending()


@db_periodic_task(crontab(minute="*"))
def sweep_events() -> int:
    """At-least-once: whatever a kicked delivery missed (crash, restart) goes out here."""
    from .events import deliver_pending

    return deliver_pending()


@db_periodic_task(crontab(minute="17"))
def purge_expired_records() -> None:
    now = timezone.now()
    RateCounter.objects.filter(expires_at__lt=now).delete()
    IdempotencyRecord.objects.filter(created_at__lt=now - timedelta(days=2)).delete()
