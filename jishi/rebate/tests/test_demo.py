"""The demo step: goods of three networks, orders synced from the fakes through the adapters,
moving paid → settled with one refunded, and the fakes' data left for ``make demo``."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from jishi.core.ledger import check_ledger
from jishi.demo.seed import FRESH_PHONES, STEPS, Progress
from jishi.distribution.demo import seed_promoters
from jishi.rebate.demo import STEPS as REBATE_STEPS
from jishi.rebate.demo import fakes_command, state_path
from jishi.rebate.models import (
    CreditState,
    LinkRegistration,
    NetworkOrder,
    OrderStatus,
    RebateGoods,
    RebateSource,
    RegistrationState,
    ReviewState,
)
from jishi.rebate.reconcile import check_rebates

pytestmark = pytest.mark.django_db


def run(steps: list[Any]) -> None:
    out = io.StringIO()
    for index, (name, step) in enumerate(steps, 1):
        step(Progress(out, index, len(steps), name))


def test_demo_rebates_are_seeded_once() -> None:
    run([*STEPS, ("distribution promoters", seed_promoters), *REBATE_STEPS])
    assert RebateGoods.objects.count() == 18
    assert NetworkOrder.objects.count() == 21  # 6 orders + 1 unmatched, per network
    statuses = sorted(set(NetworkOrder.objects.values_list("network", "status", "credit")))
    assert ("taobao", OrderStatus.SETTLED, CreditState.AVAILABLE) in statuses
    assert ("taobao", OrderStatus.REFUNDED, CreditState.REVERSED) in statuses
    assert ("pdd", OrderStatus.INVALID, CreditState.REVERSED) in statuses
    assert ("jd", OrderStatus.PAID, CreditState.PENDING) in statuses
    assert NetworkOrder.objects.filter(review=ReviewState.PENDING).count() == 3
    assert NetworkOrder.objects.exclude(promoter=None).exists()  # buyer 02's promoter shares
    assert RebateSource.objects.filter(last_error="").count() == 3
    # the goods came from the fakes' search APIs through the adapters and the feed mapping
    assert RebateSource.objects.filter(goods_error="").exclude(goods_refreshed_at=None).count() == 3
    taobao = RebateGoods.objects.filter(network="taobao")
    assert taobao.count() == 6 and not taobao.exclude(coupon_url__startswith="https://uland.taobao.com/").exists()
    # the demo buyers were registered on Taobao (relation_id) and Pinduoduo (备案) through the fakes
    registered = LinkRegistration.objects.filter(state=RegistrationState.DONE)
    assert set(registered.values_list("network", flat=True)) == {"taobao", "pdd"}
    assert registered.filter(network="taobao").exclude(external_id="").count() == 5
    assert not NetworkOrder.objects.filter(buyer__phone__in=FRESH_PHONES).exists()
    state = json.loads(state_path().read_text(encoding="utf-8"))
    assert {k: len(v) for k, v in state.items()} == {"taobao": 7, "pdd": 7, "jd": 7}
    run(REBATE_STEPS)
    assert (RebateGoods.objects.count(), NetworkOrder.objects.count()) == (18, 21)
    assert check_ledger() == []
    assert check_rebates() == []


def test_make_demo_points_the_sources_at_the_fakes_process() -> None:
    run([*STEPS, *REBATE_STEPS[:1]])
    from jishi.rebate.demo import demo_sources

    demo_sources()
    command = fakes_command("127.0.0.1")["rebate-fakes"]
    assert command[2:5] == ["jishi.cli", "rebate_fakes", "--host"]
    ports = {command[i][2:]: int(command[i + 1]) for i in range(6, len(command), 2)}
    assert set(ports) == {"taobao", "pdd", "jd"}
    for source in RebateSource.objects.all():
        assert source.endpoint == f"http://127.0.0.1:{ports[source.network]}/router"
