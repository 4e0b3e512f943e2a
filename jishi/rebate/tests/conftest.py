"""Rebate fixtures: sources pointing at running fakes, buyers with tracked links, reports."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from jishi.distribution import services as distribution
from jishi.rebate import links, sources
from jishi.rebate.fakes import FAKES, FakeNetwork
from jishi.rebate.models import Network, OrderStatus, RebateSource, TrackedLink
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
