"""Taobao refund (维权) and penalty reports: through the fake with TOP signing, applied to the fen,
before or after settlement, once on replay."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from jishi.commission import services as commission
from jishi.core import ledger
from jishi.core.models import AccountKind, Transaction
from jishi.rebate import adjustments, lifecycle, sync
from jishi.rebate.adapters import TaobaoAdapter
from jishi.rebate.adjustments import PenaltyCase, RefundCase
from jishi.rebate.fakes import FakeNetwork, taobao_penalty_row, taobao_refund_row, taobao_row
from jishi.rebate.models import (
    AnomalyKind,
    CreditState,
    Network,
    NetworkOrder,
    OrderAdjustment,
    OrderAnomaly,
    OrderStatus,
    RebateSource,
)
from jishi.testing.factories import OperatorFactory, UserFactory

from .conftest import moved, report, source_for, tracked_buyer
from .test_sync import NoTransactionSession

pytestmark = pytest.mark.django_db
S = OrderStatus


def frozen(user: Any) -> int:
    return ledger.balance_of(user.pk, AccountKind.COMMISSION_FROZEN)


def available(user: Any) -> int:
    return ledger.balance_of(user.pk, AccountKind.COMMISSION_AVAILABLE)


def debt(user: Any) -> int:
    return -ledger.balance_of(user.pk, AccountKind.COMMISSION_DEBT)


def platform() -> tuple[int, int]:
    return (
        ledger.balance(lifecycle.platform_pending_account()),
        ledger.balance(lifecycle.platform_revenue_account()),
    )


def refund(amount: int, status: str = "2", n: int = 1, at: str = "t1") -> RefundCase:
    return RefundCase(f"O{n}", f"S{n}", f"S{n}:{at}", status, amount, amount * 20, None)


def penalty(status: str = "0", n: int = 1) -> PenaltyCase:
    return PenaltyCase(f"S{n}", status, None)


def paid_with_promoter(estimate: int = 1000) -> tuple[Any, Any, Any]:
    promoter = UserFactory()
    buyer, link = tracked_buyer(promoter=promoter)
    paid = report(link, estimate=estimate)
    lifecycle.record_reports(None, "taobao", [paid])
    return buyer, promoter, paid


def test_partial_refund_before_settlement_reverses_every_share_in_proportion() -> None:
    buyer, promoter, _paid = paid_with_promoter()  # 500 / 200 / platform 300 of 1000
    result = adjustments.record_refunds(None, [refund(250)])
    order = NetworkOrder.objects.get()
    assert (result.applied, result.reversed) == (1, 175)  # 700 × 250 / 1000
    assert (frozen(buyer), frozen(promoter)) == (375, 150)
    assert (order.status, order.credit, order.commission_refunded, order.reversed_amount) == (
        S.PAID,
        CreditState.PENDING,
        250,
        175,
    )
    assert platform() == (225, 0)  # 1000 − 250 − what people keep (525)
    assert ledger.check_ledger() == []


def test_settlement_after_a_partial_refund_keeps_the_proportion() -> None:
    buyer, promoter, paid = paid_with_promoter()
    adjustments.record_refunds(None, [refund(250)])
    lifecycle.record_reports(None, "taobao", [moved(paid, S.SETTLED, commission_actual=1000)])
    assert (available(buyer), available(promoter), frozen(buyer)) == (375, 150, 0)
    assert platform() == (0, 225)
    assert ledger.check_ledger() == []


def test_partial_refund_after_settlement_and_withdrawal_becomes_debt() -> None:
    buyer, promoter, paid = paid_with_promoter()
    lifecycle.record_reports(None, "taobao", [moved(paid, S.SETTLED, commission_actual=1000)])
    withdrawal = commission.request_withdrawal(buyer, 500, "wallet", minimum=100, fee_bp=0)
    commission.approve_withdrawal(OperatorFactory(), withdrawal.pk)
    adjustments.record_refunds(None, [refund(400)])
    # people give back 700 × 0.4 = 280: the buyer 200 (withdrawn: a debt), the promoter 80
    assert (available(buyer), debt(buyer), available(promoter)) == (0, 200, 120)
    assert platform() == (0, 180)  # 1000 − 400 − 420
    assert NetworkOrder.objects.get().credit == CreditState.AVAILABLE
    assert ledger.check_ledger() == []


def test_a_refund_of_the_whole_remaining_commission_refunds_the_order() -> None:
    buyer, promoter, _paid = paid_with_promoter()
    adjustments.record_refunds(None, [refund(300, at="a")])
    adjustments.record_refunds(None, [refund(900, at="b")])  # more than the 700 left: capped
    order = NetworkOrder.objects.get()
    assert (order.status, order.credit, order.reversed_amount, order.commission_refunded) == (
        S.REFUNDED,
        CreditState.REVERSED,
        700,
        1000,
    )
    assert (frozen(buyer), frozen(promoter), platform()) == (0, 0, (0, 0))
    assert list(OrderAdjustment.objects.order_by("pk").values_list("applied_amount", flat=True)) == [210, 490]
    assert ledger.check_ledger() == []


def test_replayed_and_out_of_order_cases_apply_once() -> None:
    buyer, _promoter, _paid = paid_with_promoter()
    adjustments.record_refunds(None, [refund(250, status="4")])  # created: nothing yet
    assert frozen(buyer) == 500
    adjustments.record_refunds(None, [refund(250, status="2")])
    transactions = Transaction.objects.count()
    adjustments.record_refunds(None, [refund(250, status="4"), refund(250, status="2")])
    adjustments.record_refunds(None, [refund(250, status="2")])
    assert (frozen(buyer), Transaction.objects.count(), OrderAnomaly.objects.count()) == (375, transactions, 0)
    adjustments.record_refunds(None, [refund(260, status="2")])  # changed after being applied
    assert frozen(buyer) == 375
    assert list(OrderAnomaly.objects.values_list("kind", "detail")) == [(AnomalyKind.REFUND_CHANGED, "250→260")]
    assert ledger.check_ledger() == []


@pytest.mark.parametrize("status", ["3", "11", "14", "15"])
def test_cases_that_take_nothing_from_the_publisher_change_nothing(status: str) -> None:
    buyer, _promoter, _paid = paid_with_promoter()
    adjustments.record_refunds(None, [refund(250, status=status)])
    assert (frozen(buyer), OrderAdjustment.objects.get().applied_at) == (500, None)


def test_a_case_for_an_order_not_yet_synced_waits_for_it() -> None:
    buyer, link = tracked_buyer()
    assert adjustments.record_refunds(None, [refund(400)]).waiting == 1
    lifecycle.record_reports(None, "taobao", [report(link, estimate=1000)])
    assert frozen(buyer) == 500
    assert adjustments.apply_waiting().applied == 1
    assert (frozen(buyer), platform()) == (300, (300, 0))
    assert adjustments.apply_waiting().applied == 0
    assert ledger.check_ledger() == []


def test_a_penalty_reverses_in_full_and_a_lifted_one_is_listed() -> None:
    buyer, promoter, paid = paid_with_promoter()
    lifecycle.record_reports(None, "taobao", [moved(paid, S.SETTLED, commission_actual=1000)])
    adjustments.record_penalties(None, [penalty("0")])
    order = NetworkOrder.objects.get()
    assert (order.status, order.credit, order.reversed_amount) == (S.PENALISED, CreditState.REVERSED, 700)
    assert (available(buyer), available(promoter), platform()) == (0, 0, (0, 0))
    transactions = Transaction.objects.count()
    adjustments.record_penalties(None, [penalty("0"), penalty("1")])
    assert Transaction.objects.count() == transactions
    assert list(OrderAnomaly.objects.values_list("kind", flat=True)) == [AnomalyKind.PENALTY_LIFTED]
    assert ledger.check_ledger() == []


def test_a_penalised_order_not_yet_credited_is_never_credited() -> None:
    buyer, link = tracked_buyer()
    lifecycle.record_reports(None, "taobao", [report(None, estimate=1000)])  # unmatched
    adjustments.record_penalties(None, [penalty("0")])
    assert NetworkOrder.objects.get().status == S.PENALISED
    lifecycle.record_reports(None, "taobao", [report(link, S.SETTLED, estimate=1000, actual=1000)])
    assert (NetworkOrder.objects.get().credit, available(buyer), frozen(buyer)) == (CreditState.NONE, 0, 0)


def test_the_job_reads_both_reports_through_the_fake_and_replays_cleanly(fake_taobao: FakeNetwork) -> None:
    buyer, link = tracked_buyer()
    now = timezone.now()
    for n in range(1, 4):
        fake_taobao.put(taobao_row(n, link.tracking_id, fee=1000), now - timedelta(hours=1))
    source = source_for(fake_taobao)
    RebateSource.objects.filter(pk=source.pk).update(synced_until=now - timedelta(hours=2))
    assert sync.sync_source(source.pk).error == ""
    assert frozen(buyer) == 1500
    fake_taobao.put_refund(taobao_refund_row(1, commission=400))  # type: ignore[attr-defined]
    fake_taobao.put_refund(taobao_refund_row(2, refund_status=4, commission=400))  # type: ignore[attr-defined]
    created = (now - timedelta(days=3)).astimezone(lifecycle.BEIJING).strftime("%Y-%m-%d %H:%M:%S")
    fake_taobao.put_penalty(taobao_penalty_row(3, created=created))  # type: ignore[attr-defined]
    session = NoTransactionSession()
    result = adjustments.sync_adjustments(source.pk, session=session)
    assert (result.cases, result.applied, result.errors, fake_taobao.refused) == (3, 2, 0, [])
    assert session.sent == 3  # one refund page, two penalty spans of 30 days
    assert frozen(buyer) == 300 + 500 + 0
    statuses = dict(NetworkOrder.objects.values_list("sub_order_id", "status"))
    assert sorted(statuses.values()) == [S.PAID, S.PAID, S.PENALISED]
    transactions = Transaction.objects.count()
    RebateSource.objects.filter(pk=source.pk).update(refunds_until=None)
    again = adjustments.sync_adjustments(source.pk)
    assert (again.applied, Transaction.objects.count(), frozen(buyer)) == (0, transactions, 800)
    assert ledger.check_ledger() == []


def test_refund_pages_follow_page_no_and_the_signature_is_checked(fake_taobao: FakeNetwork) -> None:
    for n in range(250):
        fake_taobao.put_refund(taobao_refund_row(n))  # type: ignore[attr-defined]
    source = source_for(fake_taobao)
    pages = list(TaobaoAdapter(source).fetch_refunds(timezone.now() - timedelta(days=1)))
    assert [len(p) for p in pages] == [100, 100, 50]
    assert len({r["tb_trade_id"] for p in pages for r in p}) == 250
    wrong = source_for(fake_taobao, secret="not-the-secret")
    with pytest.raises(adjustments.NetworkError):
        list(TaobaoAdapter(wrong).fetch_penalties(timezone.now(), 30))
    assert fake_taobao.refused == ["sign"]
    with pytest.raises(ValueError):
        list(TaobaoAdapter(source).fetch_penalties(timezone.now(), 31))


def test_refund_rows_are_read_in_fen() -> None:
    case = adjustments.read_refund(taobao_refund_row(7, commission=123))
    assert (case.sub_order_id, case.commission_refund, case.refund_fee, case.raw_status) == (
        "20000000000071",
        123,
        2460,
        "2",
    )
    with pytest.raises(adjustments.ReportError):
        adjustments.read_refund({"tb_trade_parent_id": 1})
    assert Network.TAOBAO == "taobao"
