"""Group red-packet benchmark: 2,000 members race for one 200-share 拼手气 packet, under gunicorn.

One run, against PostgreSQL:

1. Creates the database in ``--database-url`` afresh (default ``.../jishi_community_bench``), migrates,
   and pre-creates one group with N members (default 2,000) who acknowledged its rules, each with an
   API token, and a funder who sends one random packet of ``--amount`` fen in ``--shares`` shares.
2. Starts gunicorn (``-k gthread``) and waits for ``/readyz``.
3. Fires: every member sends ``POST /api/v1/community/red-packets/{id}/claim`` once, C connections at
   a time (the keep-alive asyncio client of ``bench/loadclient.py``).
4. Prints claims/s, p50/p95/p99 latency, the ``/healthz`` rate of the same server as a baseline,
   status codes, SQL statements per claim, the winners (must be
   exactly the shares, distinct, summing to the packet to the fen) and the whole-book ledger check.

    .venv/bin/python bench/red_packet.py
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

from loadclient import fire_all, gunicorn, pct, recreate_database, say, server_env

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/jishi_community_bench"


def build_group(members: int, amount: int, shares: int) -> tuple[int, list[str]]:
    import django

    django.setup()
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from jishi.accounts.models import AuthToken, Role, User, UserRole
    from jishi.accounts.services import _hash
    from jishi.community import groups, red_packets
    from jishi.community.models import Group, Membership
    from jishi.testing.shop import fund_wallet

    group = Group.objects.create(name="茶友会", theme="bench", rules="友善交流", capacity=members + 1)
    funder = User.objects.create(username="17100000000", phone="17100000000", nickname="发红包的人", password="!")
    users = User.objects.bulk_create(
        User(username=f"1710000{i:04d}", phone=f"1710000{i:04d}", nickname=f"群友{i}", password="!")
        for i in range(1, members + 1)
    )
    UserRole.objects.bulk_create(UserRole(user=u, role=Role.BUYER) for u in [funder, *users])
    now = timezone.now()
    # Members as a join leaves them (rules acknowledged): bulk rows, then the count the joins would make.
    Membership.objects.bulk_create(
        Membership(
            group=group,
            user=u,
            invite_code=uuid.uuid4().hex[:10].upper(),
            rules_version_acked=1,
            rules_acked_at=now,
            joined_at=now,
        )
        for u in [funder, *users]
    )
    Group.objects.filter(pk=group.pk).update(member_count=members + 1)
    fund_wallet(funder, amount, key="bench:fund")
    packet = red_packets.send(funder, group.pk, amount=amount, shares=shares, split="random")
    tokens = [uuid.uuid4().hex + uuid.uuid4().hex for _ in users]
    AuthToken.objects.bulk_create(
        AuthToken(user=u, key_hash=_hash(t), name="bench", expires_at=now + timedelta(days=1))
        for u, t in zip(users, tokens, strict=True)
    )
    assert groups.is_member(users[0].pk, group.pk)
    return packet.pk, tokens


def sql_per_claim() -> int:
    """Statements one claim takes, warm (accounts exist), on a second packet in this process."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from jishi.accounts.models import User
    from jishi.community import red_packets
    from jishi.community.models import Group
    from jishi.testing.shop import fund_wallet

    group = Group.objects.get()
    funder = User.objects.get(phone="17100000000")
    fund_wallet(funder, 300, key="bench:fund:probe")
    packet = red_packets.send(funder, group.pk, amount=300, shares=3, split="random")
    first, second = User.objects.filter(phone__in=["17100000001", "17100000002"]).order_by("phone")
    red_packets.claim(first, packet.pk)
    with CaptureQueriesContext(connection) as ctx:
        red_packets.claim(second, packet.pk)
    return len(ctx.captured_queries)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--shares", type=int, default=200)
    parser.add_argument("--amount", type=int, default=88_888)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()

    data_dir = tempfile.mkdtemp(prefix="jishi-red-packet-bench-")
    env = server_env(args.database_url, data_dir)
    os.environ.update(env)
    os.environ.pop("REDIS_URL", None)
    sys.path.insert(0, str(ROOT))

    say(f"== red-packet bench: {args.members} members, {args.shares} shares of ¥{args.amount / 100:.2f} (拼手气)")
    recreate_database(args.database_url)
    t0 = time.perf_counter()
    packet_id, tokens = build_group(args.members, args.amount, args.shares)
    say(
        f"setup: database, group of {len(tokens) + 1} with tokens, packet {packet_id}"
        f" in {time.perf_counter() - t0:.1f}s"
    )

    from django.db import connections

    connections.close_all()
    with gunicorn(env, data_dir, args.workers, args.threads) as port:
        fire_all(port, [("GET", "/readyz", {}, b"")] * 200, args.concurrency)
        health = [("GET", "/healthz", {}, b"")] * len(tokens)
        h_elapsed, h_latencies, _h_statuses, _ = fire_all(port, health, args.concurrency)
        path = f"/api/v1/community/red-packets/{packet_id}/claim"
        claims = [("POST", path, {"Authorization": f"Bearer {t}"}, b"") for t in tokens]
        elapsed, latencies, statuses, by_status = fire_all(port, claims, args.concurrency)

    from django.db.models import Count, Sum

    from jishi.community.models import GroupRedPacket, RedPacketShare
    from jishi.core.ledger import check_ledger

    packet = GroupRedPacket.objects.get(pk=packet_id)
    won = RedPacketShare.objects.filter(packet_id=packet_id, user__isnull=False).aggregate(
        n=Count("id"), people=Count("user", distinct=True), total=Sum("amount")
    )
    statements = sql_per_claim()
    problems = check_ledger()
    say(
        f"claims:    {len(claims) / elapsed:8.0f} /s   p50 {pct(latencies, 0.5):.1f} ms"
        f"  p95 {pct(latencies, 0.95):.1f} ms  p99 {pct(latencies, 0.99):.1f} ms  max {max(latencies) * 1000:.0f} ms"
    )
    say(
        f"healthz:   {len(health) / h_elapsed:8.0f} req/s  p50 {pct(h_latencies, 0.5):.1f} ms"
        f"  p99 {pct(h_latencies, 0.99):.1f} ms (same server and client: the machine's baseline)"
    )
    for status, took in sorted(by_status.items()):
        say(f"  {status}: {len(took):5d}   p50 {pct(took, 0.5):.1f} ms  p99 {pct(took, 0.99):.1f} ms")
    say(f"statuses:  {dict(sorted(statuses.items()))}")
    say(f"SQL per claim (warm, in-process): {statements}")
    say(
        f"winners:   {won['n']} shares to {won['people']} members, ¥{(won['total'] or 0) / 100:.2f} "
        f"(packet ¥{packet.amount / 100:.2f}, status {packet.status})"
    )
    ok_winners = won["n"] == won["people"] == args.shares == statuses.get(200, 0) and won["total"] == args.amount
    ok_errors = not any(s >= 500 for s in statuses)
    say(f"{'PASS' if ok_winners else 'FAIL'} exactly {args.shares} winners summing to the packet")
    say(f"{'PASS' if ok_errors else 'FAIL'} no 5xx")
    say(f"{'PASS' if not problems else 'FAIL'} check-ledger: {len(problems)} problem(s)")
    for problem in problems[:10]:
        say(f"  {problem}")
    return 0 if ok_winners and ok_errors and not problems else 1


if __name__ == "__main__":
    sys.exit(main())
