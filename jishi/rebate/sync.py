"""The order sync of one source: time windows within the network's limit from the watermark (minus
an overlap) up to a little before now, every page written in its own transaction, the watermark
moved only after a whole window. No network call runs inside a transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from django.db.models import Q
from django.utils import timezone

from jishi.core.conf import setting

from .adapters import Adapter, NetworkError, adapter_for
from .lifecycle import record_reports
from .models import Network, RebateSource, SyncRun

# Pinduoduo answers only for the last 90 days; the others are held to the same back-fill limit.
HISTORY_LIMIT = {Network.PDD: timedelta(days=89)}


@dataclass
class SyncTotals:
    windows: int = 0
    pages: int = 0
    rows: int = 0
    created: int = 0
    changed: int = 0
    credited: int = 0
    unreadable: int = 0


def _start(source: RebateSource, now: datetime) -> datetime:
    overlap = timedelta(minutes=setting("REBATE_SYNC_OVERLAP_MINUTES"))
    backfill = timedelta(days=setting("REBATE_SYNC_BACKFILL_DAYS"))
    start = (source.synced_until - overlap) if source.synced_until else now - backfill
    limit = HISTORY_LIMIT.get(Network(source.network), backfill)
    return max(start, now - limit)


def sync_source(
    source_id: int,
    *,
    now: datetime | None = None,
    session: requests.Session | None = None,
    adapter: Adapter | None = None,
) -> SyncRun:
    """Catch ``source`` up to now; the run says how far it got and any error (the secret never appears)."""
    now = now or timezone.now()
    source = RebateSource.objects.get(pk=source_id)
    adapter = adapter or adapter_for(source, session)
    end_limit = now - timedelta(minutes=setting("REBATE_SYNC_LAG_MINUTES"))
    cursor = _start(source, now)
    run = SyncRun.objects.create(source=source, window_start=cursor)
    totals = SyncTotals()
    error = ""
    window = adapter.max_window()
    try:
        while cursor < end_limit:
            window_end = min(cursor + window, end_limit)
            for page in adapter.fetch(cursor, window_end):
                result = record_reports(source, source.network, page.reports)
                totals.pages += 1
                totals.rows += len(page.reports)
                totals.created += result.created
                totals.changed += result.changed
                totals.credited += result.credited
                totals.unreadable += len(page.errors)
            totals.windows += 1
            RebateSource.objects.filter(
                Q(pk=source.pk) & (Q(synced_until__lt=window_end) | Q(synced_until=None))
            ).update(synced_until=window_end)
            cursor = window_end
    except NetworkError as exc:
        error = str(exc)[:500]
    finished = timezone.now()
    SyncRun.objects.filter(pk=run.pk).update(
        finished_at=finished,
        window_end=cursor,
        windows=totals.windows,
        pages=totals.pages,
        rows=totals.rows,
        error=error,
    )
    fields: dict[str, object] = {"last_run_at": finished}
    if error:
        fields.update(last_error=error, last_error_at=finished)
    else:
        fields.update(last_success_at=finished, last_error="")
    RebateSource.objects.filter(pk=source.pk).update(**fields)
    run.refresh_from_db()
    return run


def sync_lag(source: RebateSource, now: datetime | None = None) -> timedelta | None:
    """How far behind now the source's watermark is (None before its first window)."""
    if source.synced_until is None:
        return None
    return (now or timezone.now()) - source.synced_until
