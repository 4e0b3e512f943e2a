"""Pinduoduo ``pdd.ddk.order.detail.get``: an order the increment report leaves ambiguous (审核失败)
is asked for its after-sale status; a finished after-sale makes it refunded."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from django.utils import timezone

from jishi.core import ledger
from jishi.core.models import AccountKind
from jishi.rebate import sync
from jishi.rebate.adapters import Page, PddAdapter
from jishi.rebate.fakes import FakeNetwork, pdd_row
from jishi.rebate.models import CreditState, NetworkOrder, OrderStatus, RebateSource

from .conftest import source_for, tracked_buyer
from .test_sync import NoTransactionSession

pytestmark = pytest.mark.django_db
S = OrderStatus


def test_audit_failed_orders_are_refunded_only_when_their_after_sale_is_done(fake_pdd: FakeNetwork) -> None:
    buyer, link = tracked_buyer("pdd")
    now = timezone.now()
    fake_pdd.put(pdd_row(1, link.tracking_id, 0, fee=1000), now - timedelta(hours=2))
    fake_pdd.put(pdd_row(2, link.tracking_id, 0, fee=1000), now - timedelta(hours=2))
    fake_pdd.put(pdd_row(3, link.tracking_id, 0, fee=1000), now - timedelta(hours=2))
    source = source_for(fake_pdd)
    RebateSource.objects.filter(pk=source.pk).update(synced_until=now - timedelta(hours=3))
    assert sync.sync_source(source.pk).error == ""
    assert ledger.balance_of(buyer.pk, AccountKind.COMMISSION_FROZEN) == 1500
    calls = fake_pdd.calls
    fake_pdd.put(pdd_row(1, link.tracking_id, 4, fee=1000, return_status=2), now + timedelta(minutes=5))
    fake_pdd.put(pdd_row(2, link.tracking_id, 4, fee=1000, return_status=0), now + timedelta(minutes=5))
    fake_pdd.put(pdd_row(3, link.tracking_id, 2, fee=1000, return_status=1), now + timedelta(minutes=5))
    session = NoTransactionSession()
    assert sync.sync_source(source.pk, session=session, now=now + timedelta(minutes=30)).error == ""
    statuses = dict(NetworkOrder.objects.values_list("order_id", "status"))
    assert statuses == {"261120-500000001": S.REFUNDED, "261120-500000002": S.INVALID, "261120-500000003": S.CONFIRMED}
    assert fake_pdd.calls - calls == 1 + 2  # one window page, a detail for each 审核失败 order only
    assert NetworkOrder.objects.filter(credit=CreditState.REVERSED).count() == 2
    assert ledger.balance_of(buyer.pk, AccountKind.COMMISSION_FROZEN) == 500
    assert (fake_pdd.refused, ledger.check_ledger()) == ([], [])


def test_the_detail_call_is_signed_and_an_unknown_order_is_refused(fake_pdd: FakeNetwork) -> None:
    fake_pdd.put(pdd_row(9, "u", 4, return_status=2))
    adapter = PddAdapter(source_for(fake_pdd))
    assert adapter.order_detail("261120-500000009")["return_status"] == 2
    with pytest.raises(Exception, match="50001"):
        adapter.order_detail("nope")
    wrong = PddAdapter(source_for(fake_pdd, secret="other"))
    with pytest.raises(Exception, match="10019"):
        wrong.order_detail("261120-500000009")
    assert fake_pdd.refused == ["order_sn", "sign"]


def test_a_refused_detail_leaves_the_order_as_reported(fake_pdd: FakeNetwork) -> None:
    _buyer, link = tracked_buyer("pdd")
    now = timezone.now()
    fake_pdd.put(pdd_row(1, link.tracking_id, 4, fee=1000, return_status=2), now - timedelta(hours=1))
    source = source_for(fake_pdd)
    RebateSource.objects.filter(pk=source.pk).update(synced_until=now - timedelta(hours=2))
    source.refresh_from_db()
    adapter = PddAdapter(source)
    page = next(iter(adapter.fetch(now - timedelta(hours=2), now)))
    assert [r.status for r in page.reports] == [S.REFUNDED]
    del fake_pdd.rows[("261120-500000001",)]  # the network no longer knows it: the detail is refused
    as_reported = Page([replace(page.reports[0], status=S.INVALID)], [])
    assert [r.status for r in adapter.clarify(as_reported).reports] == [S.INVALID]
    assert fake_pdd.refused == ["order_sn"]
