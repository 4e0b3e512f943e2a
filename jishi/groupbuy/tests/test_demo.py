from __future__ import annotations

import io

import pytest

from jishi.core.ledger import check_ledger
from jishi.demo.seed import FRESH_PHONES, STEPS, Progress
from jishi.groupbuy.demo import STEPS as GROUPBUY_STEPS
from jishi.groupbuy.models import Batch, BatchStatus, Leader, LeaderStatus, MemberBinding, PickupOrder, PickupStatus
from jishi.payments.demo import STEPS as PAYMENT_STEPS

pytestmark = pytest.mark.django_db


def run(steps: list) -> None:
    out = io.StringIO()
    for index, (name, step) in enumerate(steps, 1):
        step(Progress(out, index, len(steps), name))


def test_demo_city_is_seeded_once() -> None:
    wallets_only = [s for s in PAYMENT_STEPS if "wallet" in s[0]]
    run([*STEPS, *wallets_only, *GROUPBUY_STEPS])
    counts = (Leader.objects.count(), Batch.objects.count(), PickupOrder.objects.count())

    run(GROUPBUY_STEPS)

    assert (Leader.objects.count(), Batch.objects.count(), PickupOrder.objects.count()) == counts
    assert Leader.objects.filter(status=LeaderStatus.APPROVED).count() == 4
    assert Leader.objects.filter(status=LeaderStatus.PENDING).count() == 1
    today, yesterday = Batch.objects.get(name="今日团"), Batch.objects.get(name="昨日团")
    assert (today.status, today.items.count()) == (BatchStatus.OPEN, 8)
    assert yesterday.status == BatchStatus.AT_POINTS
    assert PickupOrder.objects.filter(batch=today).values("leader").distinct().count() == 4
    statuses = set(PickupOrder.objects.filter(batch=yesterday).values_list("status", flat=True))
    assert statuses == {PickupStatus.COLLECTED, PickupStatus.READY}
    assert not MemberBinding.objects.filter(member__phone__in=FRESH_PHONES).exists()
    assert check_ledger() == []
