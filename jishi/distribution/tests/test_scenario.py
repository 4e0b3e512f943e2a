"""The scenario of the issue, exactly: three levels, ¥199.00 line, freeze, half refund."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from jishi.commission import services as commission
from jishi.commission.models import Commission, CommissionStatus
from jishi.core import ledger
from jishi.core.events import deliver_pending
from jishi.core.models import AccountKind
from jishi.orders import services as orders
from jishi.testing.factories import OperatorFactory

from .helpers import buy, chain, configure

pytestmark = pytest.mark.django_db


def frozen(s: object) -> int:
    return ledger.balance_of(s.user.pk, AccountKind.COMMISSION_FROZEN)  # type: ignore[attr-defined]


def available(s: object) -> int:
    return ledger.balance_of(s.user.pk, AccountKind.COMMISSION_AVAILABLE)  # type: ignore[attr-defined]


def test_three_levels_freeze_unfreeze_and_proportional_refund() -> None:
    configure(levels=3, rates_bp=[1000, 500, 200], freeze_days=7)
    a, b, c, d = chain(4, wallet=100_000)

    order = buy(d, 19900)
    assert order.paid_amount == 19900 + 1000  # ¥10 shipping earns nothing
    assert (frozen(c), frozen(b), frozen(a)) == (1990, 995, 398)
    assert ledger.balance("platform:platform_expense:commission") == -3383

    orders.ship_order(OperatorFactory(), order.pk, "SF", "SF1")
    orders.confirm_receipt(d.user, order.pk)
    deliver_pending()
    now = timezone.now()
    assert commission.unfreeze_due(now + timedelta(days=6, hours=23)) == 0
    assert commission.unfreeze_due(now + timedelta(days=7, minutes=1)) == 3
    assert (available(c), available(b), available(a)) == (1990, 995, 398)
    assert (frozen(c), frozen(b), frozen(a)) == (0, 0, 0)

    line = order.lines.get()
    case = orders.request_after_sale(d.user, order.pk, [(line.pk, 1)], 9950, "半价退款")
    orders.approve_after_sale(OperatorFactory(), case.pk)
    deliver_pending()

    reversed_c, reversed_b, reversed_a = 1990 - available(c), 995 - available(b), 398 - available(a)
    assert reversed_c == 995
    assert reversed_b in (497, 498)
    assert reversed_a == 199
    # the total reversed is exactly the proportional share of ¥33.83 (¥16.915 → ¥16.92, half up)
    assert reversed_a + reversed_b + reversed_c == 1692
    assert ledger.balance("platform:platform_expense:commission") == -(3383 - 1692)
    assert sum(Commission.objects.values_list("reversed_amount", flat=True)) == 1692
    assert set(Commission.objects.values_list("status", flat=True)) == {CommissionStatus.AVAILABLE}
    assert ledger.check_ledger() == []
