"""The daily digest (每日群报) per group: new products, hot topics, flash sales starting, and whatever
other apps add through ``register_section`` (the community group-buy batch, say).

Read like Zulip's digest: one job, one pass per group; members active since the last digest or
opted out are skipped; a ``DigestRun`` row per (group, day) is inserted once in the same transaction
as the notices, and each notice's key names the group and day, so a rerun sends nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from jishi.core.money import format_yuan
from jishi.core.sql import insert_once

from . import conf
from .models import DigestRun, Group, Membership, MemberStatus, ModerationStatus, Reply, Topic

HOT_TOPICS = 3
NEW_PRODUCTS = 3


@dataclass(frozen=True)
class DigestWindow:
    group: Group
    since: datetime
    now: datetime


# (window) -> lines for the digest; empty when the section has nothing today
Section = Callable[[DigestWindow], list[str]]
_sections: list[tuple[str, Section]] = []


def register_section(name: str, section: Section) -> None:
    """Add a digest section from another app's ``AppConfig.ready()`` (community never imports it).

    The community group-buy app registers today's batch here: ``register_section("groupbuy", lines)``."""
    if all(existing != name for existing, _s in _sections):
        _sections.append((name, section))


def hot_topics(group_id: int, since: datetime, limit: int = HOT_TOPICS) -> list[tuple[Topic, int]]:
    """Topics with the most distinct participants (their author and repliers) since ``since``."""
    participants: dict[int, set[int]] = {}
    fresh = Topic.objects.filter(group_id=group_id, status=ModerationStatus.APPROVED, created_at__gte=since)
    for topic_id, author_id in fresh.values_list("id", "author_id"):
        participants.setdefault(topic_id, set()).add(author_id)
    replies = Reply.objects.filter(
        topic__group_id=group_id,
        topic__status=ModerationStatus.APPROVED,
        status=ModerationStatus.APPROVED,
        created_at__gte=since,
    )
    for topic_id, author_id in replies.values_list("topic_id", "author_id"):
        participants.setdefault(topic_id, set()).add(author_id)
    ranked = sorted(participants.items(), key=lambda kv: (-len(kv[1]), -kv[0]))[:limit]
    topics = Topic.objects.in_bulk([topic_id for topic_id, _p in ranked])
    return [(topics[topic_id], len(people)) for topic_id, people in ranked if topic_id in topics]


def _new_products(window: DigestWindow) -> list[str]:
    from jishi.catalog.models import Product, ProductStatus

    rows = Product.objects.filter(status=ProductStatus.PUBLISHED, created_at__gte=window.since).order_by("-id")
    return [_("新品：%(name)s") % {"name": p.name} for p in rows[:NEW_PRODUCTS]]


def _hot(window: DigestWindow) -> list[str]:
    return [
        _("热议：%(title)s（%(n)s 人参与）") % {"title": t.title, "n": n}
        for t, n in hot_topics(window.group.pk, window.since)
    ]


def _flash_sales(window: DigestWindow) -> list[str]:
    from jishi.marketing.models import FlashSession

    day_end = window.now + timedelta(days=1)
    rows = FlashSession.objects.filter(is_active=True, starts_at__gte=window.now, starts_at__lt=day_end)
    return [
        _("秒杀：%(name)s %(at)s 开始") % {"name": s.name, "at": timezone.localtime(s.starts_at).strftime("%H:%M")}
        for s in rows.order_by("starts_at")[:3]
    ]


def _group_buy_batches(window: DigestWindow) -> list[str]:
    """Today's community group-buy batch (团期) on sale, with its cut-off and first items."""
    from jishi.groupbuy.models import Batch, BatchItem, BatchStatus

    batches = list(
        Batch.objects.filter(
            status=BatchStatus.OPEN, sale_starts_at__lte=window.now, cutoff_at__gt=window.now
        ).order_by("cutoff_at", "id")[:2]
    )
    lines: list[str] = []
    for batch in batches:
        items = BatchItem.objects.filter(batch=batch).select_related("sku__product").order_by("sort", "id")[:3]
        goods = "、".join(f"{i.sku.product.name} {format_yuan(i.group_price)}" for i in items)
        lines.append(
            _("今日团购：%(name)s，%(at)s 截单（%(goods)s）")
            % {"name": batch.name, "at": timezone.localtime(batch.cutoff_at).strftime("%m-%d %H:%M"), "goods": goods}
        )
    return lines


register_section("new_products", _new_products)
register_section("group_buy", _group_buy_batches)
register_section("hot_topics", _hot)
register_section("flash_sales", _flash_sales)


def compose(window: DigestWindow) -> list[str]:
    lines: list[str] = []
    for _name, section in _sections:
        lines.extend(section(window))
    return lines


def send_group_digest(group: Group, now: datetime | None = None) -> DigestRun | None:
    """Today's digest for ``group``: None when it was sent already today or there is nothing to say."""
    from jishi.notify.services import notify_members

    now = now or timezone.now()
    day: date = timezone.localdate(now)
    if DigestRun.objects.filter(group=group, day=day).exists():
        return None
    last = DigestRun.objects.filter(group=group).order_by("-day").values_list("created_at", flat=True).first()
    since = last or now - timedelta(hours=conf.DIGEST_LOOKBACK_HOURS)
    lines = compose(DigestWindow(group=group, since=since, now=now))
    if not lines:
        return None
    members = Membership.objects.filter(group=group, status=MemberStatus.ACTIVE)
    opted_out = members.filter(digest_opt_out=True).count()
    active = members.filter(digest_opt_out=False, last_active_at__gte=since).count()
    recipients = list(
        members.filter(digest_opt_out=False)
        .filter(Q(last_active_at__isnull=True) | Q(last_active_at__lt=since))
        .values_list("user_id", flat=True)
    )
    title = _("%(group)s · 今日群报") % {"group": group.name}
    body = "\n".join(lines)
    with transaction.atomic():
        run_id = insert_once(
            DigestRun,
            {
                "group": group.pk,
                "day": day,
                "title": title[:100],
                "body": body,
                "sent_count": 0,
                "skipped_active": active,
                "skipped_opted_out": opted_out,
                "created_at": now,
            },
            conflict=["group", "day"],
        )
        if run_id is None:
            return None  # a parallel run took today's digest
        sent = notify_members(
            recipients,
            category="community",
            title=title[:100],
            body=body,
            link=f"/community/groups/{group.pk}/",
            key=f"community:digest:{group.pk}:{day.isoformat()}",
        )
        DigestRun.objects.filter(pk=run_id).update(sent_count=sent)
    return DigestRun.objects.get(pk=run_id)


def send_daily_digests(now: datetime | None = None) -> int:
    """Every active group's digest for today. Returns how many groups got one."""
    done = 0
    for group in Group.objects.filter(is_active=True).order_by("id"):
        if send_group_digest(group, now) is not None:
            done += 1
    return done
