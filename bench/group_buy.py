"""Community group-buy benchmark: a batch of 20 products, 500 leaders, N orders (default 50,000).

Setup (not measured, with a progress bar) writes leaders with pickup points, buyers with funded
wallets (one ledger posting per 1,000 buyers), their API tokens and a batch straight into a fresh
PostgreSQL database, in bulk. Measured, in order:

1. orders placed through the API (``POST /api/v1/groupbuy/batches/{id}/orders`` then
   ``POST /api/v1/orders/{id}/pay`` with the wallet) by W worker processes, each with
   Django's in-process test client (no HTTP server): orders/s, SQL per order;
2. the cut-off job producing every pick list and the supplier summary: seconds and the
   number of SQL statements (set-based: the same for 10 orders or 50,000). The outbox is not
   delivered first: the cut-off itself counts orders paid before it whose ``order.paid`` is
   still on its way, as it must when the consumer lags (``--deliver-events`` delivers them
   first and times that too: every app's ``order.paid`` handlers, not group-buy's work);
3. deliveries received by all leaders (not timed closely), then every code verified by its
   leader through ``POST /api/v1/groupbuy/pickups/verify``: verifications/s and leader
   commission postings/s (each verification posts one ledger grant);
4. ``check-ledger`` over the whole book (commission postings are made in the verification's
   own transaction, so the book is complete without the outbox). Run::

    .venv/bin/python bench/group_buy.py --orders 50000 --workers 2
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/jishi_groupbuy_bench"
PRODUCTS, LEADERS = 20, 500
ORDERS_PER_BUYER = 4


def say(text: str) -> None:
    print(text, flush=True)


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("JISHI_DATA_DIR", tempfile.mkdtemp(prefix="jishi-bench-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "jishi.settings"
    os.environ.setdefault("JISHI_REQUEST_LOG_LEVEL", "ERROR")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = False  # events wait in the outbox; the benchmark delivers what it needs


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, parts.fragment))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def progress(done: int, total: int, label: str) -> None:
    width = 40
    filled = int(width * done / total) if total else width
    sys.stdout.write(f"\r  {label:<16} [{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,}")
    sys.stdout.flush()
    if done >= total:
        sys.stdout.write("\n")


CHUNK = 1000


def _fund_wallets(buyer_ids: list[int], amount: int) -> None:
    """One balanced posting per chunk of buyers: the top-up account pays every wallet in it."""
    from jishi.core import ledger
    from jishi.core.models import AccountKind

    topup = ledger.platform_account(AccountKind.PLATFORM_TOPUP)
    for start in range(0, len(buyer_ids), CHUNK):
        chunk = buyer_ids[start : start + CHUNK]
        wallets = ledger.user_accounts(chunk, AccountKind.WALLET)
        ledger.post(
            kind="wallet_topup",
            key=f"bench-fund:{start}",
            legs=[(topup, -amount * len(chunk)), *((wallets[uid], amount) for uid in chunk)],
        )
        progress(start + len(chunk), len(buyer_ids), "funding wallets")


def _tokens(users: list[Any], label: str) -> list[str]:
    """API tokens written in bulk (what ``issue_token`` writes, one INSERT per chunk)."""
    import hashlib
    import secrets
    from datetime import timedelta

    from django.utils import timezone

    from jishi.accounts.models import AuthToken

    expires = timezone.now() + timedelta(days=30)
    raws: list[str] = []
    for start in range(0, len(users), CHUNK):
        chunk = users[start : start + CHUNK]
        fresh = [secrets.token_urlsafe(32) for _u in chunk]
        AuthToken.objects.bulk_create(
            AuthToken(user=u, key_hash=hashlib.sha256(raw.encode()).hexdigest(), name="bench", expires_at=expires)
            for u, raw in zip(chunk, fresh, strict=True)
        )
        raws += fresh
        progress(start + len(chunk), len(users), label)
    return raws


def build(orders: int) -> dict[str, Any]:
    """Leaders, buyers with wallets and the batch, written in bulk: setup speed, not measured."""
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    from jishi.accounts.models import Role, User, UserRole
    from jishi.catalog.models import Category, Product, ProductStatus, Sku
    from jishi.groupbuy.models import Batch, BatchItem, Leader, LeaderStatus, PickupPoint, PointType

    call_command("migrate", verbosity=0)
    now = timezone.now()
    category = Category.objects.create(name="生鲜")
    products = Product.objects.bulk_create(
        Product(category=category, name=f"团品{i:02d}", status=ProductStatus.PUBLISHED, price=1000 + 100 * i)
        for i in range(PRODUCTS)
    )
    skus = Sku.objects.bulk_create(Sku(product=p, price=p.price, spec_key=f"s{p.pk}", is_active=True) for p in products)
    leader_users = User.objects.bulk_create(User(username=f"L{i}", phone=f"1350000{i:04d}") for i in range(LEADERS))
    UserRole.objects.bulk_create(UserRole(user=u, role=Role.LEADER) for u in leader_users)
    leaders = Leader.objects.bulk_create(
        Leader(
            user=u,
            name=f"团长{i}",
            phone=u.phone,
            id_number="330106199001011234",
            status=LeaderStatus.APPROVED,
            share_code=f"S{i:07d}",
        )
        for i, u in enumerate(leader_users)
    )
    PickupPoint.objects.bulk_create(
        PickupPoint(
            leader=le,
            name=f"自提点{i}",
            type=PointType.CONVENIENCE,
            address="杭州市",
            latitude=30.2 + (i % 25) * 0.004,
            longitude=120.1 + (i // 25) * 0.004,
            hours="08:00-21:00",
        )
        for i, le in enumerate(leaders)
    )
    progress(LEADERS, LEADERS, "leaders")
    buyers_n = -(-orders // ORDERS_PER_BUYER)
    buyers: list[Any] = []
    for start in range(0, buyers_n, CHUNK):
        buyers += User.objects.bulk_create(
            User(username=f"B{i}", phone=f"136{i:08d}") for i in range(start, min(buyers_n, start + CHUNK))
        )
        progress(len(buyers), buyers_n, "buyers")
    _fund_wallets([b.pk for b in buyers], 100_000)
    buyer_tokens = _tokens(buyers, "buyer tokens")
    leader_tokens = _tokens(leader_users, "leader tokens")
    batch = Batch.objects.create(
        name="压测团",
        sale_starts_at=now - timedelta(hours=1),
        cutoff_at=now + timedelta(hours=6),
        delivery_date=(now + timedelta(days=1)).date(),
        pickup_date=(now + timedelta(days=1)).date(),
    )
    BatchItem.objects.bulk_create(
        BatchItem(
            batch=batch,
            sku=s,
            group_price=s.price - 100,
            per_person_limit=ORDERS_PER_BUYER,
            stock_total=orders,
            stock_left=orders,
        )
        for s in skus
    )
    return {
        "batch_id": batch.pk,
        "skus": [s.pk for s in skus],
        "leaders": [le.pk for le in leaders],
        "buyer_tokens": buyer_tokens,
        "leader_tokens": {le.pk: tok for le, tok in zip(leaders, leader_tokens, strict=True)},
    }


def place_slice(
    database_url: str, plan: dict[str, Any], jobs: list[tuple[int, int]], worker: int, queue: mp.Queue
) -> None:  # type: ignore[type-arg]
    """Each job (buyer index, k): one order of two products for pickup at a leader, paid by wallet."""
    setup_django(database_url)
    from django.db import connection
    from django.test import Client

    client = Client()
    skus, leaders, tokens = plan["skus"], plan["leaders"], plan["buyer_tokens"]
    done = 0
    for buyer, k in jobs:
        headers = {"Authorization": f"Bearer {tokens[buyer]}"}
        body = {
            "lines": [
                {"sku_id": skus[(buyer + k) % PRODUCTS], "quantity": 1},
                {"sku_id": skus[(buyer + k + 7) % PRODUCTS], "quantity": 1},
            ],
            "leader_id": leaders[buyer % LEADERS],
        }
        placed = client.post(
            f"/api/v1/groupbuy/batches/{plan['batch_id']}/orders",
            body,
            content_type="application/json",
            headers=headers,
        )
        if placed.status_code != 201:
            raise SystemExit(f"order failed: {placed.status_code} {placed.content[:200]!r}")
        paid = client.post(
            f"/api/v1/orders/{placed.json()['order_id']}/pay",
            {"method": "wallet"},
            content_type="application/json",
            headers=headers,
        )
        if paid.status_code != 200:
            raise SystemExit(f"payment failed: {paid.status_code} {paid.content[:200]!r}")
        done += 1
        if done % 200 == 0:
            queue.put(("progress", worker, done))
    queue.put(("done", worker, done))
    connection.close()


def verify_slice(
    database_url: str, plan: dict[str, Any], codes: list[tuple[int, str]], worker: int, queue: mp.Queue
) -> None:  # type: ignore[type-arg]
    setup_django(database_url)
    from django.db import connection
    from django.test import Client

    client = Client()
    done = 0
    for leader_id, code in codes:
        response = client.post(
            "/api/v1/groupbuy/pickups/verify",
            {"code": code},
            content_type="application/json",
            headers={"Authorization": f"Bearer {plan['leader_tokens'][leader_id]}"},
        )
        if response.status_code != 200:
            raise SystemExit(f"verify failed: {response.status_code} {response.content[:200]!r}")
        done += 1
        if done % 200 == 0:
            queue.put(("progress", worker, done))
    queue.put(("done", worker, done))
    connection.close()


def run_parallel(target: Any, args_per_worker: list[tuple[Any, ...]], total: int, label: str) -> float:
    ctx = mp.get_context("spawn")
    queue: mp.Queue = ctx.Queue()  # type: ignore[type-arg]
    procs = [ctx.Process(target=target, args=(*a, i, queue)) for i, a in enumerate(args_per_worker)]
    t0 = time.monotonic()
    for p in procs:
        p.start()
    progress = dict.fromkeys(range(len(procs)), 0)
    finished, last = 0, 0.0
    while finished < len(procs):
        try:
            kind, worker, done = queue.get(timeout=5)
        except Exception:
            if any(p.exitcode not in (None, 0) for p in procs):
                raise SystemExit(f"a {label} worker failed") from None
            continue
        progress[worker] = done
        finished += kind == "done"
        now = time.monotonic()
        if now - last > 10:
            say(f"  {label}: {sum(progress.values())}/{total}, {sum(progress.values()) / (now - t0):.0f}/s")
            last = now
    for p in procs:
        p.join()
        if p.exitcode != 0:
            raise SystemExit(f"a {label} worker failed")
    return time.monotonic() - t0


def sql_for(func: Any) -> tuple[int, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        result = func()
    return len(queries), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=50_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--deliver-events", action="store_true", help="deliver the outbox (every app's handlers) before the cut-off"
    )
    parser.add_argument("--database-url", default=os.environ.get("JISHI_BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    args = parser.parse_args()
    if not args.database_url.startswith("postgres"):
        sys.exit("this benchmark runs on PostgreSQL")
    say("load average at start:        {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    recreate_database(args.database_url)
    setup_django(args.database_url)
    started = time.monotonic()
    plan = build(args.orders)
    buyers_n = len(plan["buyer_tokens"])
    say(f"setup: {PRODUCTS} products, {LEADERS} leaders, {buyers_n} buyers in {time.monotonic() - started:.1f}s")
    from django.db import connection

    jobs = [(n // ORDERS_PER_BUYER, n % ORDERS_PER_BUYER) for n in range(args.orders)]
    connection.close()
    w = args.workers
    place_s = run_parallel(
        place_slice, [(args.database_url, plan, jobs[i::w]) for i in range(w)], args.orders, "orders"
    )

    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from jishi.commission.models import Commission, CommissionSource
    from jishi.core.events import deliver_pending
    from jishi.core.ledger import check_ledger
    from jishi.core.models import OutboxEvent
    from jishi.groupbuy import batches, pickup
    from jishi.groupbuy.models import Batch, PickListLine, PickupOrder, SupplyLine
    from jishi.orders.models import Order

    # SQL of one more order through the API (place + pay), counted in this process.
    client = Client()
    token = plan["buyer_tokens"][-1]
    headers = {"Authorization": f"Bearer {token}"}
    with CaptureQueriesContext(connection) as place_q:
        placed = client.post(
            f"/api/v1/groupbuy/batches/{plan['batch_id']}/orders",
            {"lines": [{"sku_id": plan["skus"][3], "quantity": 1}], "leader_id": plan["leaders"][0]},
            content_type="application/json",
            headers=headers,
        )
    with CaptureQueriesContext(connection) as pay_q:
        client.post(
            f"/api/v1/orders/{placed.json()['order_id']}/pay",
            {"method": "wallet"},
            content_type="application/json",
            headers=headers,
        )
    rate = args.orders / place_s
    say(f"orders placed + paid via API: {args.orders} in {place_s:.1f}s = {rate:.1f} orders/s ({w} workers)")
    say(f"SQL per order:                place {len(place_q)} + pay {len(pay_q)} statements")
    delivered, events_s = 0, 0.0
    if args.deliver_events:
        t_events = time.monotonic()
        while n := deliver_pending(2000):
            delivered += n
        events_s = time.monotonic() - t_events

    batch_id = plan["batch_id"]
    from django.utils import timezone

    Batch.objects.filter(pk=batch_id).update(cutoff_at=timezone.now())
    t0 = time.monotonic()
    cut_sql, moved = sql_for(lambda: batches.cut_off(batch_id))
    cut_s = time.monotonic() - t0
    assert moved
    pick_rows, supply_rows = PickListLine.objects.filter(batch_id=batch_id).count(), SupplyLine.objects.count()
    if args.deliver_events:
        say(f"outbox events delivered:      {delivered} in {events_s:.1f}s")
    say(f"cut-off job:                  {cut_s:.2f}s, {cut_sql} SQL statements")
    say(f"pick lists / supplier summary: {pick_rows} pick-list rows, {supply_rows} supplier rows")
    batches.start_purchasing(None, batch_id)
    batches.start_delivering(None, batch_id)
    t0 = time.monotonic()
    for leader_id in plan["leaders"]:
        pickup.receive_delivery(None, batch_id, leader_id)
    receive_s = time.monotonic() - t0
    say(f"deliveries received:          {LEADERS} leaders in {receive_s:.1f}s")
    codes = list(PickupOrder.objects.filter(batch_id=batch_id).order_by("id").values_list("leader_id", "code"))
    counted_leader, counted_code = codes.pop()  # verified below in this process, its SQL counted
    connection.close()
    verify_s = run_parallel(
        verify_slice, [(args.database_url, plan, codes[i::w]) for i in range(w)], len(codes), "verifications"
    )
    say(f"verifications via API:        {len(codes)} in {verify_s:.1f}s = {len(codes) / verify_s:.1f}/s ({w} workers)")
    with CaptureQueriesContext(connection) as verify_q:
        checked = client.post(
            "/api/v1/groupbuy/pickups/verify",
            {"code": counted_code},
            content_type="application/json",
            headers={"Authorization": f"Bearer {plan['leader_tokens'][counted_leader]}"},
        )
    assert checked.status_code == 200, checked.content
    say(f"SQL per verification:         {len(verify_q)} statements")
    codes.append((counted_leader, counted_code))
    grants = Commission.objects.filter(source=CommissionSource.LEADER).values("order_id").distinct().count()
    fen = sum(Commission.objects.filter(source=CommissionSource.LEADER).values_list("amount", flat=True))
    pending = OutboxEvent.objects.filter(dispatched_at__isnull=True).count()
    problems = check_ledger()
    completed = Order.objects.filter(status="completed").count()

    say(f"leader commission postings:   {grants} = {grants / verify_s:.1f}/s, {fen} fen")
    say(f"orders completed:             {completed}")
    say(f"outbox left to the consumer:  {pending} events (loyalty, notices, …: not in these figures)")
    say(f"ledger check:                 {'ok' if not problems else f'{len(problems)} problems: {problems[:3]}'}")
    say("load average (1/5/15 min):    {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    if problems or completed != len(codes):
        sys.exit(1)


if __name__ == "__main__":
    main()
