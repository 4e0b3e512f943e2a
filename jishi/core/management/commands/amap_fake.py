"""``jishi amap_fake --port P``: the local 高德 geocoding service the demo's addresses are placed with."""

from __future__ import annotations

import os
import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from jishi.core.fake_amap import FakeAmapServer


class Command(BaseCommand):
    help = "Serve a local AMap Web service (v3/geocode/geo, key and sig checked) until stopped."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, required=True)
        parser.add_argument("--key", default=os.environ.get("JISHI_AMAP_KEY") or "")
        parser.add_argument("--private-key", default=os.environ.get("JISHI_AMAP_PRIVATE_KEY") or "")

    def handle(self, *args: Any, **options: Any) -> None:
        fake = FakeAmapServer(options["key"], options["private_key"], host=options["host"], port=options["port"])
        self.stdout.write(f"fake AMap geocoder on {fake.url}")
        self.stdout.flush()
        signal.signal(signal.SIGTERM, lambda *_: os._exit(0))  # nothing to save
        try:
            fake.serve_forever()
        except KeyboardInterrupt:
            fake.server.server_close()
