"""Rebate jobs: each enabled source's order sync, the expiry of dead coupons, the goods refresh from
the networks' search APIs, and the resumption of buyer registrations that a crash left open."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task
from huey.exceptions import TaskLockedException
from huey.storage import RedisStorage

from . import adjustments, goods, goods_refresh, registration, sync
from .models import RebateSource

LOCK_SECONDS = 3600  # a crashed worker's lock lapses after an hour


@db_task()
def sync_rebate_source(source_id: int) -> int:
    """One source's sync; a run still going for that source makes this one a no-op."""
    try:
        # Huey's SQLite storage keeps no expiring keys: there the lock lasts until the consumer
        # restarts (it flushes its locks at start, see settings.HUEY).
        ttl = LOCK_SECONDS if isinstance(HUEY.storage, RedisStorage) else None
        with HUEY.lock_task(f"rebate-sync-{source_id}", ttl=ttl):
            return sync.sync_source(source_id).rows
    except TaskLockedException:
        return 0


@db_periodic_task(crontab(minute="*/5"))
def sync_rebate_sources() -> int:
    ids = list(RebateSource.objects.filter(enabled=True).values_list("pk", flat=True))
    for source_id in ids:
        sync_rebate_source(source_id)
    return len(ids)


@db_periodic_task(crontab(minute="17"))
def sync_rebate_adjustments() -> int:
    """Taobao refund (维权) and penalty reports of every enabled source, hourly; returns cases applied."""
    applied = 0
    for source_id in RebateSource.objects.filter(enabled=True).values_list("pk", flat=True):
        try:
            applied += adjustments.sync_adjustments(source_id).applied
        except adjustments.NetworkError:
            continue  # recorded on the source; the next hour tries again from the same watermark
    return applied


@db_periodic_task(crontab(minute="7"))
def expire_rebate_coupons() -> int:
    return goods.expire_dead_coupons()


@db_task()
def refresh_rebate_source_goods(source_id: int) -> int:
    """One source's goods refresh; a refresh still going for that source makes this one a no-op."""
    try:
        ttl = LOCK_SECONDS if isinstance(HUEY.storage, RedisStorage) else None
        with HUEY.lock_task(f"rebate-goods-{source_id}", ttl=ttl):
            return goods_refresh.refresh_source_goods(source_id).rows
    except TaskLockedException:
        return 0


@db_periodic_task(crontab(minute="23", hour="*/2"))
def refresh_rebate_goods() -> int:
    ids = list(RebateSource.objects.filter(enabled=True).exclude(goods_keywords="").values_list("pk", flat=True))
    for source_id in ids:
        refresh_rebate_source_goods(source_id)
    return len(ids)


@db_periodic_task(crontab(minute="*/5"))
def resume_rebate_registrations() -> int:
    return registration.resume_registrations()
