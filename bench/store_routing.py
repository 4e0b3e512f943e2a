"""Store routing benchmark: "which stores deliver here, nearest first", and POS checkout.

Setup (not measured) recreates a PostgreSQL database and writes S stores (default 2,000) in
20 cities, each with a 3–8 km area and a tiered fee, and A address points (default 100,000)
scattered around the same cities. Measured:

- ``routing.deliverable(lat, lng)`` for every address: p50/p95/p99 and SQL statements per call;
- a POS sale of a 10-line basket (barcodes, cash) through the whole checkout pipeline:
  p50/p95 and SQL statements per sale.

Run::

    .venv/bin/python bench/store_routing.py --stores 2000 --addresses 100000 --lookups 100000 --sales 200
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/jishi_retail_bench"

# (lat, lng) of 20 Chinese city centres
CITIES = [
    (39.9042, 116.4074),
    (31.2304, 121.4737),
    (23.1291, 113.2644),
    (22.5431, 114.0579),
    (30.2741, 120.1551),
    (32.0603, 118.7969),
    (30.5728, 104.0668),
    (29.5630, 106.5516),
    (30.5928, 114.3055),
    (34.3416, 108.9398),
    (36.0671, 120.3826),
    (38.0428, 114.5149),
    (41.8057, 123.4315),
    (45.8038, 126.5350),
    (26.0745, 119.2965),
    (24.4798, 118.0894),
    (28.2282, 112.9388),
    (34.7466, 113.6253),
    (25.0389, 102.7183),
    (36.6512, 117.1201),
]


def say(text: str) -> None:
    print(text, flush=True)


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("JISHI_DATA_DIR", tempfile.mkdtemp(prefix="jishi-bench-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "jishi.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, parts.fragment))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def scatter(rng: random.Random, spread_m: float) -> tuple[float, float]:
    from jishi.core import geo

    lat, lng = rng.choice(CITIES)
    return geo.destination(lat, lng, rng.uniform(0, 360), spread_m * rng.random() ** 0.5)


def build_stores(count: int, rng: random.Random) -> None:
    from django.db import connection

    from jishi.inventory.models import Location, LocationKind
    from jishi.retail.models import Store

    locations = Location.objects.bulk_create(
        Location(code=f"B{i:06d}", name=f"门店{i}", kind=LocationKind.STORE) for i in range(count)
    )
    rows = []
    for i, location in enumerate(locations):
        lat, lng = scatter(rng, 25_000)
        radius = rng.choice((3000, 3000, 5000, 8000))
        rows.append(
            Store(
                location=location,
                name=f"门店{i}",
                address=f"{i} 号",
                latitude=lat,
                longitude=lng,
                delivery_radius_m=radius,
                reach_m=radius,
                fee_tiers=[{"up_to_m": 3000, "fee": 500}],
                fee_per_km_beyond=100,
                fee_cap=2000,
            )
        )
    Store.objects.bulk_create(rows, batch_size=1000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


class StatementCounter:
    """Counts every SQL statement run (``CaptureQueriesContext`` keeps only the last 9,000)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def bench_routing(addresses: int, lookups: int, rng: random.Random) -> None:
    from django.db import connection

    from jishi.retail import routing

    points = [scatter(rng, 30_000) for _ in range(addresses)]
    for lat, lng in points[:200]:  # warm the connection and plan cache
        routing.deliverable(lat, lng)
    sample = rng.sample(points, min(lookups, len(points)))
    times, cpu, found = [], [], 0
    counter = StatementCounter()
    with connection.execute_wrapper(counter):
        for lat, lng in sample:
            start, start_cpu = time.perf_counter(), time.thread_time()
            found += len(routing.deliverable(lat, lng))
            times.append((time.perf_counter() - start) * 1000)
            cpu.append((time.thread_time() - start_cpu) * 1000)
    say(f"deliverable stores: {len(sample):,} lookups over {len(points):,} addresses")
    say(
        f"  p50 {percentile(times, 0.50):.2f} ms   p95 {percentile(times, 0.95):.2f} ms   "
        f"p99 {percentile(times, 0.99):.2f} ms   mean {statistics.fmean(times):.2f} ms"
    )
    say(f"  SQL statements per lookup: {counter.count / len(sample):.2f}")
    say(
        f"  this process's CPU per lookup (no waiting, no database time): p50 {percentile(cpu, 0.50):.2f} ms   "
        f"p95 {percentile(cpu, 0.95):.2f} ms"
    )
    say(f"  stores found per address: {found / len(sample):.2f}   lookups/s: {len(sample) / (sum(times) / 1000):,.0f}")


def bench_pos(sales: int) -> None:
    from django.db import connection

    from jishi.accounts.models import User
    from jishi.catalog.models import Category, Product, ProductStatus, Sku
    from jishi.inventory import services as inventory
    from jishi.retail import pos, stores
    from jishi.retail.models import Store

    store = Store.objects.order_by("id").first()
    assert store is not None
    clerk = User.objects.create(username="bench-clerk")
    stores.add_staff(None, store, clerk)
    category = Category.objects.create(name="基准")
    skus = []
    for i in range(10):
        product = Product.objects.create(
            category=category, name=f"基准商品{i}", status=ProductStatus.PUBLISHED, price=990 + i
        )
        sku = Sku.objects.create(product=product, price=990 + i, spec_key=f"b{i}", barcode=f"69{i:011d}")
        inventory.set_on_hand(sku.pk, sales * 2 + 10, location=store.location)
        skus.append(sku)
    members = [User.objects.create(username=f"bench-m{i}", phone=f"1770000{i:04d}") for i in range(sales)]
    basket = [pos.BasketLine(quantity=1 + i % 2, barcode=s.barcode or "") for i, s in enumerate(skus)]
    pos.ring_up(clerk, store.pk, members[0], basket, tender="cash")  # warm up
    times, cpu = [], []
    counter = StatementCounter()
    with connection.execute_wrapper(counter):
        for member in members[1:]:
            start, start_cpu = time.perf_counter(), time.thread_time()
            pos.ring_up(clerk, store.pk, member, basket, tender="cash")
            times.append((time.perf_counter() - start) * 1000)
            cpu.append((time.thread_time() - start_cpu) * 1000)
    say(f"POS checkout, 10-line basket, cash: {len(times)} sales")
    say(
        f"  p50 {percentile(times, 0.50):.1f} ms   p95 {percentile(times, 0.95):.1f} ms   "
        f"SQL statements per sale: {counter.count / len(times):.1f}"
    )
    say(f"  this process's CPU per sale (no waiting, no database time): p50 {percentile(cpu, 0.50):.1f} ms")


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} cores"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--stores", type=int, default=2000)
    parser.add_argument("--addresses", type=int, default=100_000)
    parser.add_argument("--lookups", type=int, default=100_000, help="addresses looked up (a random sample)")
    parser.add_argument("--sales", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    recreate_database(args.database_url)
    setup_django(args.database_url)
    from django.conf import settings
    from django.core.management import call_command

    settings.DEBUG = False
    call_command("migrate", verbosity=0)
    say(load_average())
    rng = random.Random(args.seed)
    start = time.perf_counter()
    build_stores(args.stores, rng)
    say(f"setup: {args.stores:,} stores in {len(CITIES)} cities ({time.perf_counter() - start:.1f} s)")
    if args.lookups:
        bench_routing(args.addresses, args.lookups, rng)
    if args.sales > 1:
        bench_pos(args.sales)
    say(load_average())


if __name__ == "__main__":
    main()
