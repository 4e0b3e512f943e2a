"""The book held against points lots and red-packet budgets (part of ``jishi check-ledger``)."""

from __future__ import annotations

from django.db.models import Sum

from jishi.core import ledger
from jishi.core.models import AccountKind

from .models import PointsLot, RedPacketBudget


@ledger.register_check("loyalty")
def check_loyalty() -> list[str]:
    problems: list[str] = []
    lots = dict(PointsLot.objects.values("user_id").annotate(total=Sum("remaining")).values_list("user_id", "total"))
    balances = ledger.balances_by_owner(AccountKind.POINTS)
    for user_id in set(lots) | set(balances):
        if int(lots.get(user_id) or 0) != balances.get(user_id, 0):
            problems.append(f"user {user_id} points {balances.get(user_id, 0)} != open lots {lots.get(user_id) or 0}")
    for budget in RedPacketBudget.objects.all():
        booked = ledger.balance(f"platform:{AccountKind.PLATFORM_BUDGET}:{budget.account_name}")
        if booked != budget.remaining:
            problems.append(f"red-packet budget {budget.code} remaining {budget.remaining} != book {booked}")
    return problems
