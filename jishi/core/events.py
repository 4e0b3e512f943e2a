"""Transactional outbox: publish in the writer's transaction, deliver at least once, apply once."""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from django.db import transaction
from django.db.models import F, Min
from django.utils import timezone

from jishi.core.conf import setting

from .models import HandlerRun, OutboxEvent
from .sql import insert_once

log = logging.getLogger(__name__)

Handler = Callable[[OutboxEvent], None]
_handlers: dict[str, list[tuple[str, Handler]]] = defaultdict(list)
_local = threading.local()


def subscribe(event_name: str, name: str | None = None) -> Callable[[Handler], Handler]:
    """Register ``func`` for ``event_name``. Its name is the key of its once-only record."""

    def register(func: Handler) -> Handler:
        handler_name = name or f"{func.__module__}.{func.__qualname__}"
        entries = _handlers[event_name]
        if all(existing != handler_name for existing, _ in entries):
            entries.append((handler_name, func))
        return func

    return register


def unsubscribe(event_name: str, name: str) -> None:
    _handlers[event_name] = [(n, f) for n, f in _handlers[event_name] if n != name]


def handlers_for(event_name: str) -> list[tuple[str, Handler]]:
    return list(_handlers.get(event_name, []))


# Payload fields that name the aggregate an event belongs to, most specific first.
AGGREGATE_FIELDS = ("order_id", "group_id", "post_id", "user_id")


def aggregate_key(payload: dict[str, Any]) -> str:
    """``order:42`` for an event about order 42: events of one key are delivered in order."""
    for field in AGGREGATE_FIELDS:
        value = payload.get(field)
        if value is not None:
            return f"{field.removesuffix('_id')}:{value}"
    return ""


def publish(name: str, payload: dict[str, Any], key: str | None = None) -> OutboxEvent:
    """Write the event in the current transaction; delivery starts once it commits.

    ``key`` names its aggregate (derived from the payload when omitted): a handler sees the
    events of one key in publication order, and a later one waits while an earlier one fails."""
    event = OutboxEvent.objects.create(name=name, payload=payload, key=aggregate_key(payload) if key is None else key)
    transaction.on_commit(_kick)
    return event


def publish_many(events: Sequence[tuple[str, dict[str, Any]]]) -> list[OutboxEvent]:
    """Several ``publish`` in one insert (a page of orders announcing their commissions)."""
    if not events:
        return []
    rows = OutboxEvent.objects.bulk_create(
        [OutboxEvent(name=name, payload=payload, key=aggregate_key(payload)) for name, payload in events],
        batch_size=1000,
    )
    transaction.on_commit(_kick)
    return rows


def _kick() -> None:
    if getattr(_local, "delivering", False):
        return  # the running delivery loop picks new events up itself
    from .tasks import deliver_events

    try:
        deliver_events()
    except Exception:  # the periodic sweep delivers it later; never fail the writer
        log.exception("could not enqueue event delivery")


def deliver_event(event: OutboxEvent) -> bool:
    """Run every handler that has not yet applied ``event``; True when all have."""
    ok = True
    for handler_name, func in handlers_for(event.name):
        try:
            with transaction.atomic():
                run_id = insert_once(
                    HandlerRun,
                    {"event": event.pk, "handler": handler_name, "done_at": timezone.now()},
                    conflict=["event", "handler"],
                )
                if run_id is None:
                    continue  # applied before (its effects committed with this record)
                func(event)
        except Exception as exc:
            ok = False
            log.exception("handler %s failed on event %s", handler_name, event.pk)
            event.last_error = f"{handler_name}: {exc!r}"[:2000]
    rows = OutboxEvent.objects.filter(pk=event.pk)
    if ok:
        rows.update(dispatched_at=timezone.now())
    else:
        # Counted in the database: two consumers failing the same event both count.
        rows.update(attempts=F("attempts") + 1, last_error=event.last_error)
        rows.filter(attempts__gte=setting("EVENT_MAX_ATTEMPTS")).update(dead=True)
    return ok


def _first_dead(keys: set[str]) -> dict[str, int]:
    """The earliest dead event of each key: nothing later of that key goes until it is retried."""
    if not keys:
        return {}
    rows = (
        OutboxEvent.objects.filter(key__in=keys, dispatched_at__isnull=True, dead=True)
        .values("key")
        .annotate(first=Min("id"))
        .values_list("key", "first")
    )
    return dict(rows)


def deliver_pending(limit: int = 500) -> int:
    """Deliver undispatched events in order; returns how many were fully delivered."""
    if getattr(_local, "delivering", False):
        return 0
    _local.delivering = True
    delivered = 0
    try:
        seen: set[int] = set()
        blocked: set[str] = set()  # keys whose earlier event failed in this run
        while True:
            batch = list(
                OutboxEvent.objects.filter(dispatched_at__isnull=True, dead=False)
                .exclude(pk__in=seen)
                .order_by("id")[:limit]
            )
            if not batch:
                break
            # Batches run in id order, so an event goes only when every earlier event of its
            # key went: one that failed (or died) holds back the rest of its aggregate.
            dead = _first_dead({e.key for e in batch if e.key})
            for event in batch:
                seen.add(event.pk)
                if event.key and (event.key in blocked or dead.get(event.key, event.pk) < event.pk):
                    blocked.add(event.key)
                    continue
                if deliver_event(event):
                    delivered += 1
                elif event.key:
                    blocked.add(event.key)
            if len(seen) >= limit:
                break
    finally:
        _local.delivering = False
    return delivered
