"""Campaigns: segments reached on the inbox and channels, written in batches by the worker.

Lifecycle: draft → scheduled → running → paused ⇄ running → finished; cancelled from any state
before finished. A running campaign's worker writes members in id order, one batch per
transaction (messages, their delivery rows, gifts, the cursor), so a worker killed anywhere
resumes at the cursor; the message's once-only key (``campaign:<id>``) and the delivery row's
(message, channel) key make a replayed batch write nothing twice. Channel sends then go out
through ``delivery.send_due`` under the campaign's throttle.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jishi.accounts.models import User
from jishi.core import audit
from jishi.core.errors import Conflict, InvalidInput, NotFound

from . import conf, delivery, segments
from .models import (
    OUTSIDE_CHANNELS,
    Campaign,
    CampaignGift,
    CampaignStatus,
    Category,
    Channel,
    Delivery,
    DeliveryStatus,
    Message,
    Segment,
)

log = logging.getLogger(__name__)

TRANSITIONS: dict[str, set[str]] = {
    CampaignStatus.DRAFT: {CampaignStatus.SCHEDULED, CampaignStatus.CANCELLED},
    CampaignStatus.SCHEDULED: {CampaignStatus.DRAFT, CampaignStatus.RUNNING, CampaignStatus.CANCELLED},
    CampaignStatus.RUNNING: {CampaignStatus.PAUSED, CampaignStatus.FINISHED, CampaignStatus.CANCELLED},
    CampaignStatus.PAUSED: {CampaignStatus.RUNNING, CampaignStatus.CANCELLED},
    CampaignStatus.FINISHED: set(),
    CampaignStatus.CANCELLED: set(),
}
EDITABLE = (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED)
CAMPAIGN_FIELDS = (
    "name",
    "segment_id",
    "title",
    "body",
    "link",
    "channel_content",
    "throttle",
    "b_percent",
    "b_title",
    "b_body",
    "coupon_template_id",
    "gift_points",
    "attribution_days",
)
MAX_THROTTLE = 10_000


def message_key(campaign_id: int) -> str:
    return f"campaign:{campaign_id}"


def tracked_link(campaign_id: int) -> str:
    return f"/notify/c/{campaign_id}/"


# --- segments ----------------------------------------------------------------------------------


def save_segment(actor: User | None, name: str, rules: Any, segment_id: int | None = None) -> Segment:
    name = (name or "").strip()
    if not name or len(name) > 64:
        raise InvalidInput(fields={"name": ["1..64"]})
    segments.validate(rules)
    if segment_id is None:
        segment = Segment.objects.create(name=name, rules={} if rules is None else rules)
    else:
        segment = _segment(segment_id)
        Segment.objects.filter(pk=segment.pk).update(name=name, rules={} if rules is None else rules)
        segment.refresh_from_db()
    audit.record(actor, "notify.segment.save", f"segment:{segment.pk}", name=name)
    return segment


def _segment(segment_id: int) -> Segment:
    segment = Segment.objects.filter(pk=segment_id).first()
    if segment is None:
        raise NotFound(code="segment_not_found")
    return segment


# --- campaigns -----------------------------------------------------------------------------------


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    unknown = set(data) - set(CAMPAIGN_FIELDS)
    if unknown:
        raise InvalidInput(fields={k: ["unknown"] for k in sorted(unknown)})
    problems: dict[str, list[str]] = {}
    content = data.get("channel_content") or {}
    if not isinstance(content, dict) or any(
        ch not in OUTSIDE_CHANNELS or not isinstance(v, dict) or not str(v.get("body", "")).strip()
        for ch, v in content.items()
    ):
        problems["channel_content"] = [str(_("每个渠道（sms/wechat/email）都需要正文"))]
    throttle = data.get("throttle") or {}
    if not isinstance(throttle, dict) or any(
        ch not in OUTSIDE_CHANNELS or not isinstance(r, int) or isinstance(r, bool) or not 0 < r <= MAX_THROTTLE
        for ch, r in throttle.items()
    ):
        problems["throttle"] = [str(_("限速为 1–%(max)d 条/秒") % {"max": MAX_THROTTLE})]
    link = data.get("link") or ""
    if link and (not link.startswith("/") or len(link) > conf.MAX_LINK):
        problems["link"] = [str(_("落地页须为站内路径（以 / 开头）"))]
    if "b_percent" in data and data["b_percent"] and not (data.get("b_title") or data.get("b_body")):
        problems["b_title"] = [str(_("A/B 测试需要 B 组标题或正文"))]
    if problems:
        raise InvalidInput(fields=problems)
    if "segment_id" in data:
        _segment(data["segment_id"])
    return data


def create_campaign(actor: User | None, data: dict[str, Any]) -> Campaign:
    clean = _clean(data)
    for required in ("name", "segment_id", "title", "body"):
        if not clean.get(required):
            raise InvalidInput(fields={required: ["required"]})
    campaign = Campaign.objects.create(created_by=actor, **clean)
    audit.record(actor, "notify.campaign.create", f"campaign:{campaign.pk}", name=campaign.name)
    return campaign


def update_campaign(actor: User | None, campaign_id: int, data: dict[str, Any]) -> Campaign:
    clean = _clean(data)
    with transaction.atomic():
        campaign = _locked(campaign_id)
        if campaign.status not in EDITABLE:
            raise Conflict(_("活动已开始，不能修改内容"), code="campaign_not_editable")
        Campaign.objects.filter(pk=campaign.pk).update(**clean)
    campaign.refresh_from_db()
    return campaign


def _locked(campaign_id: int) -> Campaign:
    campaign = Campaign.objects.select_for_update().filter(pk=campaign_id).first()
    if campaign is None:
        raise NotFound(code="campaign_not_found")
    return campaign


def _move(actor: User | None, campaign_id: int, to: str, **fields: Any) -> Campaign:
    with transaction.atomic():
        campaign = _locked(campaign_id)
        if to not in TRANSITIONS[campaign.status]:
            raise Conflict(
                _("活动当前状态不允许此操作"),
                code="invalid_transition",
                fields={"status": [f"{campaign.status} → {to}"]},
            )
        Campaign.objects.filter(pk=campaign.pk).update(status=to, **fields)
        if to == CampaignStatus.CANCELLED:
            Delivery.objects.filter(campaign_id=campaign.pk, status=DeliveryStatus.QUEUED).update(
                status=DeliveryStatus.FAILED, reason="cancelled", claim="", claimed_until=None
            )
        audit.record(actor, f"notify.campaign.{to}", f"campaign:{campaign.pk}")
    campaign.refresh_from_db()
    return campaign


def schedule(actor: User | None, campaign_id: int, at: datetime | None = None) -> Campaign:
    """Schedule for ``at`` (now when omitted); the worker starts it when it comes."""
    return _move(actor, campaign_id, CampaignStatus.SCHEDULED, scheduled_at=at or timezone.now())


def unschedule(actor: User | None, campaign_id: int) -> Campaign:
    return _move(actor, campaign_id, CampaignStatus.DRAFT, scheduled_at=None)


def pause(actor: User | None, campaign_id: int) -> Campaign:
    return _move(actor, campaign_id, CampaignStatus.PAUSED)


def resume(actor: User | None, campaign_id: int) -> Campaign:
    return _move(actor, campaign_id, CampaignStatus.RUNNING)


def cancel(actor: User | None, campaign_id: int) -> Campaign:
    return _move(actor, campaign_id, CampaignStatus.CANCELLED, finished_at=timezone.now())


def start_due(now: datetime | None = None) -> int:
    """Scheduled campaigns whose time has come start running (a conditional update each)."""
    now = now or timezone.now()
    return Campaign.objects.filter(status=CampaignStatus.SCHEDULED, scheduled_at__lte=now).update(
        status=CampaignStatus.RUNNING, started_at=now
    )


# --- writing batches -------------------------------------------------------------------------------


def _coupon_text(campaign: Campaign) -> str:
    return campaign.coupon_template.name if campaign.coupon_template_id and campaign.coupon_template else ""


def _render_sql(template_param: str) -> str:
    """SQL for a text with ``{name}`` replaced by the member's nickname (or the fallback)."""
    return f"REPLACE({template_param}, '{{name}}', COALESCE(NULLIF(u.nickname, ''), %s))"


def _insert_batch_messages(cursor: Any, campaign: Campaign, ids: list[int], now: datetime) -> int:
    q = connection.ops.quote_name
    coupon = _coupon_text(campaign)
    fallback = str(_("会员"))

    def text(value: str) -> str:
        return value.replace("{coupon}", coupon)

    b_title = text(campaign.b_title or campaign.title)
    b_body = text(campaign.b_body or campaign.body)
    is_b = f"((u.id * 7 + {int(campaign.pk)}) %% 100) < %s"
    cols = ", ".join(
        q(c) for c in ("user_id", "category", "title", "body", "link", "key", "created_at", "campaign_id", "variant")
    )
    placeholders = ", ".join(["%s"] * len(ids))
    sql = (
        f"INSERT INTO {q(Message._meta.db_table)} ({cols}) "  # noqa: S608  (identifiers quoted, values are parameters)
        f"SELECT u.id, %s, "
        f"CASE WHEN {is_b} THEN {_render_sql('%s')} ELSE {_render_sql('%s')} END, "
        f"CASE WHEN {is_b} THEN {_render_sql('%s')} ELSE {_render_sql('%s')} END, "
        f"%s, %s, %s, %s, CASE WHEN {is_b} THEN 'B' ELSE 'A' END "
        f"FROM {q(User._meta.db_table)} u WHERE u.id IN ({placeholders}) "
        f"ON CONFLICT ({q('user_id')}, {q('key')}) DO NOTHING"
    )
    pct = campaign.b_percent
    params = [
        Category.PROMOTION,
        pct,
        b_title,
        fallback,
        text(campaign.title),
        fallback,
        pct,
        b_body,
        fallback,
        text(campaign.body),
        fallback,
        tracked_link(campaign.pk),
        message_key(campaign.pk),
        connection.ops.adapt_datetimefield_value(now),
        campaign.pk,
        pct,
        *ids,
    ]
    cursor.execute(sql, params)
    return max(cursor.rowcount, 0)


def _grant_gifts(campaign: Campaign, ids: list[int], now: datetime) -> None:
    """Coupon and points gifts, once per member (the gift row), in the batch's transaction."""
    if not (campaign.coupon_template_id or campaign.gift_points):
        return
    had = set(CampaignGift.objects.filter(campaign=campaign, user_id__in=ids).values_list("user_id", flat=True))
    new = [i for i in ids if i not in had]
    if not new:
        return
    CampaignGift.objects.bulk_create([CampaignGift(campaign=campaign, user_id=i, granted_at=now) for i in new])
    if campaign.coupon_template_id:
        from jishi.marketing.coupons import issue_to_segment

        issue_to_segment(None, campaign.coupon_template_id, new, now)
    if campaign.gift_points:
        from jishi.loyalty import points

        for user_id in new:
            points.credit(
                user_id,
                campaign.gift_points,
                kind="campaign_gift",
                key=f"notify:campaign:{campaign.pk}:{user_id}",
                reference=f"campaign:{campaign.pk}",
                memo=campaign.name[:60],
                now=now,
            )


BatchHook = Callable[[Campaign, list[int]], None]
after_batch: list[BatchHook] = []  # tests and the bench watch progress here


def write_batch(campaign_id: int, size: int | None = None, now: datetime | None = None) -> int:
    """Write the next batch of a running campaign's members; returns how many members it covered."""
    size = size or conf.INSERT_BATCH
    now = now or timezone.now()
    with transaction.atomic():
        campaign = (
            Campaign.objects.select_for_update(of=("self",))
            .select_related("segment", "coupon_template")
            .get(pk=campaign_id)
        )
        if campaign.status != CampaignStatus.RUNNING:
            return 0
        ids = list(
            segments.audience(campaign.segment.rules, now)
            .filter(pk__gt=campaign.cursor)
            .order_by("pk")
            .values_list("pk", flat=True)[:size]
        )
        if not ids:
            return 0
        with connection.cursor() as cursor:
            written = _insert_batch_messages(cursor, campaign, ids, now)
            placeholders = ", ".join(["%s"] * len(ids))
            picked = f"m.campaign_id = %s AND m.user_id IN ({placeholders})"
            for channel in [Channel.INBOX, *campaign.channel_content]:
                delivery.enqueue(
                    cursor, channel, marketing=True, message_filter=picked, params=[campaign.pk, *ids], now=now
                )
        _grant_gifts(campaign, ids, now)
        Campaign.objects.filter(pk=campaign.pk).update(cursor=ids[-1], targeted=campaign.targeted + written)
    for hook in after_batch:
        hook(campaign, ids)
    return len(ids)


def write_all(campaign_id: int, size: int | None = None) -> int:
    total = 0
    while covered := write_batch(campaign_id, size):
        total += covered
    return total


def send_channels(campaign: Campaign, concurrency: int | None = None) -> int:
    """Send the campaign's queued channel rows, each channel at its throttle."""
    sent = 0
    for channel in campaign.channel_content:
        rate = float(campaign.throttle.get(channel) or conf.notify_setting("CHANNEL_RATE").get(channel, 0))
        workers = concurrency or conf.notify_setting("SEND_CONCURRENCY")
        while True:
            if Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.RUNNING).count() == 0:
                return sent  # paused or cancelled between batches
            done = delivery.send_due(channel=channel, campaign_id=campaign.pk, rate=rate, concurrency=workers)
            if not done:
                break
            sent += done
    return sent


def finish_if_done(campaign_id: int, now: datetime | None = None) -> bool:
    """A running campaign with every member written and nothing left queued is finished."""
    now = now or timezone.now()
    with transaction.atomic():
        campaign = _locked(campaign_id)
        if campaign.status != CampaignStatus.RUNNING:
            return False
        more = segments.audience(campaign.segment.rules, now).filter(pk__gt=campaign.cursor).exists()
        queued = Delivery.objects.filter(campaign_id=campaign.pk, status=DeliveryStatus.QUEUED).exists()
        if more or queued:
            return False
        Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.FINISHED, finished_at=now)
    return True


def run(campaign_id: int, size: int | None = None) -> None:
    """The worker's whole pass over one running campaign: write, send, finish."""
    write_all(campaign_id, size)
    campaign = Campaign.objects.get(pk=campaign_id)
    if campaign.status == CampaignStatus.RUNNING:
        send_channels(campaign)
        finish_if_done(campaign_id)


def run_due(now: datetime | None = None) -> int:
    """Periodic: start what is due, then run (or resume) every running campaign."""
    start_due(now)
    ran = 0
    for campaign_id in Campaign.objects.filter(status=CampaignStatus.RUNNING).values_list("pk", flat=True):
        run(campaign_id)
        ran += 1
    return ran


# --- rendering for channels ----------------------------------------------------------------------------


def _render_for_channel(row: Delivery, message: Message, user: User) -> tuple[str, str, dict[str, str]]:
    campaign = (
        Campaign.objects.select_related("coupon_template").filter(pk=row.campaign_id).first()
        if row.campaign_id
        else None
    )
    if campaign is None:
        return message.title, message.body, {}
    content = campaign.channel_content.get(row.channel) or {}
    name = user.nickname or str(_("会员"))
    values = {"name": name, "coupon": _coupon_text(campaign)}

    def fill(text: str) -> str:
        for key, value in values.items():
            text = text.replace("{" + key + "}", value)
        return text

    title = fill(content.get("title") or "") or message.title
    body = fill(content.get("body") or "") or message.body
    return title, body, {"name": name}


delivery.register_renderer("campaign", _render_for_channel)
