"""Delivery records and the sender: rows are written set-based with their message; the worker
claims due rows, calls each channel's backend outside any transaction, and settles the result.

A claim is a token and a lease on the row (``claimed_until``): a worker killed mid-send leaves
its rows claimed until the lease lapses, then another worker sends them with the same delivery id
(the vendor's out id), so a resumed send never becomes a second row and never a second message.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as dtime
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from jishi.accounts.models import User

from . import conf
from .channels import Outcome, Send, backend_for
from .models import Channel, Delivery, DeliveryStatus, MemberChannels, Message

log = logging.getLogger(__name__)

# How a member's address on each outside channel is found, and what marks their marketing opt-out.
_ADDRESS_SQL = {
    Channel.SMS: "u.phone IS NOT NULL AND u.phone <> ''",
    Channel.WECHAT: "mc.wechat_openid <> ''",
    Channel.EMAIL: "mc.email <> ''",
}
_OPT_IN_COLUMN = {Channel.SMS: "sms_marketing", Channel.WECHAT: "wechat_marketing", Channel.EMAIL: "email_marketing"}


def enqueue_sql(channel: str, *, marketing: bool, message_filter: str) -> str:
    """INSERT … SELECT of one delivery row per message that ``message_filter`` (on ``m``) picks.

    Parameters: channel, status, marketing, created_at, delivered_at, then the filter's. Outside
    channels skip members without an address there and, for marketing, members who opted out.
    """
    q = connection.ops.quote_name
    table = q(Delivery._meta.db_table)
    messages = q(Message._meta.db_table)
    users = q(User._meta.db_table)
    prefs = q(MemberChannels._meta.db_table)
    cols = ", ".join(
        q(c)
        for c in (
            "message_id",
            "user_id",
            "channel",
            "status",
            "marketing",
            "attempts",
            "created_at",
            "delivered_at",
            "reason",
            "vendor_id",
            "claim",
            "campaign_id",
        )
    )
    joins, where = "", [message_filter]
    if channel != Channel.INBOX:
        joins = f" JOIN {users} u ON u.id = m.user_id LEFT JOIN {prefs} mc ON mc.user_id = m.user_id"
        where.append(_ADDRESS_SQL[Channel(channel)])
        if marketing:
            where.append(f"(mc.id IS NULL OR mc.{q(_OPT_IN_COLUMN[Channel(channel)])} = %s)")
    return (
        f"INSERT INTO {table} ({cols}) "  # noqa: S608  (identifiers quoted, values are parameters)
        f"SELECT m.id, m.user_id, %s, %s, %s, 0, %s, %s, '', '', '', m.campaign_id FROM {messages} m{joins} "
        f"WHERE {' AND '.join(where)} "
        f"ON CONFLICT ({q('message_id')}, {q('channel')}) DO NOTHING"
    )


def enqueue(
    cursor: Any,
    channel: str,
    *,
    marketing: bool,
    message_filter: str,
    params: Sequence[Any],
    now: datetime,
) -> int:
    """Write the delivery rows of one channel for the messages ``message_filter`` selects."""
    db_now = connection.ops.adapt_datetimefield_value(now)
    inbox = channel == Channel.INBOX
    head = [
        channel,
        DeliveryStatus.DELIVERED if inbox else DeliveryStatus.QUEUED,
        marketing,
        db_now,
        db_now if inbox else None,
    ]
    tail = [] if inbox or not marketing else [True]
    # The opt-in parameter comes after the filter's in the SQL text.
    cursor.execute(enqueue_sql(channel, marketing=marketing, message_filter=message_filter), [*head, *params, *tail])
    return max(cursor.rowcount, 0)


def channels_for(category: str) -> list[str]:
    return [Channel.INBOX, *conf.notify_setting("TRANSACTIONAL_CHANNELS").get(category, [])]


def kick() -> None:
    """After commit: ask the worker to send what was queued (the periodic sweep catches misses)."""
    from .tasks import send_deliveries

    try:
        send_deliveries()
    except Exception:  # never fail the writer for a notice
        log.exception("could not enqueue notice sending")


# --- sending ---------------------------------------------------------------------------------


@dataclass
class _Job:
    delivery: Delivery
    send: Send | None  # None: nothing to send (address gone) → failed
    defer_until: datetime | None = None


def _in_quiet_hours(local: dtime, start: dtime | None, end: dtime | None) -> bool:
    if start is None or end is None or start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end  # across midnight


def _quiet_end(now: datetime, end: dtime) -> datetime:
    local = timezone.localtime(now)
    candidate = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if candidate <= local:
        candidate += timedelta(days=1)
    return candidate


Renderer = Callable[[Delivery, Message, User, dict[str, Any]], tuple[str, str, dict[str, str]]]
_renderers: dict[str, Renderer] = {}


def register_renderer(name: str, renderer: Renderer) -> None:
    """Campaigns render their per-channel content (``{name}``, ``{coupon}``) at send time."""
    _renderers[name] = renderer


def _claim(token: str, now: datetime, limit: int, channel: str | None, campaign_id: int | None) -> list[int]:
    # Campaign sends go out through their campaign's run (its throttle); the sweep sends the rest.
    due = Delivery.objects.filter(status=DeliveryStatus.QUEUED).exclude(channel=Channel.INBOX)
    due = due.filter(campaign__isnull=True) if campaign_id is None else due.filter(campaign_id=campaign_id)
    due = due.filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    due = due.filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
    if channel:
        due = due.filter(channel=channel)
    ids = list(due.order_by("id").values_list("id", flat=True)[:limit])
    if not ids:
        return []
    lease = now + timedelta(seconds=conf.notify_setting("CLAIM_SECONDS"))
    with transaction.atomic():
        # Conditional: of two workers that picked the same rows, each row goes to one of them.
        Delivery.objects.filter(pk__in=ids, status=DeliveryStatus.QUEUED).filter(
            Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
        ).update(claim=token, claimed_until=lease, attempts=F("attempts") + 1)
    return list(Delivery.objects.filter(pk__in=ids, claim=token).values_list("id", flat=True))


def _jobs(ids: list[int], now: datetime) -> list[_Job]:
    rows = list(Delivery.objects.filter(pk__in=ids).select_related("message", "user").order_by("id"))
    prefs = {p.user_id: p for p in MemberChannels.objects.filter(user_id__in={r.user_id for r in rows})}
    local = timezone.localtime(now).time()
    batch_cache: dict[str, Any] = {}  # renderers keep what they loaded for the batch here
    jobs = []
    for row in rows:
        pref = prefs.get(row.user_id)
        address = {
            Channel.SMS: row.user.phone or "",
            Channel.WECHAT: pref.wechat_openid if pref else "",
            Channel.EMAIL: pref.email if pref else "",
        }.get(Channel(row.channel), "")
        if not address:
            jobs.append(_Job(row, None))
            continue
        if row.marketing and pref and _in_quiet_hours(local, pref.quiet_start, pref.quiet_end):
            assert pref.quiet_end is not None
            jobs.append(_Job(row, None, defer_until=_quiet_end(now, pref.quiet_end)))
            continue
        title, body = row.message.title, row.message.body
        params: dict[str, str] = {}
        renderer = _renderers.get(row.message.key.split(":", 1)[0])
        if renderer is not None:
            title, body, params = renderer(row, row.message, row.user, batch_cache)
        jobs.append(
            _Job(
                row,
                Send(
                    delivery_id=row.pk,
                    channel=row.channel,
                    address=address,
                    category=row.message.category,
                    title=title,
                    body=body,
                    link=row.message.link,
                    marketing=row.marketing,
                    wechat_kind=pref.wechat_kind if pref else "miniprogram",
                    params=params,
                ),
            )
        )
    return jobs


class RateLimiter:
    """At most ``rate`` starts per second (0: unlimited), shared by the threads of one worker."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.next_at = time.monotonic()
        self.lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self.lock:
            now = time.monotonic()
            start = max(now, self.next_at)
            self.next_at = start + self.interval
        delay = start - time.monotonic()
        if delay > 0:
            time.sleep(delay)


def _call(send: Send, limiter: RateLimiter) -> Outcome:
    limiter.wait()
    try:
        return backend_for(send.channel).send(send)
    except Exception as exc:  # network, vendor outage: a transient failure, retried with backoff
        log.warning("send of delivery %s on %s failed: %r", send.delivery_id, send.channel, exc)
        return Outcome(ok=False, reason=f"error:{type(exc).__name__}"[:64])


def _settle_sent(jobs: list[tuple[_Job, Outcome]], token: str, now: datetime) -> None:
    """Successes of one batch in one statement per field set (only rows this claim still owns)."""
    if not jobs:
        return
    mine = set(
        Delivery.objects.filter(
            pk__in=[j.delivery.pk for j, _o in jobs], claim=token, status=DeliveryStatus.QUEUED
        ).values_list("pk", flat=True)
    )
    rows = []
    for job, outcome in jobs:
        if job.delivery.pk not in mine:
            continue
        row = job.delivery
        row.status = DeliveryStatus.DELIVERED if outcome.delivered else DeliveryStatus.SENT
        row.vendor_id, row.sent_at, row.reason = outcome.vendor_id, now, ""
        row.delivered_at = now if outcome.delivered else None
        row.claim, row.claimed_until = "", None
        rows.append(row)
    Delivery.objects.bulk_update(
        rows, ["status", "vendor_id", "sent_at", "reason", "delivered_at", "claim", "claimed_until"], batch_size=500
    )


def _settle(job: _Job, outcome: Outcome | None, token: str, now: datetime) -> None:
    row = job.delivery
    mine = Delivery.objects.filter(pk=row.pk, claim=token, status=DeliveryStatus.QUEUED)
    release: dict[str, Any] = {"claim": "", "claimed_until": None}
    if job.defer_until is not None:
        mine.update(next_attempt_at=job.defer_until, attempts=F("attempts") - 1, **release)
        return
    if outcome is None:
        mine.update(status=DeliveryStatus.FAILED, reason="no_address", **release)
        return
    backoff = conf.notify_setting("RETRY_BACKOFF")
    if outcome.permanent or row.attempts > len(backoff):
        mine.update(status=DeliveryStatus.FAILED, reason=outcome.reason, **release)
        return
    mine.update(next_attempt_at=now + timedelta(seconds=backoff[row.attempts - 1]), reason=outcome.reason, **release)


def _in_transaction() -> bool:
    # A test case's own wrapping transaction does not count (Django marks it).
    return any(not getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)


def send_due(
    *,
    channel: str | None = None,
    campaign_id: int | None = None,
    limit: int | None = None,
    rate: float = 0.0,
    concurrency: int = 1,
    now: datetime | None = None,
) -> int:
    """Send one batch of due deliveries; returns how many rows were settled.

    Raises ``RuntimeError`` inside a transaction: a vendor is never called while one is open.
    """
    if _in_transaction():
        raise RuntimeError("deliveries are sent outside any database transaction")
    now = now or timezone.now()
    token = uuid.uuid4().hex
    ids = _claim(token, now, limit or conf.notify_setting("SEND_BATCH"), channel, campaign_id)
    if not ids:
        return 0
    jobs = _jobs(ids, now)
    limiter = RateLimiter(rate)
    sendable = [j for j in jobs if j.send is not None and j.defer_until is None]
    if concurrency > 1 and len(sendable) > 1:
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            outcomes = dict(
                zip(
                    (j.delivery.pk for j in sendable),
                    pool.map(lambda j: _call(j.send, limiter), sendable),  # type: ignore[arg-type]
                    strict=True,
                )
            )
    else:
        outcomes = {j.delivery.pk: _call(j.send, limiter) for j in sendable}  # type: ignore[arg-type]
    settled_at = timezone.now()
    sent: list[tuple[_Job, Outcome]] = []
    with transaction.atomic():
        for job in jobs:  # rows were read after the claim counted this attempt
            outcome = outcomes.get(job.delivery.pk)
            if outcome is not None and outcome.ok and job.defer_until is None:
                sent.append((job, outcome))
            else:
                _settle(job, outcome, token, settled_at)
        _settle_sent(sent, token, settled_at)
    return len(jobs)


def send_all_due(**kwargs: Any) -> int:
    """Send batches until nothing is due."""
    total = 0
    while sent := send_due(**kwargs):
        total += sent
    return total


# --- receipts ----------------------------------------------------------------------------------


def apply_receipt(
    channel: str, vendor_id: str, *, delivered: bool, reason: str = "", at: datetime | None = None
) -> int:
    """A vendor's status report: sent → delivered or failed. Replays and late duplicates change nothing."""
    if not vendor_id:
        return 0
    at = at or timezone.now()
    rows = Delivery.objects.filter(channel=channel, vendor_id=vendor_id, status=DeliveryStatus.SENT)
    if delivered:
        return rows.update(status=DeliveryStatus.DELIVERED, delivered_at=at)
    return rows.update(status=DeliveryStatus.FAILED, reason=(reason or "vendor_failed")[:64])


def apply_opened(channel: str, vendor_id: str, *, at: datetime | None = None) -> int:
    """A vendor reports the member opened (or clicked) it: sent or delivered → read, once."""
    if not vendor_id:
        return 0
    at = at or timezone.now()
    rows = Delivery.objects.filter(
        channel=channel, vendor_id=vendor_id, status__in=[DeliveryStatus.SENT, DeliveryStatus.DELIVERED]
    )
    # An open proves delivery even when the delivered report is late or never comes.
    return rows.update(status=DeliveryStatus.READ, read_at=at, delivered_at=Coalesce(F("delivered_at"), Value(at)))


def mark_inbox_read(message_ids: list[int] | None = None, *, user_id: int, at: datetime) -> int:
    """The member read messages in the inbox: their inbox delivery rows become read."""
    rows = Delivery.objects.filter(user_id=user_id, channel=Channel.INBOX).exclude(status=DeliveryStatus.READ)
    if message_ids is not None:
        rows = rows.filter(message_id__in=message_ids)
    return rows.update(status=DeliveryStatus.READ, read_at=at)
