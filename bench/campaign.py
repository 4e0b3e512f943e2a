"""Campaign benchmark: one campaign to N members (default 200,000) on PostgreSQL.

Setup seeds the members straight into a fresh database (with a progress bar). Measured:

1. inbox reach: the worker writes the campaign in batches (messages + their inbox and SMS
   delivery rows through set-based INSERT … SELECT), rows written per second, the time until
   every targeted member has the message in the inbox, SQL statements per batch, worker RSS;
2. channel sending against a backend that answers in 50 ms, for a slice of the members:
   with a throttle (sends/s cap) and with a concurrency limit, the achieved sends per second.

Run::

    .venv/bin/python bench/campaign.py --members 200000
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/jishi_notify_bench"


def say(text: str) -> None:
    print(text, flush=True)


def progress(done: int, total: int, label: str) -> None:
    width = 40
    filled = int(width * done / total) if total else width
    sys.stdout.write(f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,}")
    sys.stdout.flush()
    if done >= total:
        sys.stdout.write("\n")


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


def seed(members: int, tagged: int) -> int:
    """Members straight into the user table (setup speed, not measured); returns the tag id."""
    from django.core.management import call_command
    from django.utils import timezone

    from jishi.accounts.models import User
    from jishi.notify.models import MemberTag

    call_command("migrate", verbosity=0)
    now = timezone.now()
    chunk = 10_000
    for start in range(0, members, chunk):
        size = min(chunk, members - start)
        User.objects.bulk_create(
            [
                User(
                    username=f"1{300_000_0000 + start + i}",
                    phone=f"1{300_000_0000 + start + i}",
                    nickname=f"会员{start + i}",
                    password="!",  # unusable: setup needs no hashing
                    date_joined=now,
                )
                for i in range(size)
            ]
        )
        progress(start + size, members, "seeding members")
    tag = MemberTag.objects.create(name="bench-slice")
    through = MemberTag.members.through
    ids = list(User.objects.order_by("id").values_list("id", flat=True)[:tagged])
    through.objects.bulk_create([through(membertag_id=tag.pk, user_id=i) for i in ids], batch_size=10_000)
    return tag.pk


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reach(batch: int) -> None:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from jishi.notify import campaigns
    from jishi.notify.models import Campaign, Delivery, Message

    segment = campaigns.save_segment(None, "全部会员", {})
    campaign = campaigns.create_campaign(
        None,
        {
            "name": "新品首发",
            "segment_id": segment.pk,
            "title": "{name}，新品上架",
            "body": "百分之百送达：每位会员的站内信",
            "link": "/",
            "channel_content": {"sms": {"body": "【集市】{name}，新品上架"}},
        },
    )
    campaigns.schedule(None, campaign.pk, timezone.now())
    campaigns.start_due()
    target = campaigns.segments.count({})
    done = 0
    started = time.perf_counter()
    statements = []
    while True:
        with CaptureQueriesContext(connection) as queries:
            covered = campaigns.write_batch(campaign.pk, size=batch)
        if not covered:
            break
        statements.append(len(queries))
        done += covered
        progress(done, target, "writing inboxes")
        reset_queries()
    elapsed = time.perf_counter() - started
    messages = Message.objects.filter(campaign=campaign).count()
    deliveries = Delivery.objects.filter(campaign=campaign).count()
    inbox = Delivery.objects.filter(campaign=campaign, channel="inbox", status="delivered").count()
    rows = messages + deliveries
    say(f"members targeted:          {target:,}")
    say(f"inbox messages written:    {messages:,}  (inbox reach {inbox / target * 100:.1f}%)")
    say(f"delivery rows written:     {deliveries:,}  (inbox {inbox:,} delivered, sms queued)")
    say(f"time to full inbox reach:  {elapsed:.1f} s")
    say(f"rows written per second:   {rows / elapsed:,.0f}  (messages + delivery rows)")
    say(f"members per second:        {target / elapsed:,.0f}")
    say(f"SQL statements per batch:  {max(statements) if statements else 0} ({batch:,} members per batch)")
    say(f"worker RSS (max):          {rss_mb():.0f} MB")
    Campaign.objects.filter(pk=campaign.pk).update(status="finished")


def channel(tag_id: int, rate: int, concurrency: int, label: str) -> None:
    from django.conf import settings
    from django.utils import timezone

    from jishi.notify import campaigns, delivery
    from jishi.notify.channels import forget_backends
    from jishi.notify.models import Delivery

    settings.JISHI_NOTIFY = {
        **getattr(settings, "JISHI_NOTIFY", {}),
        "BACKENDS": {"sms": "jishi.notify.fakes.SlowConsoleBackend", "wechat": "", "email": ""},
    }
    forget_backends()
    segment = campaigns.save_segment(None, "切片", {"conditions": [{"field": "tags", "any": [tag_id]}]})
    throttle = {"sms": rate} if rate else {}
    campaign = campaigns.create_campaign(
        None,
        {
            "name": label,
            "segment_id": segment.pk,
            "title": "限时特惠",
            "body": "仅限今日",
            "channel_content": {"sms": {"body": "限时特惠"}},
            "throttle": throttle,
        },
    )
    campaigns.schedule(None, campaign.pk, timezone.now())
    campaigns.start_due()
    campaigns.write_all(campaign.pk)
    campaign.refresh_from_db()
    total = Delivery.objects.filter(campaign=campaign, channel="sms").count()
    started = time.perf_counter()
    sent = 0
    while True:
        done = delivery.send_due(
            channel="sms", campaign_id=campaign.pk, rate=float(rate), concurrency=concurrency, limit=200
        )
        if not done:
            break
        sent += done
    elapsed = time.perf_counter() - started
    ok = Delivery.objects.filter(campaign=campaign, channel="sms", status="sent").count()
    cap = f"throttle {rate}/s" if rate else "no throttle"
    say(
        f"{label}: {ok:,}/{total:,} sent in {elapsed:.1f} s = {sent / elapsed:,.0f} sends/s "
        f"({cap}, {concurrency} concurrent, 50 ms per call; concurrency bound {concurrency / 0.05:,.0f}/s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--slice", type=int, default=2_000, help="members sent to through the 50 ms channel")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    args = parser.parse_args()
    recreate_database(args.database_url)
    setup_django(args.database_url)
    tag_id = seed(args.members, args.slice)
    say("")
    say("== inbox reach ==")
    reach(args.batch)
    say("")
    say("== channel backend answering in 50 ms ==")
    channel(tag_id, rate=200, concurrency=16, label="throttled")
    channel(tag_id, rate=0, concurrency=4, label="concurrency-bound")
    say(f"worker RSS (max):          {rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
