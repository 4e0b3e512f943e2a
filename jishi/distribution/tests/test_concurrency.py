"""Many orders of one promoter's team paid and refunded in parallel keep the ledger exact."""

from __future__ import annotations

from typing import Any

import pytest

from jishi.commission.models import Commission
from jishi.core import ledger
from jishi.core.events import deliver_pending
from jishi.core.models import AccountKind
from jishi.distribution import services
from jishi.orders import services as orders
from jishi.payments.services import pay_with_wallet
from jishi.testing.concurrency import errors, race
from jishi.testing.factories import OperatorFactory
from jishi.testing.shop import shopper, skus

pytestmark = pytest.mark.django_db(transaction=True)


def parallel(n: int, work: Any) -> list[Exception]:
    return errors(race(n, work))


def test_team_orders_paid_and_refunded_in_parallel() -> None:
    boss = shopper()
    code = services.apply(boss.user).code
    team = [shopper(wallet=100_000) for _ in range(8)]
    for member in team:
        services.bind(member.user, code)
    (sku,) = skus(9990, stock=100)
    placed = [orders.place_order(m.user, [(sku.pk, 1)], m.address.pk) for m in team]

    assert parallel(8, lambda i: pay_with_wallet(team[i].user, placed[i].pk)) == []
    assert parallel(4, lambda i: deliver_pending()) == []
    deliver_pending()
    assert ledger.balance_of(boss.user.pk, AccountKind.COMMISSION_FROZEN) == 8 * 999

    operator = OperatorFactory()
    cases = []
    for i in range(0, 8, 2):
        line = placed[i].lines.get()
        cases.append(orders.request_after_sale(team[i].user, placed[i].pk, [(line.pk, 1)], 4995, "部分退款"))
    assert parallel(len(cases), lambda i: orders.approve_after_sale(operator, cases[i].pk)) == []
    assert parallel(4, lambda i: deliver_pending()) == []
    deliver_pending()

    # four orders lost half their base: 999 → 499.5 reversed each, rounded half up per order
    expected = 8 * 999 - 4 * 500
    assert ledger.balance_of(boss.user.pk, AccountKind.COMMISSION_FROZEN) == expected
    assert sum(c.amount - c.reversed_amount for c in Commission.objects.all()) == expected
    assert ledger.check_ledger() == []
