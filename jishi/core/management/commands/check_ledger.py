"""``jishi check-ledger``: verify every ledger invariant; exit 1 on any violation."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from jishi.core.ledger import check_ledger
from jishi.core.models import Account, Transaction


class Command(BaseCommand):
    help = "Check the whole ledger: balanced transactions, balances equal entries, none negative."

    def handle(self, *args: Any, **options: Any) -> None:
        problems = check_ledger()
        accounts, transactions = Account.objects.count(), Transaction.objects.count()
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            raise CommandError(f"ledger check failed: {len(problems)} problem(s)")
        self.stdout.write(f"ledger ok: {transactions} transactions, {accounts} accounts")
