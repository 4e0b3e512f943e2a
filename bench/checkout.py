"""Checkout benchmark: concurrent buyers log in, fill a cart, place and pay orders over HTTP.

Jishi runs under gunicorn against a freshly created PostgreSQL database; C client threads
(one buyer and one keep-alive ``requests.Session`` each) repeat a whole purchase

    POST /api/v1/auth/login → POST /api/v1/cart/items ×3 → POST /api/v1/orders → POST /api/v1/orders/{id}/pay

until N orders are placed and paid. Printed: orders/s, latency percentiles per step, errors by
status code, SQL statements per place-order and per pay (one request of each run in-process
under ``CaptureQueriesContext``), gunicorn RSS, and pgbench TPC-B tps on the same PostgreSQL
server for scale. Run::

    .venv/bin/python bench/checkout.py --clients 8 --orders 400
"""

from __future__ import annotations

import argparse
import glob
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/jishi_bench"
PGBENCH_DATABASE = "jishi_pgbench"
PASSWORD = "bench-pass-123"
STEPS = ("login", "add-to-cart", "place-order", "pay")
TARGET_RATIO = 0.15  # orders/s ÷ pgbench TPC-B tps
TARGET_PLACE_SQL = 20  # statements for a 3-line place-order request
SKU_COUNT = 36
WALLET = 10**10  # fen: no buyer runs dry during a run


def say(text: str) -> None:
    print(text, flush=True)


# --- PostgreSQL -----------------------------------------------------------------------------


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def recreate_database(url: str) -> None:
    """Drop and create the database named in ``url`` (connecting to the server's ``postgres`` db)."""
    import psycopg
    from psycopg import sql

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(with_database(url, "postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def find_pgbench() -> str | None:
    found = shutil.which("pgbench")
    if found:
        return found
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pgbench"))
    return candidates[-1] if candidates else None


def pg_cli_env(url: str) -> tuple[list[str], dict[str, str]]:
    """Connection flags and environment for the PostgreSQL command-line tools."""
    parts = urlsplit(url)
    args = []
    if parts.hostname:
        args += ["-h", parts.hostname]
    if parts.port:
        args += ["-p", str(parts.port)]
    if parts.username:
        args += ["-U", parts.username]
    env = dict(os.environ)
    if parts.password:
        env["PGPASSWORD"] = parts.password
    return args, env


def run_pgbench(pgbench: str, url: str, clients: int, seconds: int) -> float:
    pg_url = with_database(url, PGBENCH_DATABASE)
    recreate_database(pg_url)
    args, env = pg_cli_env(url)
    say(f"pgbench: initialising scale 10 in {PGBENCH_DATABASE} …")
    subprocess.run([pgbench, *args, "-i", "-s", "10", "-q", PGBENCH_DATABASE], env=env, check=True, capture_output=True)
    say(f"pgbench: TPC-B, {clients} clients, 2 threads, {seconds} s …")
    done = subprocess.run(
        [pgbench, *args, "-c", str(clients), "-j", "2", "-T", str(seconds), PGBENCH_DATABASE],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    match = re.search(r"tps = ([\d.]+)", done.stdout)
    if not match:
        raise RuntimeError(f"could not read tps from pgbench output:\n{done.stdout}\n{done.stderr}")
    return float(match.group(1))


# --- the shop -------------------------------------------------------------------------------


@dataclass
class Shop:
    phones: list[str]
    sku_ids: list[int]


def build_shop(buyers: int) -> Shop:
    """Buyers with an address and a full wallet, and SKU_COUNT SKUs with ample stock, via services."""
    from jishi.accounts import services as accounts
    from jishi.catalog import services as catalog
    from jishi.catalog.models import ProductStatus
    from jishi.core import ledger
    from jishi.core.models import AccountKind
    from jishi.inventory import services as inventory

    category = catalog.save_category({"name": "压测商品"})
    sku_ids: list[int] = []
    for index in range(SKU_COUNT // 3):
        product = catalog.create_product(
            {
                "category_id": category.pk,
                "name": f"压测商品 {index + 1:02d}",
                "specs": [{"name": "规格", "values": ["小", "中", "大"]}],
                "price": 1990 + 500 * index,
                "status": ProductStatus.PUBLISHED,
            }
        )
        sku_ids += list(product.skus.order_by("pk").values_list("pk", flat=True))
    location = inventory.default_location()
    for sku_id in sku_ids:
        inventory.set_on_hand(sku_id, 10_000_000, location, reference="bench")
    phones = [f"139{i:08d}" for i in range(1, buyers + 2)]  # one more for the in-process SQL count
    source = ledger.platform_account(AccountKind.PLATFORM_TOPUP)
    for phone in phones:
        user = accounts.register_buyer(phone, PASSWORD)
        accounts.save_address(
            user,
            {
                "contact": "压测",
                "phone": phone,
                "province": "浙江省",
                "city": "杭州市",
                "district": "西湖区",
                "detail": "文三路 1 号",
                "is_default": True,
            },
        )
        ledger.transfer(
            kind="wallet_topup",
            key=f"bench:{phone}",
            source=source,
            target=ledger.user_account(user.pk, AccountKind.WALLET),
            amount=WALLET,
        )
    return Shop(phones=phones, sku_ids=sku_ids)


# --- the server ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(database_url: str, data_dir: str, redis_url: str = "") -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "jishi.settings",
            "DATABASE_URL": database_url,
            "JISHI_DATA_DIR": data_dir,
            "JISHI_DEBUG": "0",
            # A production server refuses the development key; the benchmark's own will do.
            "SECRET_KEY": os.environ.get("SECRET_KEY") or "jishi-bench-secret-key-" + "x" * 32,
            "JISHI_LOG_LEVEL": "WARNING",
            # Every purchase logs in again, far beyond the per-phone and per-IP limits meant for people.
            "JISHI_LOGIN_ATTEMPTS_PER_10_MIN": "100000000",
            "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
        }
    )
    if not database_url:
        env.pop("DATABASE_URL")
    env.pop("REDIS_URL", None)
    if redis_url:
        # Production at scale: cache, rate limits and Huey's queue in Redis (DESIGN.md); a queue of
        # its own per run, deleted at the end (no consumer runs: events wait in the outbox).
        env["REDIS_URL"] = redis_url
        env["JISHI_HUEY_NAME"] = f"jishi-bench-{os.getpid()}"
    return env


def forget_redis_queue(redis_url: str, name: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(f"huey.*{name}*"):
        client.delete(key)


class Server:
    """gunicorn in its own process group, so Ctrl-C reaches only the benchmark, which stops it."""

    def __init__(self, args: argparse.Namespace, env: dict[str, str], log_path: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "jishi.wsgi:application",
            "-b",
            f"127.0.0.1:{self.port}",
            "-w",
            str(args.workers),
            "-k",
            args.worker_class,
            "--graceful-timeout",
            "5",
            "--keep-alive",
            "30",
            "--no-control-socket",
        ]
        if args.worker_class == "gthread":
            command += ["--threads", str(args.threads)]
        self.command = command
        self.log = log_path.open("wb")
        self.proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=self.log, stderr=self.log, process_group=0)

    def wait_ready(self, timeout: float = 90) -> None:
        import requests

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}; see {self.log.name}")
            try:
                if requests.get(f"{self.base}/readyz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.25)
        raise RuntimeError(f"{self.base}/readyz did not answer within {timeout:.0f}s")

    def pids(self) -> list[int]:
        """The master and its workers."""
        children: list[int] = []
        for stat in glob.glob("/proc/[0-9]*/stat"):
            try:
                text = Path(stat).read_text()
            except OSError:
                continue
            ppid = int(text.rsplit(")", 1)[1].split()[1])
            if ppid == self.proc.pid:
                children.append(int(stat.split("/")[2]))
        return [self.proc.pid, *children]

    def rss_bytes(self) -> int:
        total = 0
        for pid in self.pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
            except OSError:
                continue
        return total

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


# --- the load --------------------------------------------------------------------------------


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    orders: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class Load:
    def __init__(self, base: str, shop: Shop, args: argparse.Namespace) -> None:
        self.base, self.shop, self.args = f"{base}/api/v1", shop, args
        self.results = Results()
        self.claimed = 0
        self.stop = threading.Event()

    def claim(self) -> bool:
        with self.results.lock:
            if self.claimed >= self.args.orders or self.stop.is_set():
                return False
            self.claimed += 1
            return True

    def call(self, session: Any, step: str, method: str, path: str, body: Any, expect: int, **kw: Any) -> Any:
        import requests

        started = time.perf_counter()
        try:
            response = session.request(method, f"{self.base}{path}", json=body, timeout=120, **kw)
        except requests.RequestException as exc:
            with self.results.lock:
                self.results.errors[f"{step}: {type(exc).__name__}"] += 1
            return None
        elapsed = time.perf_counter() - started
        with self.results.lock:
            self.results.latencies[step].append(elapsed)
            if response.status_code != expect:
                self.results.errors[f"{step}: HTTP {response.status_code}"] += 1
                if self.args.verbose:
                    say(f"  {step} → {response.status_code} {response.text[:300]}")
                return None
        return response.json()

    def client(self, index: int) -> None:
        import requests

        phone = self.shop.phones[index]
        rng = random.Random(index)
        session = requests.Session()
        token = ""
        while self.claim():
            if not token or self.args.login == "each":
                out = self.call(session, "login", "POST", "/auth/login", {"phone": phone, "password": PASSWORD}, 200)
                if out is None:
                    continue
                token = out["token"]
                session.headers["Authorization"] = f"Bearer {token}"
            ok = True
            for sku_id in rng.sample(self.shop.sku_ids, 3):
                ok = (
                    ok and self.call(session, "add-to-cart", "POST", "/cart/items", {"sku_id": sku_id}, 200) is not None
                )
            if not ok:
                continue
            body = {"address_id": self.args.address_ids[phone]}
            order = self.call(session, "place-order", "POST", "/orders", body, 201)
            if order is None:
                continue
            paid = self.call(session, "pay", "POST", f"/orders/{order['id']}/pay", {"method": "wallet"}, 200)
            if paid is not None:
                with self.results.lock:
                    self.results.orders += 1
        session.close()

    def run(self, server: Server) -> tuple[float, int]:
        threads = [
            threading.Thread(target=self.client, args=(i,), name=self.shop.phones[i], daemon=True)
            for i in range(self.args.clients)
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        peak_rss = 0
        last = 0.0
        while any(t.is_alive() for t in threads):
            time.sleep(0.5)
            peak_rss = max(peak_rss, server.rss_bytes())
            now = time.perf_counter() - started
            if now - last >= self.args.progress_every:
                last = now
                with self.results.lock:
                    done, errors = self.results.orders, sum(self.results.errors.values())
                say(
                    f"  [{now:6.1f}s] {done}/{self.args.orders} orders  {done / now:6.1f}/s  "
                    f"errors {errors}  server RSS {peak_rss / 2**20:.0f} MiB"
                )
        return time.perf_counter() - started, peak_rss


# --- SQL statement counts --------------------------------------------------------------------


def count_statements(shop: Shop, address_id: int, show_sql: bool = False) -> dict[str, Counter[str]]:
    """Run one warm-up purchase, then count every statement of one more, request by request.

    Counted: everything the request executes on the database through Django (token lookup,
    middleware, the view, savepoints), in-process with Django's test client on the same
    database; BEGIN/COMMIT issued by the driver are not statements Django sends and are not seen.
    """
    import json

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    phone = shop.phones[-1]
    client = Client()
    counts: dict[str, Counter[str]] = {}

    def post(step: str, path: str, body: Any, token: str = "", measure: bool = False) -> Any:
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
        with CaptureQueriesContext(connection) as captured:
            response = client.post(f"/api/v1{path}", json.dumps(body), content_type="application/json", **headers)
        if response.status_code >= 300:
            raise RuntimeError(f"{step} failed in-process: {response.status_code} {response.content[:300]!r}")
        if measure:
            kinds: Counter[str] = Counter()
            if show_sql and step in {"add-to-cart", "place-order", "pay"}:
                say(f"--- {step}: {len(captured.captured_queries)} statements")
                for query in captured.captured_queries:
                    say(f"    {query['sql'][:220]}")
            for query in captured.captured_queries:
                kinds[query["sql"].split(None, 1)[0].upper()] += 1
            counts.setdefault(step, Counter()).update(kinds)
            counts.setdefault("requests", Counter())[step] += 1
        return response.json()

    for measure in (False, True):
        token = post("login", "/auth/login", {"phone": phone, "password": PASSWORD}, measure=measure)["token"]
        for sku_id in shop.sku_ids[:3]:
            post("add-to-cart", "/cart/items", {"sku_id": sku_id}, token, measure=measure)
        order = post("place-order", "/orders", {"address_id": address_id}, token, measure=measure)
        post("pay", f"/orders/{order['id']}/pay", {"method": "wallet"}, token, measure=measure)
    return counts


# --- report ----------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(
    args: argparse.Namespace,
    server: Server,
    load: Load,
    wall: float,
    peak_rss: int,
    end_rss: int,
    statements: dict[str, Counter[str]],
    tps: float | None,
) -> bool:
    results = load.results
    rate = results.orders / wall if wall else 0.0
    say("")
    say("=" * 78)
    say(f"Jishi checkout benchmark — {args.clients} clients, {args.orders} orders, login {args.login} purchase")
    say(f"server: {' '.join(server.command[2:])}")
    say(f"database: {args.database_label}; Redis: {args.redis_label}")
    say(
        f"machine: {os.cpu_count()} CPUs, load average before/after the run "
        f"{args.load_before:.1f}/{args.load_after:.1f}"
    )
    say("-" * 78)
    say(f"orders placed+paid   {results.orders} in {wall:.1f} s wall clock = {rate:.1f} orders/s")
    say(f"{'step':<14}{'n':>7}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}{'mean ms':>10}")
    for step in STEPS:
        values = results.latencies.get(step, [])
        if not values:
            say(f"{step:<14}{0:>7}")
            continue
        ms = [v * 1000 for v in values]
        say(
            f"{step:<14}{len(ms):>7}{percentile(ms, 50):>10.1f}{percentile(ms, 95):>10.1f}"
            f"{percentile(ms, 99):>10.1f}{statistics.fmean(ms):>10.1f}"
        )
    errors = sum(results.errors.values())
    say(f"errors               {errors}  {dict(results.errors) if errors else ''}   {verdict(errors == 0)} (must be 0)")
    say("SQL statements per request (2nd purchase of one buyer, in-process, everything the request runs):")
    for step in STEPS:
        kinds = statements.get(step, Counter())
        requests_made = statements.get("requests", Counter())[step] or 1
        detail = ", ".join(f"{k} {v}" for k, v in kinds.most_common())
        each = f" = {sum(kinds.values()) / requests_made:.0f} per request" if requests_made > 1 else ""
        say(f"  {step:<14}{sum(kinds.values()):>4}   ({detail}){' over 3 requests' + each if each else ''}")
    place_sql = sum(statements.get("place-order", Counter()).values())
    say(
        f"place-order SQL      {place_sql} for 3 lines (target ≤ {TARGET_PLACE_SQL})   "
        f"{verdict(place_sql <= TARGET_PLACE_SQL)}"
    )
    say(f"pay SQL              {sum(statements.get('pay', Counter()).values())}")
    say(
        f"server RSS (gunicorn master + {args.workers} workers): "
        f"peak {peak_rss / 2**20:.0f} MiB, end {end_rss / 2**20:.0f} MiB"
    )
    ok = errors == 0 and place_sql <= TARGET_PLACE_SQL
    if tps is None:
        say("pgbench              not run")
    else:
        ratio = rate / tps if tps else 0.0
        say(f"pgbench TPC-B        {tps:.1f} tps (-s 10, -c {args.clients}, -j 2, -T {args.pgbench_seconds})")
        say(
            f"orders/s ÷ tps       {ratio * 100:.1f}% (target ≥ {TARGET_RATIO * 100:.0f}%)   "
            f"{verdict(ratio >= TARGET_RATIO)}"
        )
        ok = ok and ratio >= TARGET_RATIO
    say("=" * 78)
    return ok


# --- main ------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=8, help="concurrent client threads (one buyer each)")
    parser.add_argument("--orders", type=int, default=400, help="orders to place and pay in total")
    parser.add_argument("--database-url", default=os.environ.get("JISHI_BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--allow-sqlite", action="store_true", help="run on SQLite when the URL is sqlite:// or empty")
    parser.add_argument("--worker-class", choices=("gthread", "sync"), default="gthread")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    parser.add_argument(
        "--login",
        choices=("each", "once"),
        default="once",
        help="log in once per client (default) or for every purchase",
    )
    parser.add_argument("--pgbench-seconds", type=int, default=30)
    parser.add_argument("--no-pgbench", action="store_true")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13", help="Redis for the server (cache, queue)")
    parser.add_argument("--no-redis", action="store_true", help="run the server without Redis")
    parser.add_argument("--progress-every", type=float, default=3.0, help="seconds between progress lines")
    parser.add_argument(
        "--show-sql", action="store_true", help="print the statements of the counted place-order and pay"
    )
    parser.add_argument("--verbose", action="store_true", help="print the body of every failed request")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    url = args.database_url.strip()
    sqlite = not url or url.startswith("sqlite")
    if sqlite and not args.allow_sqlite:
        say("refusing to benchmark on SQLite: pass a postgres:// --database-url, or --allow-sqlite")
        return 2
    pgbench = None if sqlite or args.no_pgbench else find_pgbench()
    if not sqlite and not args.no_pgbench and pgbench is None:
        say(
            "pgbench not found (PATH, /usr/lib/postgresql/*/bin). It ships with the PostgreSQL client:\n"
            "  apt-get install postgresql-client   (or postgresql-contrib on older releases)\n"
            "or pass --no-pgbench to skip the comparison."
        )
        return 2
    data_dir = tempfile.mkdtemp(prefix="jishi-bench-")
    if sqlite:
        url = ""
        args.database_label = f"SQLite in {data_dir}"
    else:
        parts = urlsplit(url)
        args.database_label = f"PostgreSQL {parts.path.lstrip('/')} on {parts.hostname}:{parts.port or 5432} (fresh)"
        say(f"creating database {parts.path.lstrip('/')} …")
        recreate_database(url)
    env = server_env(url, data_dir, "" if args.no_redis else args.redis_url)
    args.redis_label = "none (SQLite Huey queue, cache in process)" if args.no_redis else args.redis_url
    os.environ.update({k: v for k, v in env.items() if k.startswith(("JISHI_", "DJANGO_"))})
    if url:
        os.environ["DATABASE_URL"] = url
    else:
        os.environ.pop("DATABASE_URL", None)
    sys.path.insert(0, str(ROOT))

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from jishi.accounts.models import Address

    started = time.perf_counter()
    say("migrating …")
    call_command("migrate", interactive=False, verbosity=0)
    say(f"building the shop: {args.clients} buyers, {SKU_COUNT} SKUs …")
    shop = build_shop(args.clients)
    addresses = dict(Address.objects.filter(user__phone__in=shop.phones).values_list("user__phone", "pk"))
    args.address_ids = addresses
    say(f"  ready in {time.perf_counter() - started:.1f}s")
    connections.close_all()

    server = Server(args, env, Path(data_dir) / "gunicorn.log")
    interrupted = False
    load = Load(server.base, shop, args)
    wall, peak_rss, end_rss = 0.0, 0, 0
    try:
        say(f"starting gunicorn ({args.worker_class}, {args.workers} workers) on {server.base} …")
        server.wait_ready()
        args.load_before = os.getloadavg()[0]
        if args.load_before > 0.5 * (os.cpu_count() or 1):
            say(f"  note: load average is {args.load_before:.1f} before the run: other work will skew the figures")
        say(f"running {args.orders} purchases with {args.clients} clients …")
        try:
            wall, peak_rss = load.run(server)
        except KeyboardInterrupt:
            load.stop.set()
            interrupted = True
        end_rss = server.rss_bytes()
        args.load_after = os.getloadavg()[0]
    finally:
        say("stopping gunicorn …")
        server.stop()
        if "JISHI_HUEY_NAME" in env:
            forget_redis_queue(env["REDIS_URL"], env["JISHI_HUEY_NAME"])
    if interrupted:
        say("interrupted")
        return 130
    say("counting SQL statements in-process …")
    statements = count_statements(shop, addresses[shop.phones[-1]], args.show_sql)
    connections.close_all()
    tps = None
    if pgbench:
        tps = run_pgbench(pgbench, args.database_url, args.clients, args.pgbench_seconds)
    ok = report(args, server, load, wall, peak_rss, end_rss, statements, tps)
    shutil.rmtree(data_dir, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
