"""Fixed-window rate limits: Redis INCR when configured, an atomic database upsert otherwise."""

from __future__ import annotations

import time
from datetime import timedelta
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from .errors import RateLimited
from .models import RateCounter


@lru_cache(maxsize=1)
def redis_client() -> Any:
    import redis

    return redis.Redis.from_url(settings.REDIS_URL)


def _window_key(key: str, window_seconds: int) -> tuple[str, int]:
    window = int(time.time()) // window_seconds
    return f"rl:{key}:{window_seconds}:{window}", window_seconds - int(time.time()) % window_seconds


def count_hit(key: str, window_seconds: int, *, backend: str | None = None) -> int:
    """Count one hit in the current window and return the count so far."""
    full_key, ttl = _window_key(key, window_seconds)
    backend = backend or ("redis" if settings.REDIS_URL else "db")
    if backend == "redis":
        pipe = redis_client().pipeline()
        pipe.incr(full_key)
        pipe.expire(full_key, ttl + 1)
        count, _ = pipe.execute()
        return int(count)
    q = connection.ops.quote_name
    table = q(RateCounter._meta.db_table)
    expires = timezone.now() + timedelta(seconds=ttl + 1)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({q('key')}, {q('count')}, expires_at) VALUES (%s, 1, %s) "  # noqa: S608
            f"ON CONFLICT ({q('key')}) DO UPDATE SET {q('count')} = {table}.{q('count')} + 1 "
            f"RETURNING {q('count')}",
            [full_key, expires],
        )
        row = cursor.fetchone()
    return int(row[0])


def check(key: str, limit: int, window_seconds: int, *, backend: str | None = None) -> None:
    """Raise RateLimited once ``key`` has been hit more than ``limit`` times in the window."""
    if count_hit(key, window_seconds, backend=backend) > limit:
        raise RateLimited()
