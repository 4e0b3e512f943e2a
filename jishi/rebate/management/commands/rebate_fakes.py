"""``jishi rebate-fakes --taobao P --pdd P --jd P``: the three networks' fakes for the demo, with the
orders the demo seed left (and a new paid order now and then, so the sync has work)."""

from __future__ import annotations

import json
import os
import signal
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from jishi.rebate.demo import DEMO_APP_KEY, DEMO_SECRET, configure_fake, state_path
from jishi.rebate.fakes import FAKES, PAID_CODE, ROW_MAKERS, FakeNetwork


class Command(BaseCommand):
    help = "Serve the demo's Taobao, Pinduoduo and JD fakes until stopped."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        for network in FAKES:
            parser.add_argument(f"--{network}", type=int, required=True)
        parser.add_argument("--every", type=int, default=120, help="seconds between new demo orders (0: never)")

    def handle(self, *args: Any, **options: Any) -> None:
        state = json.loads(state_path().read_text(encoding="utf-8")) if state_path().exists() else {}
        fakes: dict[str, FakeNetwork] = {}
        for network, fake_class in FAKES.items():
            fake = configure_fake(fake_class(DEMO_APP_KEY, DEMO_SECRET, port=options[network]))
            fake.load(state.get(network, []))
            fakes[network] = fake.start()
            goods = len(getattr(fake, "goods", []))
            self.stdout.write(f"fake {network} on {fake.url} ({len(fake.rows)} orders, {goods} goods)")
        self.stdout.flush()
        # The fakes hold nothing worth saving: the demo supervisor's SIGTERM ends the process at once.
        signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
        n = 1000
        try:
            while True:
                time.sleep(options["every"] or 3600)
                if options["every"]:
                    n += 1
                    for network, fake in fakes.items():
                        tracker = _a_tracker(fake)
                        fake.put(ROW_MAKERS[network](n, tracker, PAID_CODE[network], fee=500 + n % 7 * 130))
        except KeyboardInterrupt:
            for fake in fakes.values():
                fake.server.server_close()


def _a_tracker(fake: FakeNetwork) -> str:
    for row in fake.rows.values():
        for field in ("relation_id", "subUnionId"):
            if row.get(field) and row[field] != "unknown-tracker":
                return str(row[field])
        if row.get("custom_parameters") and "unknown" not in str(row["custom_parameters"]):
            return str(json.loads(row["custom_parameters"]).get("uid", ""))
    return ""
