"""The inbox's writer: notices into members' inboxes (once per key), read marks, retention.

Other apps call ``notify_member`` / ``notify_members`` inside their own transaction; a second
call with the same ``key`` for the same member writes nothing, so handlers may be redelivered.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import timedelta
from itertools import islice

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from jishi.accounts.models import User
from jishi.core.errors import NotFound

from . import conf
from .models import Category, Message


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
    cols = ", ".join(q(c) for c in ("user_id", "category", "title", "body", "link", "key", "created_at"))
    return (
        f"INSERT INTO {table} ({cols}) "  # noqa: S608  (identifiers quoted, values are parameters)
        f"SELECT u.id, %s, %s, %s, %s, %s, %s FROM {users} u WHERE u.id IN ({members_sql}) "
        f"ON CONFLICT ({q('user_id')}, {q('key')}) DO NOTHING"
    )


def notify_members(user_ids: Iterable[int], *, category: str, title: str, body: str, link: str = "", key: str) -> int:
    """Put one notice in each member's inbox (set-based, once per key); returns the rows written."""
    _check(category, title, link, key)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    written = 0
    with connection.cursor() as cursor:
        for chunk in _chunks(dict.fromkeys(int(i) for i in user_ids), conf.INSERT_BATCH):
            placeholders = ", ".join(["%s"] * len(chunk))
            sql = insert_messages_sql(placeholders)
            cursor.execute(sql, [category, title, body, link, key, now, *chunk])
            written += max(cursor.rowcount, 0)
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
    Message.objects.filter(pk=message_id, user=user, read_at__isnull=True).update(read_at=timezone.now())
    message = Message.objects.filter(pk=message_id, user=user).first()
    if message is None:
        raise NotFound()
    return message


def mark_all_read(user: User) -> int:
    """Mark every unread message of the member read; returns how many changed."""
    return Message.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())


def purge_expired() -> int:
    """Delete messages past the retention period (``conf.RETENTION_DAYS``; 0 keeps all)."""
    if conf.RETENTION_DAYS <= 0:
        return 0
    cutoff = timezone.now() - timedelta(days=conf.RETENTION_DAYS)
    deleted, _per_model = Message.objects.filter(created_at__lt=cutoff).delete()
    return deleted
