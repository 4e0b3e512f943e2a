"""Review: a refund's commission reversal applied twice (at-least-once events) reverses once."""

from __future__ import annotations

import pytest

from jishi.commission import services
from jishi.commission.models import Commission
from jishi.core import ledger
from jishi.core.models import AccountKind
from jishi.testing.factories import UserFactory

pytestmark = pytest.mark.django_db


def _granted(amount: int) -> Commission:
    promoter, buyer = UserFactory(), UserFactory()
    (row,) = services.grant(
        "distribution",
        order_id=77,
        order_number="N77",
        buyer_id=buyer.pk,
        shares=[services.Share(promoter.pk, 1, 501, 9, base_amount=10_000, amount=amount)],
        freeze_days=7,
    )
    return row


@pytest.mark.parametrize(("amount", "refunded", "reversed_once"), [(100, 5_000, 50), (10, 400, 0)])
def test_replayed_reversal_changes_nothing(amount: int, refunded: int, reversed_once: int) -> None:
    row = _granted(amount)
    lines = [{"line_id": 501, "amount": refunded}]

    first = services.reverse_for_refund(order_id=77, refund_key="9", lines=lines, full=False)
    again = services.reverse_for_refund(order_id=77, refund_key="9", lines=lines, full=False)

    row.refresh_from_db()
    assert (first, again) == (reversed_once, 0)
    assert (row.reversed_amount, row.refunded_base) == (reversed_once, refunded)
    assert ledger.balance_of(row.beneficiary_id, AccountKind.COMMISSION_FROZEN) == amount - reversed_once
    assert ledger.check_ledger() == []
