"""Rebate order sync benchmark: N report rows across Taobao, Pinduoduo and JD through the local
fakes into PostgreSQL, then the same rows replayed out of order.

Setup (not measured): a fresh database, 3,000 buyers with a tracked link on each network (one in
five bound to a promoter), and the three fakes (threaded HTTP servers on free ports, real signing
and paging) loaded with N rows: 80% orders reported paid, the rest later reports of some of those
orders (settled, or refunded).

Measured:
1. sync: each source's job from its watermark, paid reports in one stretch of hours and the later
   reports in the next, as after a day of downtime: rows/s synced and credited, SQL statements per
   page (everything the job sends: the upserts, ledger postings, commission rows, watermarks).
2. replay: all N rows (paid and later versions mixed) in random order through the feed importer:
   nothing may change (orders, ledger transactions and balances compared before and after); the
   stale reports are listed as anomalies. Then ``check-ledger`` (the whole book, the rebate check
   among its domain checks).

Run::

    .venv/bin/python bench/rebate_sync.py --rows 100000
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/jishi_rebate_bench"
BUYERS = 3000
NETWORKS = ("taobao", "pdd", "jd")


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


def build_people() -> dict[str, list[str]]:
    from django.core.management import call_command
    from django.utils import timezone

    from jishi.accounts.models import User
    from jishi.distribution.models import Binding, Promoter, PromoterStatus
    from jishi.rebate.links import tracking_id_for
    from jishi.rebate.models import TrackedLink

    call_command("migrate", verbosity=0)
    now = timezone.now()
    promoters = [User(username=f"p{i}", phone=f"1390000{i:04d}") for i in range(100)]
    buyers = [User(username=f"b{i}", phone=f"138{i:08d}") for i in range(BUYERS)]
    User.objects.bulk_create(promoters + buyers, batch_size=2000)
    Promoter.objects.bulk_create(
        [Promoter(user=u, code=f"P{u.pk:07d}", status=PromoterStatus.ACTIVE, approved_at=now) for u in promoters]
    )
    Binding.objects.bulk_create(
        [Binding(buyer=b, promoter=promoters[i % 100], bound_at=now) for i, b in enumerate(buyers) if i % 5 == 0]
    )
    links = [
        TrackedLink(user=b, network=n, tracking_id=tracking_id_for(b.pk, n), share_code=f"{n[0]}{b.pk:010d}")
        for b in buyers
        for n in NETWORKS
    ]
    TrackedLink.objects.bulk_create(links, batch_size=5000)
    return {n: [tracking_id_for(b.pk, n) for b in buyers] for n in NETWORKS}


def later_version(network: str, row: dict[str, Any], refund: bool) -> dict[str, Any]:
    if network == "taobao":
        return (
            {**row, "tk_status": 13, "refund_tag": 1}
            if refund
            else {**row, "tk_status": 3, "pub_share_fee": row["pub_share_pre_fee"]}
        )
    if network == "pdd":
        return {**row, "order_status": 4} if refund else {**row, "order_status": 5, "order_settle_time": 1_795_600_000}
    if refund:
        return {**row, "validCode": 3}
    return {
        **row,
        "validCode": 17,
        "payMonth": 20261120,
        "actualFee": row["estimateFee"],
        "finishTime": "2026-11-25 10:00:00",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url", default=os.environ.get("JISHI_BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    args = parser.parse_args()
    if not args.database_url.startswith("postgres"):
        raise SystemExit("PostgreSQL only (set --database-url)")
    recreate_database(args.database_url)
    setup_django(args.database_url)

    from django.db import connection
    from django.db.models import Sum
    from django.utils import timezone

    from jishi.core.ledger import check_ledger
    from jishi.core.models import Account, Entry, Transaction
    from jishi.rebate import feeds, sources, sync
    from jishi.rebate.fakes import FAKES, PAID_CODE, ROW_MAKERS
    from jishi.rebate.models import NetworkOrder, OrderAnomaly, RebateSource

    say(f"setup: {args.rows} report rows, {BUYERS} buyers × 3 networks")
    trackers = build_people()
    rng = random.Random(16)
    now = timezone.now()
    paid_from, later_from = now - timedelta(hours=30), now - timedelta(hours=8)
    fakes = {n: FAKES[n]().start() for n in NETWORKS}
    history: list[tuple[str, dict[str, Any]]] = []  # every report row served, for the replay
    per_network = args.rows // 3
    for index, network in enumerate(NETWORKS):
        rows = per_network + (args.rows - 3 * per_network if index == 0 else 0)
        paid_count = rows * 4 // 5
        fake = fakes[network]
        paid_rows = []
        for i in range(paid_count):
            row = ROW_MAKERS[network](i, trackers[network][i % BUYERS], PAID_CODE[network], fee=rng.randint(50, 5000))
            moment = paid_from + timedelta(seconds=int(20 * 3600 * i / paid_count))
            paid_rows.append(dict(fake.put(row, moment)))
        history.extend((network, r) for r in paid_rows)
        fake_later = []
        for j, i in enumerate(rng.sample(range(paid_count), rows - paid_count)):
            fake_later.append(later_version(network, paid_rows[i], refund=j % 4 == 0))
        fake.later = fake_later  # type: ignore[attr-defined]
    srcs = {
        n: sources.create_source(
            None, {"network": n, "name": n, "app_key": f.app_key, "secret": f.secret, "endpoint": f.url}
        )
        for n, f in fakes.items()
    }
    RebateSource.objects.update(synced_until=paid_from - timedelta(minutes=1))

    statements = 0

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        nonlocal statements
        statements += 1
        return execute(sql, params, many, context)

    say("sync: paid reports (20 h of them), then the later reports (after 8 h of downtime)")
    pages = rows_synced = 0
    started = time.perf_counter()
    with connection.execute_wrapper(count):
        for network in NETWORKS:
            run = sync.sync_source(srcs[network].pk, now=later_from)
            assert run.error == "", run.error
            pages, rows_synced = pages + run.pages, rows_synced + run.rows
        for network in NETWORKS:
            fake = fakes[network]
            for k, row in enumerate(fake.later):  # type: ignore[attr-defined]
                fake.put(row, later_from + timedelta(seconds=int(6 * 3600 * k / max(1, len(fake.later)))))
                history.append((network, dict(fake.rows[tuple(str(row[f]) for f in fake.key_fields)])))
            run = sync.sync_source(srcs[network].pk, now=now)
            assert run.error == "", run.error
            pages, rows_synced = pages + run.pages, rows_synced + run.rows
    elapsed = time.perf_counter() - started
    credited = int(
        Entry.objects.filter(account__kind="commission_frozen", amount__gt=0).aggregate(s=Sum("amount"))["s"] or 0
    )
    orders = NetworkOrder.objects.count()
    say(
        f"  {rows_synced} rows in {pages} pages, {elapsed:.1f} s: "
        f"{rows_synced / elapsed:,.0f} rows/s synced and credited"
    )
    say(f"  {orders} orders, ¥{credited / 100:,.2f} credited to buyers and promoters")
    say(f"  SQL statements per page: {statements / max(pages, 1):.0f} ({statements / max(rows_synced, 1):.1f} per row)")
    say(f"  statuses: {dict(Counter(NetworkOrder.objects.values_list('status', flat=True)))}")
    calls = {n: f.calls for n, f in fakes.items()}
    say(f"  network calls: {calls}; refused: {[f.refused for f in fakes.values()]}")

    def snapshot() -> tuple[Any, ...]:
        state = list(
            NetworkOrder.objects.order_by("pk").values_list(
                "status", "credit", "buyer_share", "promoter_share", "reversed_amount", "commission_actual"
            )
        )
        balances = list(Account.objects.order_by("pk").values_list("key", "balance"))
        return (state, balances, Transaction.objects.count(), Entry.objects.count())

    before = snapshot()
    say(f"replay: all {len(history)} report rows again, shuffled, through the feed importer")
    rng.shuffle(history)
    started = time.perf_counter()
    replayed = 0
    for network in NETWORKS:
        rows = [r for n, r in history if n == network]
        report = feeds.import_orders(network, rows)
        assert report.failed == 0, report.errors[:3]
        replayed += report.total
    replay_elapsed = time.perf_counter() - started
    after = snapshot()
    say(f"  {replayed} rows in {replay_elapsed:.1f} s: {replayed / replay_elapsed:,.0f} rows/s")
    say(f"  nothing changed: {before == after}; anomalies listed: {OrderAnomaly.objects.count()}")
    problems = check_ledger()  # the whole book, and the rebate check among the domain checks
    say(f"check-ledger: {'clean' if not problems else problems[:5]}")
    for fake in fakes.values():
        fake.stop()
    if before != after or problems:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
