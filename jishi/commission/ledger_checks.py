"""The book held against commissions and withdrawals (part of ``jishi check-ledger``).

Per beneficiary: the frozen balance is what their not-yet-released commissions still hold, and
what released commissions still hold equals available + debt + withdrawals pending or paid out
(less the debt a withdrawal settled)."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import F, Sum

from jishi.core import ledger
from jishi.core.models import AccountKind

from .models import Commission, Withdrawal, WithdrawalStatus


@ledger.register_check("commission")
def check_commissions() -> list[str]:
    problems: list[str] = []
    remaining = Commission.objects.values("beneficiary_id").annotate(total=Sum(F("amount") - F("reversed_amount")))
    frozen_rows = dict(remaining.filter(available_at__isnull=True).values_list("beneficiary_id", "total"))
    released_rows = dict(remaining.filter(available_at__isnull=False).values_list("beneficiary_id", "total"))
    frozen = ledger.balances_by_owner(AccountKind.COMMISSION_FROZEN)
    for user_id in set(frozen) | set(frozen_rows):
        held, owed = frozen.get(user_id, 0), int(frozen_rows.get(user_id) or 0)
        if held != owed:
            problems.append(f"user {user_id} frozen commission {held} != commissions {owed}")
    out: dict[int, int] = defaultdict(int)
    for kind in (AccountKind.COMMISSION_AVAILABLE, AccountKind.COMMISSION_DEBT):
        for user_id, balance in ledger.balances_by_owner(kind).items():
            out[user_id] += balance
    withdrawals = (
        Withdrawal.objects.filter(status__in=[WithdrawalStatus.PENDING, WithdrawalStatus.PAID])
        .values("user_id")
        .annotate(total=Sum(F("amount") - F("debt_repaid")))
        .values_list("user_id", "total")
    )
    for user_id, total in withdrawals:
        out[user_id] += int(total)
    for user_id in set(out) | set(released_rows):
        if out.get(user_id, 0) != int(released_rows.get(user_id) or 0):
            problems.append(
                f"user {user_id} released commission {released_rows.get(user_id) or 0} != available + debt +"
                f" withdrawals {out.get(user_id, 0)}"
            )
    return problems
