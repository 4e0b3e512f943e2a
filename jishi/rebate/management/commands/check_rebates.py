"""``jishi check-rebates``: every rebate order against its commissions in the ledger; exit 1 on any problem."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from jishi.rebate.reconcile import check_rebates


class Command(BaseCommand):
    help = "Check rebate orders against their commissions (run beside check-ledger)."

    def handle(self, *args: Any, **options: Any) -> None:
        problems = check_rebates()
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"rebate check failed: {len(problems)} problem(s)")
        self.stdout.write("rebates ok")
