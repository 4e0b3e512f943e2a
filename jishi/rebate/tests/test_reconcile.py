"""Reconciliation per source and month, and the rebate-vs-ledger check."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from jishi.core import ledger
from jishi.rebate import lifecycle, reconcile, sources
from jishi.rebate.models import NetworkOrder, OrderStatus, RebateSource
from jishi.rebate.reports import BEIJING
from jishi.testing.factories import UserFactory

from .conftest import moved, report, tracked_buyer

pytestmark = pytest.mark.django_db
S = OrderStatus
SETTLED_AT = datetime(2026, 11, 20, 12, 0, tzinfo=BEIJING)


def a_source() -> RebateSource:
    return sources.create_source(
        None, {"network": "taobao", "name": "主账号", "app_key": "k", "secret": "s", "endpoint": "http://127.0.0.1:9/"}
    )


def test_month_totals_and_differences_explained_by_order() -> None:
    source = a_source()
    _buyer, link = tracked_buyer(promoter=UserFactory())
    normal = report(link, n=1, estimate=1000)
    above = report(link, n=2, estimate=1000)
    refunded = report(link, n=3, estimate=1000)
    unmatched = report(None, n=4, estimate=1000)
    lifecycle.record_reports(source, "taobao", [normal, above, refunded, unmatched])
    settle = {"commission_actual": 1000, "settled_at": SETTLED_AT}
    lifecycle.record_reports(
        source,
        "taobao",
        [
            moved(normal, S.SETTLED, **settle),
            moved(above, S.SETTLED, commission_actual=1500, settled_at=SETTLED_AT),
            moved(refunded, S.SETTLED, **settle),
            moved(unmatched, S.SETTLED, **settle),
        ],
    )
    lifecycle.record_reports(source, "taobao", [moved(refunded, S.REFUNDED, **settle)])
    RebateSource.objects.filter(pk=source.pk).update(
        synced_until=timezone.now() - timedelta(minutes=30), last_error="10019: 签名错误"
    )
    source.refresh_from_db()
    result = reconcile.reconcile(source, "2026-11")
    # network pays 1000 + 1500 + 0 + 1000; people keep 700 + 700 + 0 + 0
    assert (result.orders, result.network_net, result.credited, result.platform) == (4, 3500, 1400, 2100)
    by_order = {d.order_id: (d.network_net, d.expected, d.credited, d.difference) for d in result.differences}
    assert by_order == {"O2": (1500, 1050, 700, -350), "O4": (1000, 500, 0, -500)}
    assert [d.reason for d in result.differences] == ["结算佣金高于预估，差额留平台", "未匹配买家，待认领"]
    assert result.last_error == "10019: 签名错误"
    assert result.lag_seconds is not None and 1790 <= result.lag_seconds <= 1900
    assert sorted((a["order_id"], a["kind"]) for a in result.anomalies) == [("O2", "settled_above_estimate")]
    assert reconcile.months(source) == ["2026-11"]
    assert reconcile.check_rebates() == []
    assert ledger.check_ledger() == []


def test_check_rebates_finds_a_row_that_disagrees_with_the_ledger() -> None:
    _buyer, link = tracked_buyer()
    lifecycle.record_reports(None, "taobao", [report(link, estimate=1000)])
    assert reconcile.check_rebates() == []
    order = NetworkOrder.objects.get()
    NetworkOrder.objects.filter(pk=order.pk).update(buyer_share=600, platform_share=400)
    assert reconcile.check_rebates() == [
        f"rebate order {order.pk} is pending: platform (pending, revenue) (500, 0) != (400, 0)",
        f"rebate order {order.pk} shares != commissions 500",
    ]
