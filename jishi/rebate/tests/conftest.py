"""Rebate fixtures: sources pointing at running fakes, buyers with tracked links, reports."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from django.utils import timezone

from jishi.distribution import services as distribution
from jishi.rebate import links, sources
from jishi.rebate.fakes import FAKES, FakeNetwork
from jishi.rebate.models import Network, NetworkOrder, OrderAdjustment, OrderStatus, RebateSource, TrackedLink
from jishi.rebate.reports import OrderReport
from jishi.testing.factories import UserFactory


@pytest.fixture
def fake_taobao() -> Iterator[FakeNetwork]:
    with FAKES["taobao"]() as fake:
        yield fake


@pytest.fixture
def fake_pdd() -> Iterator[FakeNetwork]:
    with FAKES["pdd"]() as fake:
        yield fake


@pytest.fixture
def fake_jd() -> Iterator[FakeNetwork]:
    with FAKES["jd"]() as fake:
        yield fake


def source_for(fake: FakeNetwork, **extra: Any) -> RebateSource:
    return sources.create_source(
        None,
        {
            "network": fake.network,
            "name": f"fake {fake.network}",
            "app_key": fake.app_key,
            "secret": fake.secret,
            "endpoint": fake.url,
            **extra,
        },
    )


def tracked_buyer(network: str = Network.TAOBAO, promoter: Any = None) -> tuple[Any, TrackedLink]:
    buyer = UserFactory()
    if promoter is not None:
        code = distribution.apply(promoter).code
        distribution.bind(buyer, code)
    return buyer, links.record_link(buyer, network)


def report(
    link: TrackedLink | None,
    status: OrderStatus = OrderStatus.PAID,
    *,
    n: int = 1,
    estimate: int = 1000,
    actual: int | None = None,
    fee: int = 0,
    network: str | None = None,
    raw: str = "x",
) -> OrderReport:
    net = network or (link.network if link else Network.TAOBAO)
    return OrderReport(
        network=net,
        order_id=f"O{n}",
        sub_order_id=f"S{n}",
        raw_status=raw,
        status=status,
        item_title="好物",
        paid_amount=20000,
        commission_estimate=estimate,
        commission_actual=actual,
        service_fee=fee,
        tracking_id=link.tracking_id if link else "nobody",
    )


def moved(r: OrderReport, status: OrderStatus, **changes: Any) -> OrderReport:
    return replace(r, status=status, **changes)


def refund_case(order: NetworkOrder, *, fee: int, commission: int, n: int = 1) -> OrderAdjustment:
    """A 维权 case that succeeded (status 2) and was applied to ``order``, as the sync leaves it."""
    return OrderAdjustment.objects.create(
        network=order.network,
        kind="refund",
        key=f"R{n}",
        network_order_id=order.order_id,
        sub_order_id=order.sub_order_id,
        raw_status="2",
        refund_fee=fee,
        commission_refund=commission,
        applied_amount=commission,
        order=order,
        applied_at=timezone.now(),
    )


def waiting_penalty(n: int) -> OrderAdjustment:
    """A frozen penalty (status 0) whose order Jishi does not know yet."""
    return OrderAdjustment.objects.create(
        network="taobao", kind="penalty", key=f"P{n}", network_order_id=f"O{n}", sub_order_id=f"S{n}", raw_status="0"
    )
