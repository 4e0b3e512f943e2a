"""The flash-sale stock gate in Redis: one atomic script turns losers away before the database.

The database stays the source of truth (``FlashItem.stock_left`` and ``FlashQuota``): the gate
may only ever admit too many (the database then refuses), never lose a sale for good, and it
is rebuilt from the database when its keys are missing (Redis restarted) or by ``reconcile``.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from django.conf import settings

from .conf import mkt_setting

TAKE = """
local stock = redis.call('GET', KEYS[1])
if not stock then return -2 end
local qty = tonumber(ARGV[2])
local held = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
if held + qty > tonumber(ARGV[3]) then return -1 end
if tonumber(stock) < qty then return 0 end
redis.call('DECRBY', KEYS[1], qty)
redis.call('HINCRBY', KEYS[2], ARGV[1], qty)
return 1
"""

GIVE_BACK = """
if redis.call('EXISTS', KEYS[1]) == 1 and tonumber(ARGV[3]) == 1 then
  redis.call('INCRBY', KEYS[1], ARGV[2])
end
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then
  local left = redis.call('HINCRBY', KEYS[2], ARGV[1], -tonumber(ARGV[2]))
  if left <= 0 then redis.call('HDEL', KEYS[2], ARGV[1]) end
end
return 1
"""

# ARGV: force, stock, then user, bought pairs. Without force it only fills missing keys.
LOAD = """
if ARGV[1] ~= '1' and redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('DEL', KEYS[2])
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
redis.call('SET', KEYS[1], ARGV[2])
return 1
"""

ADMITTED, SOLD_OUT, OVER_LIMIT, MISSING = 1, 0, -1, -2


def enabled() -> bool:
    return bool(settings.REDIS_URL)


@lru_cache(maxsize=8)
def _client(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url)


@lru_cache(maxsize=8)
def _scripts(url: str) -> tuple[Any, Any, Any]:
    client = _client(url)
    return client.register_script(TAKE), client.register_script(GIVE_BACK), client.register_script(LOAD)


def client() -> Any:
    return _client(settings.REDIS_URL)


def keys(item_id: int) -> list[str]:
    prefix = mkt_setting("FLASH_REDIS_PREFIX")
    return [f"{prefix}:{item_id}:stock", f"{prefix}:{item_id}:buyers"]


def take(item_id: int, user_id: int, quantity: int, limit: int) -> int:
    script = _scripts(settings.REDIS_URL)[0]
    return int(script(keys=keys(item_id), args=[user_id, quantity, limit]))


def give_back(item_id: int, user_id: int, quantity: int, *, restock: bool = True) -> None:
    script = _scripts(settings.REDIS_URL)[1]
    script(keys=keys(item_id), args=[user_id, quantity, 1 if restock else 0])


def mark_sold_out(item_id: int) -> None:
    """The database said sold out: make the gate agree so later buyers stop at Redis."""
    client().set(keys(item_id)[0], 0, xx=True)


def load(item_id: int, stock_left: int, bought: Iterable[tuple[int, int]], *, force: bool) -> bool:
    script = _scripts(settings.REDIS_URL)[2]
    args: list[Any] = [1 if force else 0, stock_left]
    for user_id, n in bought:
        if n > 0:
            args.extend([user_id, n])
    return bool(script(keys=keys(item_id), args=args))


def read(item_id: int) -> tuple[int | None, dict[int, int]]:
    stock_key, buyers_key = keys(item_id)
    pipe = client().pipeline()
    pipe.get(stock_key)
    pipe.hgetall(buyers_key)
    stock, buyers = pipe.execute()
    return (None if stock is None else int(stock)), {int(k): int(v) for k, v in buyers.items()}


def peek(item_id: int) -> int | None:
    """Units the gate has left (None when it holds no count): one GET, no script."""
    value = client().get(keys(item_id)[0])
    return None if value is None else int(value)
