"""``jishi demo``: migrate, load the demo shop, then run the server and a worker until Ctrl-C."""

from __future__ import annotations

import gc
import os
import sys
from argparse import ArgumentParser
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections

from jishi.demo.processes import (
    Supervisor,
    choose_port,
    display_host,
    gunicorn_command,
    signal_on_parent_death,
    worker_command,
)
from jishi.demo.seed import login_lines, seed_demo
from jishi.demo.tasks import BANNER_ENV
from jishi.rebate.demo import fakes_command as rebate_fakes_command

DEMO_AMAP_PORT = 8790
DEMO_AMAP_KEY, DEMO_AMAP_PRIVATE_KEY = "jishi-demo-amap-key", "jishi-demo-amap-private-key"


def amap_fake_command(host: str) -> dict[str, list[str]]:
    """The ``amap-fake`` child, and this environment (which the children inherit) pointed at it:
    the demo geocodes through the AMap adapter, signature and all, without an account."""
    port = choose_port(host, DEMO_AMAP_PORT)
    os.environ.update(
        JISHI_GEOCODER="amap",
        JISHI_AMAP_URL=f"http://{host}:{port}",
        JISHI_AMAP_KEY=DEMO_AMAP_KEY,
        JISHI_AMAP_PRIVATE_KEY=DEMO_AMAP_PRIVATE_KEY,
    )
    return {"amap-fake": [sys.executable, "-m", "jishi.cli", "amap_fake", "--host", host, "--port", str(port)]}


class Command(BaseCommand):
    help = "Run the demo shop: migrate, seed, then serve with a background worker."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--no-serve", action="store_true", help="only migrate and seed, then exit")
        parser.add_argument("--host", default=os.environ.get("JISHI_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=None, help="default: $JISHI_PORT or 8000")
        parser.add_argument("--workers", type=int, default=int(os.environ.get("JISHI_WORKERS") or 2))

    def say(self, text: str = "") -> None:
        self.stdout.write(text)
        self.stdout.flush()

    def handle(self, *args: Any, **options: Any) -> None:
        self.say(f"database: {self.database_label()}")
        self.say("migrating …")
        call_command("migrate", interactive=False, verbosity=0)
        seed_demo(stdout=self.stdout)
        if options["no_serve"]:
            for line in login_lines():
                self.say(line)
            return
        if os.environ.get("MAKELEVEL"):
            # Started by `make demo`: killing make (even with SIGKILL) stops the demo, and so its children.
            signal_on_parent_death()
        host: str = options["host"]
        port = choose_port(host, options["port"])
        base = f"http://{display_host(host)}:{port}"
        # The children open their own connections; this process only supervises. They run
        # as a demo (sandbox payments, the demo's secret key) however this command was started.
        rebate_fakes = rebate_fakes_command(display_host(host))  # the affiliate networks' local fakes
        amap_fake = amap_fake_command(display_host(host))  # the buyers' new addresses are placed with it
        connections.close_all()
        os.environ["JISHI_DEMO"] = "1"
        # Seeding left millions of objects (dictionaries, ORM rows): the collection Python runs
        # at exit would walk them all and delay the stop by seconds. None of them is garbage.
        gc.freeze()
        # The worker prints the banner again once it is up (jishi/demo/tasks.py).
        os.environ[BANNER_ENV] = "\n".join(self.banner(base))
        supervisor = Supervisor(
            {
                "worker": worker_command(),
                "server": gunicorn_command(host, port, workers=options["workers"]),
                **rebate_fakes,
                **amap_fake,
            },
            out=self.stdout,
        )
        failed = supervisor.run(f"{base}/healthz", lambda: self.announce(base))
        if failed:
            raise CommandError(failed)

    def database_label(self) -> str:
        settings_dict = connection.settings_dict
        if connection.vendor == "sqlite":
            return f"SQLite {settings_dict['NAME']}"
        return f"{connection.vendor} {settings_dict.get('NAME')} on {settings_dict.get('HOST')}"

    def banner(self, base: str) -> list[str]:
        return [
            "集市 Jishi demo is running",
            f"  storefront  {base}/",
            f"  console     {base}/console/",
            f"  API docs    {base}/api/v1/docs",
            *login_lines(),
            "Press Ctrl-C to stop.",
        ]

    def announce(self, base: str) -> None:
        self.say("")
        for line in self.banner(base):
            self.say(line)
