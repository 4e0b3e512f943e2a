"""The inbox's writer: notices into members' inboxes (once per key), read marks, retention.

Other apps call ``notify_member`` / ``notify_members`` inside their own transaction; a second
call with the same ``key`` for the same member writes nothing, so handlers may be redelivered.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import timedelta
from itertools import islice
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jishi.accounts.models import User
from jishi.core.errors import InvalidInput, NotFound

from . import conf, delivery
from .models import Category, Channel, MemberChannels, Message


def _check(category: str, title: str, link: str, key: str) -> None:
    # Programmer errors (callers are code, never a request): fail loudly, write nothing.
    if category not in Category.values:
        raise ValueError(f"unknown notice category {category!r}")
    if not title or len(title) > conf.MAX_TITLE:
        raise ValueError(f"notice title must be 1..{conf.MAX_TITLE} characters")
    if len(link) > conf.MAX_LINK or (link and not link.startswith("/")):
        raise ValueError("a notice link is a storefront path starting with /")
    if not key or len(key) > conf.MAX_KEY:
        raise ValueError(f"notice key must be 1..{conf.MAX_KEY} characters")


def _chunks(ids: Iterable[int], size: int) -> Iterator[list[int]]:
    it = iter(ids)
    while chunk := list(islice(it, size)):
        yield chunk


def insert_messages_sql(members_sql: str) -> str:
    """INSERT … SELECT of one message per member id that ``members_sql`` selects, once per key.

    Parameters: category, title, body, link, key, created_at, then those of ``members_sql``.
    Members that do not exist are skipped (the SELECT joins the user table).
    """
    q = connection.ops.quote_name
    table = q(Message._meta.db_table)
    users = q(User._meta.db_table)
    cols = ", ".join(q(c) for c in ("user_id", "category", "title", "body", "link", "key", "created_at", "variant"))
    return (
        f"INSERT INTO {table} ({cols}) "  # noqa: S608  (identifiers quoted, values are parameters)
        f"SELECT u.id, %s, %s, %s, %s, %s, %s, '' FROM {users} u WHERE u.id IN ({members_sql}) "
        f"ON CONFLICT ({q('user_id')}, {q('key')}) DO NOTHING"
    )


def notify_members(user_ids: Iterable[int], *, category: str, title: str, body: str, link: str = "", key: str) -> int:
    """Put one notice in each member's inbox (set-based, once per key); returns the rows written."""
    _check(category, title, link, key)
    now = timezone.now()
    db_now = connection.ops.adapt_datetimefield_value(now)
    channels = delivery.channels_for(category)
    written = queued = 0
    with connection.cursor() as cursor:
        for chunk in _chunks(dict.fromkeys(int(i) for i in user_ids), conf.INSERT_BATCH):
            placeholders = ", ".join(["%s"] * len(chunk))
            cursor.execute(insert_messages_sql(placeholders), [category, title, body, link, key, db_now, *chunk])
            written += max(cursor.rowcount, 0)
            # One delivery row per channel; a message that existed already has its rows (no conflict).
            q = connection.ops.quote_name
            picked = f"m.{q('key')} = %s AND m.user_id IN ({placeholders})"
            for channel in channels:
                n = delivery.enqueue(
                    cursor, channel, marketing=False, message_filter=picked, params=[key, *chunk], now=now
                )
                if channel != Channel.INBOX:
                    queued += n
    if queued:
        transaction.on_commit(delivery.kick)
    return written


def notify_member(user_id: int, *, category: str, title: str, body: str, link: str = "", key: str) -> None:
    """Put one notice in a member's inbox; a second call with the same ``key`` writes nothing."""
    notify_members([user_id], category=category, title=title, body=body, link=link, key=key)


# --- reading and read marks ----------------------------------------------------------------------


def inbox_of(user: User, *, category: str = "", limit: int = 20, offset: int = 0) -> list[Message]:
    """A member's messages, newest first."""
    qs: QuerySet[Message] = Message.objects.filter(user=user)
    if category:
        qs = qs.filter(category=category)
    return list(qs.order_by("-id")[offset : offset + limit])


def unread_count(user: User) -> int:
    return Message.objects.filter(user=user, read_at__isnull=True).count()


def mark_read(user: User, message_id: int) -> Message:
    """Mark one of the member's own messages read (another member's is not found)."""
    now = timezone.now()
    if Message.objects.filter(pk=message_id, user=user, read_at__isnull=True).update(read_at=now):
        delivery.mark_inbox_read([message_id], user_id=user.pk, at=now)
    message = Message.objects.filter(pk=message_id, user=user).first()
    if message is None:
        raise NotFound()
    return message


def mark_all_read(user: User) -> int:
    """Mark every unread message of the member read; returns how many changed."""
    now = timezone.now()
    with transaction.atomic():
        marked = Message.objects.filter(user=user, read_at__isnull=True).update(read_at=now)
        if marked:
            delivery.mark_inbox_read(user_id=user.pk, at=now)
    return marked


def purge_expired() -> int:
    """Delete messages past the retention period (``conf.RETENTION_DAYS``; 0 keeps all)."""
    if conf.RETENTION_DAYS <= 0:
        return 0
    cutoff = timezone.now() - timedelta(days=conf.RETENTION_DAYS)
    _total, per_model = Message.objects.filter(created_at__lt=cutoff).delete()
    return per_model.get(Message._meta.label, 0)


# --- channel addresses and opt-outs ---------------------------------------------------------------


def notice_settings(user: User) -> MemberChannels:
    """The member's channel settings (a row is made on first use: everything on, no quiet hours)."""
    row, _created = MemberChannels.objects.get_or_create(user=user)
    return row


SETTINGS_FIELDS = ("email", "sms_marketing", "wechat_marketing", "email_marketing", "quiet_start", "quiet_end")


def update_notice_settings(user: User, changes: dict[str, Any]) -> MemberChannels:
    """Change the member's own e-mail, marketing opt-outs and quiet hours (both ends or neither)."""
    unknown = set(changes) - set(SETTINGS_FIELDS)
    if unknown:
        raise InvalidInput(fields={name: ["unknown"] for name in sorted(unknown)})
    if changes.get("email"):
        try:
            validate_email(changes["email"])
        except ValidationError as exc:
            raise InvalidInput(_("邮箱格式不正确"), fields={"email": ["invalid"]}) from exc
    row = notice_settings(user)
    for name, value in changes.items():
        setattr(row, name, value)
    if (row.quiet_start is None) != (row.quiet_end is None):
        raise InvalidInput(_("免打扰时段需要同时填写开始和结束"), fields={"quiet_end": ["required with quiet_start"]})
    row.save()
    return row


def set_wechat_openid(user_id: int, openid: str, kind: str = "miniprogram") -> None:
    """Where WeChat login learns the member's openid (mini-program or official account)."""
    MemberChannels.objects.update_or_create(user_id=user_id, defaults={"wechat_openid": openid, "wechat_kind": kind})
