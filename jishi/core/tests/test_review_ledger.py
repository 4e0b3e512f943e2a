"""Review: the whole-book check sees a negative balance on accounts summed from entries too."""

from __future__ import annotations

import pytest

from jishi.core import ledger
from jishi.core.models import AccountKind
from jishi.testing.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_check_ledger_reports_a_negative_untracked_user_balance() -> None:
    frozen = ledger.user_account(UserFactory().pk, AccountKind.COMMISSION_FROZEN)
    assert frozen.track_balance is False
    expense = ledger.platform_account(AccountKind.PLATFORM_EXPENSE, "commission")
    # Untracked balances are not guarded by post(): a rule that overdraws must at least be caught here.
    ledger.transfer(kind="test", key="review:overdraw", source=frozen, target=expense, amount=5)

    assert ledger.check_ledger() == [
        f"account {frozen.key} is negative: -5",
        # ...and the book no longer agrees with the commissions (none) that frozen money stands for.
        f"commission: user {frozen.owner_id} frozen commission -5 != commissions 0",
    ]
