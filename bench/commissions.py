"""Commission settlement benchmark: grant distribution commissions for N paid orders.

Setup (not measured) writes N paid orders straight into a fresh PostgreSQL database: buyers
bound under a three-level promoter tree, two lines per order, and one ``order.paid`` outbox
event each. The measured part is the real path a worker runs for every event: the
distribution handler computes each level's share of each line and the commission service
posts them to the ledger and records them, one transaction per order. W worker processes
split the events. Printed: orders/s, commissions and fen granted, SQL statements per order,
and a whole-book ledger check. Run::

    .venv/bin/python bench/commissions.py --orders 100000 --workers 2
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/jishi_bench_commissions"


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


def build(orders: int) -> None:
    """Write the paid orders and their events directly: setup speed, not what is measured."""
    from django.core.management import call_command
    from django.utils import timezone

    from jishi.accounts.models import User
    from jishi.core.models import OutboxEvent
    from jishi.distribution import services
    from jishi.distribution.models import Binding, Promoter, PromoterStatus
    from jishi.orders.models import Order, OrderLine, OrderStatus

    call_command("migrate", verbosity=0)
    services.update_settings(None, {"levels": 3, "rates_bp": [1000, 500, 200]})
    now = timezone.now()
    tops = [User(username=f"t{i}", phone=f"1300000{i:04d}") for i in range(10)]
    mids = [User(username=f"m{i}", phone=f"1310000{i:04d}") for i in range(100)]
    leads = [User(username=f"l{i}", phone=f"1320000{i:04d}") for i in range(1000)]
    buyers = [User(username=f"b{i}", phone=f"133{i:08d}") for i in range(5000)]
    User.objects.bulk_create(tops + mids + leads + buyers, batch_size=2000)
    promoters = [
        Promoter(user=u, code=f"C{u.pk:07d}", status=PromoterStatus.ACTIVE, approved_at=now)
        for u in tops + mids + leads
    ]
    Promoter.objects.bulk_create(promoters, batch_size=2000)
    bindings = [Binding(buyer=m, promoter=tops[i % 10], bound_at=now) for i, m in enumerate(mids)]
    bindings += [Binding(buyer=lead, promoter=mids[i % 100], bound_at=now) for i, lead in enumerate(leads)]
    bindings += [Binding(buyer=b, promoter=leads[i % 1000], bound_at=now) for i, b in enumerate(buyers)]
    Binding.objects.bulk_create(bindings, batch_size=5000)
    say(f"setup: 1110 promoters, {len(buyers)} buyers bound under them")
    batch = 5000
    for start in range(0, orders, batch):
        rows = [
            Order(
                number=f"B{n:017d}",
                user=buyers[n % len(buyers)],
                status=OrderStatus.PAID,
                goods_amount=29900,
                payable=30900,
                paid_amount=30900,
                shipping_fee=1000,
                paid_at=now,
            )
            for n in range(start, min(start + batch, orders))
        ]
        Order.objects.bulk_create(rows)
        lines = []
        for order in rows:
            lines.append(
                OrderLine(
                    order=order,
                    product_id=1,
                    product_name="龙井",
                    unit_price=19900,
                    quantity=1,
                    line_total=19900,
                    paid_amount=19900,
                )
            )
            lines.append(
                OrderLine(
                    order=order,
                    product_id=2,
                    product_name="茶具",
                    unit_price=5000,
                    quantity=2,
                    line_total=10000,
                    paid_amount=10000,
                )
            )
        OrderLine.objects.bulk_create(lines)
        by_order: dict[int, list[OrderLine]] = {}
        for ln in lines:
            by_order.setdefault(ln.order_id, []).append(ln)
        events = []
        for order in rows:
            own = by_order[order.pk]
            events.append(
                OutboxEvent(
                    name="order.paid",
                    payload={
                        "order_id": order.pk,
                        "number": order.number,
                        "user_id": order.user_id,
                        "paid_amount": 30900,
                        "shipping_fee": 1000,
                        "meta": {},
                        "lines": [
                            {
                                "line_id": ln.pk,
                                "sku_id": None,
                                "product_id": ln.product_id,
                                "category_id": None,
                                "quantity": ln.quantity,
                                "paid_amount": ln.paid_amount,
                                "meta": {},
                            }
                            for ln in own
                        ],
                    },
                )
            )
        OutboxEvent.objects.bulk_create(events)
        say(f"setup: {min(start + batch, orders)}/{orders} paid orders written")


def settle_slice(database_url: str, worker: int, workers: int, queue: mp.Queue) -> None:  # type: ignore[type-arg]
    setup_django(database_url)
    from django.db import connection, transaction

    from jishi.core.models import HandlerRun, OutboxEvent
    from jishi.distribution import services

    handler = "jishi.distribution.handlers.grant_commissions"
    ids = list(OutboxEvent.objects.filter(name="order.paid").order_by("id").values_list("id", flat=True))
    mine = ids[worker::workers]
    done = 0
    for chunk_start in range(0, len(mine), 500):
        chunk = mine[chunk_start : chunk_start + 500]
        for event in OutboxEvent.objects.filter(pk__in=chunk).order_by("id"):
            with transaction.atomic():  # what the consumer does for one (event, handler)
                HandlerRun.objects.create(event=event, handler=handler)
                services.settle_paid_order(event.payload)
            done += 1
        queue.put(("progress", worker, done))
    queue.put(("done", worker, done))
    connection.close()


def count_queries_for_one(database_url: str) -> int:
    setup_django(database_url)
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from jishi.core.models import OutboxEvent
    from jishi.distribution import services

    event = OutboxEvent.objects.filter(name="order.paid").order_by("-id").first()
    assert event is not None
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        services.settle_paid_order({**event.payload, "order_id": event.payload["order_id"] + 10**9})
        transaction.set_rollback(True)
    return len(queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", default=os.environ.get("JISHI_BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    args = parser.parse_args()
    if not args.database_url.startswith("postgres"):
        sys.exit("this benchmark runs on PostgreSQL")
    recreate_database(args.database_url)
    setup_django(args.database_url)
    started = time.monotonic()
    build(args.orders)
    say(f"setup done in {time.monotonic() - started:.1f}s; settling with {args.workers} worker process(es)")
    from django.db import connection

    connection.close()
    ctx = mp.get_context("spawn")
    queue: mp.Queue = ctx.Queue()  # type: ignore[type-arg]
    procs = [
        ctx.Process(target=settle_slice, args=(args.database_url, w, args.workers, queue)) for w in range(args.workers)
    ]
    t0 = time.monotonic()
    for p in procs:
        p.start()
    progress = dict.fromkeys(range(args.workers), 0)
    finished = 0
    last = 0.0
    while finished < args.workers:
        kind, worker, done = queue.get()
        progress[worker] = done
        finished += kind == "done"
        now = time.monotonic()
        if now - last > 5 or finished == args.workers:
            total = sum(progress.values())
            say(f"  {total}/{args.orders} orders settled, {total / (now - t0):.0f} orders/s")
            last = now
    for p in procs:
        p.join()
    elapsed = time.monotonic() - t0

    from django.db.models import Count, Sum

    from jishi.commission.models import Commission
    from jishi.core.ledger import check_ledger

    agg = Commission.objects.aggregate(n=Count("id"), fen=Sum("amount"))
    problems = check_ledger()
    per_order = count_queries_for_one(args.database_url)
    expected_per_order = 2990 + 1495 + 598  # 10%/5%/2% of ¥299.00 over two lines, three levels
    say("")
    say(f"orders settled:        {args.orders}")
    say(f"elapsed:               {elapsed:.1f} s")
    say(f"throughput:            {args.orders / elapsed:.0f} orders/s ({args.workers} workers)")
    say(f"commissions created:   {agg['n']} ({agg['n'] / args.orders:.1f} per order)")
    say(f"commission granted:    {agg['fen']} fen (expected {expected_per_order * args.orders})")
    say(f"SQL per order:         {per_order} statements")
    say(f"ledger check:          {'ok' if not problems else f'{len(problems)} problems'}")
    if problems or agg["fen"] != expected_per_order * args.orders:
        sys.exit(1)


if __name__ == "__main__":
    main()
