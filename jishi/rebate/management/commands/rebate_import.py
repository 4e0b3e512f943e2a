"""``jishi rebate-import FILE --network taobao|pdd|jd [--orders]``: load a feed file with a progress bar."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jishi.rebate import feeds
from jishi.rebate.models import Network
from jishi.rebate.reports import ReportError

BAR_WIDTH = 30


class Command(BaseCommand):
    help = "Import a goods (default) or order-report feed file (JSON or CSV) in the network's field names."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--network", required=True, choices=Network.values)
        parser.add_argument("--orders", action="store_true", help="the file holds order reports")
        parser.add_argument("--format", choices=["json", "csv"], help="default: from the file name")

    def _bar(self, done: int, total: int) -> None:
        filled = BAR_WIDTH * done // total if total else BAR_WIDTH
        self.stdout.write(f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total}", ending="")
        if done >= total:
            self.stdout.write("")
        self.stdout.flush()

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        fmt = options["format"] or ("csv" if path.suffix.lower() == ".csv" else "json")
        try:
            text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8-sig")
            rows = feeds.read_rows(text, fmt)
        except (OSError, UnicodeDecodeError, ReportError) as exc:
            raise CommandError(f"cannot read {path}: {exc}") from None
        run = feeds.import_orders if options["orders"] else feeds.import_goods
        report = run(options["network"], rows, self._bar)
        self.stdout.write(
            f"{report.total} rows: {report.created} created, {report.updated} updated, {report.failed} failed"
        )
        for number, reason in report.errors:
            self.stderr.write(f"row {number}: {reason}")
        if report.failed:
            raise CommandError(f"{report.failed} row(s) failed")
