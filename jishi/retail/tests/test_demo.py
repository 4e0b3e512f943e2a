from __future__ import annotations

import io

import pytest

from jishi.core.ledger import check_ledger
from jishi.demo.seed import STEPS, Progress, login_lines
from jishi.payments.demo import STEPS as PAYMENT_STEPS
from jishi.retail.demo import STEPS as RETAIL_STEPS
from jishi.retail.models import CounterSale, Fulfilment, Store, StoreStaff

pytestmark = pytest.mark.django_db


def run(steps: list) -> None:
    out = io.StringIO()
    for index, (name, step) in enumerate(steps, 1):
        step(Progress(out, index, len(steps), name))


def test_demo_stores_orders_in_every_state_and_clerk_logins() -> None:
    wallets_only = [s for s in PAYMENT_STEPS if "wallet" in s[0]]
    run([*STEPS, *wallets_only, *RETAIL_STEPS])
    assert Store.objects.count() == 3
    assert StoreStaff.objects.count() == 3
    assert set(Fulfilment.objects.values_list("status", flat=True)) == {
        "new",
        "picking",
        "ready",
        "out_for_delivery",
        "delivered",
        "ready_for_pickup",
        "picked_up",
        "sold",
    }
    assert CounterSale.objects.count() == 6
    run(RETAIL_STEPS)
    assert (Store.objects.count(), CounterSale.objects.count(), Fulfilment.objects.count()) == (3, 6, 13)
    assert sum("clerk" in line for line in login_lines()) == 3
    assert check_ledger() == []
