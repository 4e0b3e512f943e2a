"""``jishi serve``: gunicorn on JISHI_PORT (or the next free port), stopped cleanly by Ctrl-C."""

from __future__ import annotations

import os
from argparse import ArgumentParser
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from jishi.core.checks import refuse_unsafe_production
from jishi.demo.processes import Supervisor, choose_port, display_host, gunicorn_command


class Command(BaseCommand):
    help = "Serve the shop with gunicorn."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--host", default=os.environ.get("JISHI_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=None, help="default: $JISHI_PORT or 8000")
        parser.add_argument("--workers", type=int, default=int(os.environ.get("JISHI_WORKERS") or 2))
        parser.add_argument("--threads", type=int, default=int(os.environ.get("JISHI_THREADS") or 4))

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            refuse_unsafe_production()  # here too, so the message is not lost in a worker's boot log
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        host: str = options["host"]
        port = choose_port(host, options["port"])
        base = f"http://{display_host(host)}:{port}"
        connections.close_all()
        server = gunicorn_command(host, port, options["workers"], options["threads"])
        supervisor = Supervisor({"server": server}, out=self.stdout)
        failed = supervisor.run(
            f"{base}/healthz",
            lambda: supervisor.say(f"Jishi is serving at {base}/  (Ctrl-C to stop)"),
        )
        if failed:
            raise CommandError(failed)
