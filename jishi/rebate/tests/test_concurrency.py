"""The same reports written by several syncs/imports at once make one order and one credit each."""

from __future__ import annotations

import random

import pytest

from jishi.commission.models import Commission
from jishi.core import ledger
from jishi.core.models import AccountKind
from jishi.rebate import lifecycle
from jishi.rebate.models import CreditState, NetworkOrder, OrderStatus
from jishi.rebate.reconcile import check_rebates
from jishi.testing.concurrency import errors, race

from .conftest import moved, report, tracked_buyer

pytestmark = pytest.mark.django_db(transaction=True)


def test_parallel_pages_of_the_same_orders_in_any_order() -> None:
    buyer, link = tracked_buyer()
    paid = [report(link, n=n, estimate=1000 + n) for n in range(20)]
    settled = [moved(r, OrderStatus.SETTLED, commission_actual=r.commission_estimate) for r in paid[:10]]
    pages = []
    for i in range(8):
        mixed = paid + settled
        random.Random(i).shuffle(mixed)
        pages.append(mixed)

    results = race(8, lambda i: lifecycle.record_reports(None, "taobao", pages[i]))

    assert errors(results) == []
    assert NetworkOrder.objects.count() == 20
    assert NetworkOrder.objects.filter(credit=CreditState.AVAILABLE).count() == 10
    assert Commission.objects.count() == 20
    expected_available = sum((1000 + n) // 2 + (1000 + n) % 2 for n in range(10))
    expected_pending = sum((1000 + n) // 2 + (1000 + n) % 2 for n in range(10, 20))
    assert ledger.balance_of(buyer.pk, AccountKind.COMMISSION_AVAILABLE) == expected_available
    assert ledger.balance_of(buyer.pk, AccountKind.COMMISSION_FROZEN) == expected_pending
    assert ledger.check_ledger() == []
    assert check_rebates() == []
