"""Flash-sale benchmark: thousands of buyers fire at one flash SKU with 100 units, under gunicorn.

One run, against PostgreSQL (and Redis with ``--redis``):

1. Creates the database in ``--database-url`` afresh (default ``.../h_mkt_bench``), migrates,
   and pre-creates N buyers (default 5,000) with an address and an API token each, a SKU and a
   live flash item with ``--stock`` units (default 100).
2. Starts gunicorn (``-k gthread``) and waits for ``/readyz``.
3. Measures ``GET /healthz`` requests/s with the same client and concurrency (the baseline).
4. Fires: every buyer sends ``POST /api/v1/flash-sales/{item}/orders`` once, C connections at a
   time (keep-alive, a small asyncio HTTP/1.1 client so the load generator is not the limit).
5. Prints attempts/s, p50/p99 latency, status codes, orders created (must be exactly the
   stock), the healthz rps and the ratio. Target: attempts/s ≥ 50 % of healthz rps.

    .venv/bin/python bench/flash_sale.py            # database gate
    .venv/bin/python bench/flash_sale.py --redis    # Redis gate (REDIS_URL, default redis://127.0.0.1:6379/14)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

from loadclient import fire_all, gunicorn, pct, recreate_database, say, server_env

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/h_mkt_bench"
TARGET_RATIO = 0.5


# --- setup through Django (in this process) -------------------------------------------------


def build_shop(buyers: int, stock: int) -> tuple[int, list[str]]:
    import django

    django.setup()
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from jishi.accounts.models import Address, AuthToken, Role, User, UserRole
    from jishi.accounts.services import _hash
    from jishi.catalog.models import Category, Product, ProductStatus, Sku
    from jishi.inventory import services as inventory
    from jishi.marketing.models import FlashItem, FlashSession

    category = Category.objects.create(name="秒杀")
    product = Product.objects.create(category=category, name="秒杀爆款", status=ProductStatus.PUBLISHED, price=9900)
    sku = Sku.objects.create(product=product, price=9900, spec_key="default")
    inventory.set_on_hand(sku.pk, 10_000)
    now = timezone.now()
    session = FlashSession.objects.create(
        name="bench", starts_at=now - timedelta(minutes=1), ends_at=now + timedelta(hours=2)
    )
    item = FlashItem.objects.create(session=session, sku=sku, flash_price=990, total_stock=stock, stock_left=stock)

    users = User.objects.bulk_create(
        User(username=f"1700000{i:04d}", phone=f"1700000{i:04d}", nickname=f"抢购者{i}", password="!")
        for i in range(buyers)
    )
    UserRole.objects.bulk_create(UserRole(user=u, role=Role.BUYER) for u in users)
    Address.objects.bulk_create(
        Address(
            user=u,
            contact="抢购者",
            phone=u.phone,
            province="浙江省",
            city="杭州市",
            district="西湖区",
            detail="1 号",
            is_default=True,
        )
        for u in users
    )
    tokens = [uuid.uuid4().hex + uuid.uuid4().hex for _ in users]
    expires = now + timedelta(days=1)
    AuthToken.objects.bulk_create(
        AuthToken(user=u, key_hash=_hash(t), name="bench", expires_at=expires)
        for u, t in zip(users, tokens, strict=True)
    )
    return item.pk, tokens


def count_orders(item_id: int) -> tuple[int, int, int]:
    from jishi.marketing.models import FlashItem, FlashPurchase
    from jishi.orders.models import Order

    orders = Order.objects.filter(meta__campaign__kind="flash", meta__campaign__id=item_id).count()
    return orders, FlashPurchase.objects.filter(item_id=item_id).count(), FlashItem.objects.get(pk=item_id).stock_left


# --- main --------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis", action="store_true", help="use the Redis stock gate")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/14")
    parser.add_argument("--buyers", type=int, default=5000)
    parser.add_argument("--stock", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()

    data_dir = tempfile.mkdtemp(prefix="jishi-flash-bench-")
    prefix = f"bench:{uuid.uuid4().hex[:8]}"
    extra = {"JISHI_MKT_FLASH_REDIS_PREFIX": prefix}
    if args.redis:
        extra["REDIS_URL"] = args.redis_url
    env = server_env(args.database_url, data_dir, **extra)
    os.environ.update(env)
    if not args.redis:
        os.environ.pop("REDIS_URL", None)
    sys.path.insert(0, str(ROOT))

    say(f"== flash-sale bench: {args.buyers} buyers, {args.stock} units, gate={'redis' if args.redis else 'database'}")
    recreate_database(args.database_url)
    t0 = time.perf_counter()
    item_id, tokens = build_shop(args.buyers, args.stock)
    say(f"setup: database, {len(tokens)} buyers with tokens and addresses in {time.perf_counter() - t0:.1f}s")

    from django.db import connections

    connections.close_all()
    with gunicorn(env, data_dir, args.workers, args.threads) as port:
        # warm every worker: imports, connections, the item cache
        warm = [("GET", "/readyz", {}, b"")] * 200 + [("GET", "/api/v1/flash-sales/current", {}, b"")] * 50
        fire_all(port, warm, args.concurrency)

        health = [("GET", "/healthz", {}, b"")] * args.buyers
        h_elapsed, h_lat, h_status, _ = fire_all(port, health, args.concurrency)
        healthz_rps = len(health) / h_elapsed

        body = json.dumps({"quantity": 1}).encode()
        path = f"/api/v1/flash-sales/{item_id}/orders"
        attempts = [
            ("POST", path, {"Authorization": f"Bearer {t}", "Content-Type": "application/json"}, body) for t in tokens
        ]
        f_elapsed, f_lat, f_status, _ = fire_all(port, attempts, args.concurrency)
        attempts_rps = len(attempts) / f_elapsed

        health_after = fire_all(port, health, args.concurrency)
        healthz_rps_after = len(health) / health_after.seconds

    orders, purchases, stock_left = count_orders(item_id)
    baseline = max(healthz_rps, healthz_rps_after)
    ratio = attempts_rps / baseline
    say(
        f"healthz:   {healthz_rps:8.0f} req/s before, {healthz_rps_after:.0f} after"
        f"   p50 {pct(h_lat, 0.5):.1f} ms  p99 {pct(h_lat, 0.99):.1f} ms  {dict(h_status)}"
    )
    say(
        f"attempts:  {attempts_rps:8.0f} /s   p50 {pct(f_lat, 0.5):.1f} ms  p99 {pct(f_lat, 0.99):.1f} ms"
        f"  max {max(f_lat) * 1000:.0f} ms"
    )
    say(f"statuses:  {dict(sorted(f_status.items()))}")
    say(f"orders created: {orders} (purchases {purchases}, flash stock left {stock_left})")
    ok_orders = orders == args.stock == purchases and stock_left == 0 and f_status.get(201, 0) == args.stock
    ok_errors = not any(s >= 500 for s in f_status)
    ok_ratio = ratio >= TARGET_RATIO
    say(f"{'PASS' if ok_orders else 'FAIL'} exactly {args.stock} orders")
    say(f"{'PASS' if ok_errors else 'FAIL'} no 5xx")
    say(f"{'PASS' if ok_ratio else 'FAIL'} attempts/s = {ratio:.0%} of healthz rps (target ≥ {TARGET_RATIO:.0%})")
    if args.redis:
        import redis

        client = redis.Redis.from_url(args.redis_url)
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)
    return 0 if ok_orders and ok_errors and ok_ratio else 1


if __name__ == "__main__":
    sys.exit(main())
