"""The rebate life cycle through the ledger: split, settle, reverse, replay, out of order."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jishi.commission import services as commission
from jishi.commission.models import Commission, CommissionSource, CommissionStatus
from jishi.core import ledger
from jishi.core.errors import InvalidInput
from jishi.core.models import AccountKind, Transaction
from jishi.rebate import lifecycle, splits
from jishi.rebate.models import AnomalyKind, CreditState, Network, NetworkOrder, OrderAnomaly, OrderStatus, ReviewState
from jishi.testing.factories import OperatorFactory, UserFactory

from .conftest import moved, report, tracked_buyer

pytestmark = pytest.mark.django_db
S = OrderStatus


def frozen(user: Any) -> int:
    return ledger.balance_of(user.pk, AccountKind.COMMISSION_FROZEN)


def available(user: Any) -> int:
    return ledger.balance_of(user.pk, AccountKind.COMMISSION_AVAILABLE)


def debt(user: Any) -> int:
    return -ledger.balance_of(user.pk, AccountKind.COMMISSION_DEBT)


def record(*reports: Any) -> lifecycle.PageResult:
    return lifecycle.record_reports(None, reports[0].network, list(reports))


def the_order() -> NetworkOrder:
    return NetworkOrder.objects.get()


def test_paid_splits_net_commission_between_buyer_promoter_and_platform() -> None:
    promoter = UserFactory()
    buyer, link = tracked_buyer(promoter=promoter)
    result = record(report(link, estimate=1000, fee=100))
    order = the_order()
    assert (result.created, result.credited) == (1, 450 + 180)
    assert (order.base_amount, order.buyer_share, order.promoter_share, order.platform_share) == (900, 450, 180, 270)
    assert (order.credit, order.buyer_id, order.promoter_id) == (CreditState.PENDING, buyer.pk, promoter.pk)
    assert (frozen(buyer), frozen(promoter)) == (450, 180)
    rows = Commission.objects.filter(source=CommissionSource.REBATE).order_by("level")
    assert [(c.beneficiary_id, c.amount, c.status) for c in rows] == [
        (buyer.pk, 450, CommissionStatus.FROZEN),
        (promoter.pk, 180, CommissionStatus.FROZEN),
    ]
    assert ledger.check_ledger() == []


def test_without_promoter_the_platform_keeps_the_promoter_part() -> None:
    buyer, link = tracked_buyer()
    record(report(link, estimate=999))
    order = the_order()
    assert (order.buyer_share, order.promoter_share, order.platform_share, order.promoter_id) == (500, 0, 499, None)
    assert frozen(buyer) == 500


def test_settled_moves_to_available_and_can_be_withdrawn() -> None:
    buyer, link = tracked_buyer()
    first = report(link, estimate=4000)
    record(first)
    record(moved(first, S.CONFIRMED))
    assert (frozen(buyer), available(buyer)) == (2000, 0)
    record(moved(first, S.SETTLED, commission_actual=4000))
    assert (frozen(buyer), available(buyer), the_order().credit) == (0, 2000, CreditState.AVAILABLE)
    withdrawal = commission.request_withdrawal(buyer, 2000, "wallet", minimum=1000, fee_bp=0)
    commission.approve_withdrawal(OperatorFactory(), withdrawal.pk)
    assert (available(buyer), ledger.balance_of(buyer.pk, AccountKind.WALLET)) == (0, 2000)
    assert ledger.check_ledger() == []


def test_settled_below_estimate_lowers_shares_first() -> None:
    promoter = UserFactory()
    buyer, link = tracked_buyer(promoter=promoter)
    first = report(link, estimate=1000)
    record(first)
    record(moved(first, S.SETTLED, commission_actual=600))
    # granted 500 + 200 on 1000; settled on 600: 300 + 120 (reversal split by the allocation helper)
    assert (available(buyer), available(promoter), frozen(buyer), frozen(promoter)) == (300, 120, 0, 0)
    assert the_order().reversed_amount == 280
    assert ledger.check_ledger() == []


def test_settled_above_estimate_is_listed_and_keeps_shares() -> None:
    buyer, link = tracked_buyer()
    first = report(link, estimate=1000)
    record(first)
    record(moved(first, S.SETTLED, commission_actual=1200))
    assert available(buyer) == 500
    assert list(OrderAnomaly.objects.values_list("kind", "detail")) == [
        (AnomalyKind.SETTLED_ABOVE_ESTIMATE, "¥10.00→¥12.00")
    ]


@pytest.mark.parametrize("terminal", [S.INVALID, S.REFUNDED, S.PENALISED])
def test_terminal_before_settlement_reverses_pending(terminal: OrderStatus) -> None:
    promoter = UserFactory()
    buyer, link = tracked_buyer(promoter=promoter)
    first = report(link, estimate=1000)
    record(first)
    record(moved(first, terminal))
    order = the_order()
    assert (order.status, order.credit, order.reversed_amount) == (terminal, CreditState.REVERSED, 700)
    assert (frozen(buyer), frozen(promoter), available(buyer)) == (0, 0, 0)
    assert ledger.check_ledger() == []


def test_refund_after_settlement_and_withdrawal_becomes_debt() -> None:
    buyer, link = tracked_buyer()
    first = report(link, estimate=4000)
    record(first)
    record(moved(first, S.SETTLED, commission_actual=4000))
    withdrawal = commission.request_withdrawal(buyer, 1500, "wallet", minimum=1000, fee_bp=0)
    commission.approve_withdrawal(OperatorFactory(), withdrawal.pk)
    record(moved(first, S.REFUNDED, commission_actual=4000))
    assert (available(buyer), debt(buyer), the_order().credit) == (0, 1500, CreditState.REVERSED)
    # the next rebate pays the debt first
    second = report(tracked_buyer_link(buyer), n=2, estimate=4000)
    record(second)
    record(moved(second, S.SETTLED, commission_actual=4000))
    assert (available(buyer), debt(buyer)) == (500, 0)
    assert ledger.check_ledger() == []


def tracked_buyer_link(buyer: Any) -> Any:
    from jishi.rebate.links import record_link as link_for

    return link_for(buyer, Network.TAOBAO)


def test_same_report_twice_changes_nothing() -> None:
    buyer, link = tracked_buyer()
    first = report(link)
    record(first)
    transactions = Transaction.objects.count()
    again = record(first, first)
    assert (again.created, again.changed, again.unchanged, again.credited) == (0, 0, 1, 0)
    assert (Transaction.objects.count(), frozen(buyer)) == (transactions, 500)


@pytest.mark.parametrize(
    "current,late,detail",
    [
        (S.SETTLED, S.PAID, "settled→paid"),
        (S.CONFIRMED, S.PAID, "confirmed→paid"),
        (S.INVALID, S.PAID, "invalid→paid"),
        (S.REFUNDED, S.SETTLED, "refunded→settled"),
    ],
)
def test_a_status_going_back_changes_nothing_and_is_listed(current: S, late: S, detail: str) -> None:
    buyer, link = tracked_buyer()
    first = report(link, estimate=1000)
    record(first)
    record(moved(first, current, commission_actual=1000))
    before = (frozen(buyer), available(buyer), Transaction.objects.count())
    record(moved(first, late, commission_actual=1000))
    assert (frozen(buyer), available(buyer), Transaction.objects.count()) == before
    assert the_order().status == current
    assert list(OrderAnomaly.objects.values_list("kind", "detail")) == [(AnomalyKind.STATUS_BACKWARDS, detail)]
    record(moved(first, late, commission_actual=1000))
    assert OrderAnomaly.objects.count() == 1


def test_settled_report_arriving_first_credits_and_releases_at_once() -> None:
    buyer, link = tracked_buyer()
    first = report(link, estimate=1000)
    record(moved(first, S.SETTLED, commission_actual=800))
    record(first)  # the older "paid" report afterwards
    assert (frozen(buyer), available(buyer)) == (0, 400)
    assert OrderAnomaly.objects.get().detail == "settled→paid"


def test_commission_changed_after_settlement_is_listed_only() -> None:
    buyer, link = tracked_buyer()
    first = report(link, estimate=1000)
    record(moved(first, S.SETTLED, commission_actual=1000))
    record(moved(first, S.SETTLED, commission_actual=700))
    assert available(buyer) == 500
    assert OrderAnomaly.objects.get().kind == AnomalyKind.CHANGED_AFTER_SETTLEMENT


def test_unknown_status_is_kept_and_listed_without_credit() -> None:
    buyer, link = tracked_buyer()
    record(report(link, S.UNKNOWN, raw="99"))
    assert (the_order().status, the_order().credit, frozen(buyer)) == (S.UNKNOWN, CreditState.NONE, 0)
    assert OrderAnomaly.objects.get().detail == "99"


def test_unmatched_order_waits_for_review_then_credits_on_assignment() -> None:
    record(report(None, estimate=1000))
    order = the_order()
    assert (order.review, order.credit, order.buyer_id) == (ReviewState.PENDING, CreditState.NONE, None)
    buyer = UserFactory()
    lifecycle.assign_unmatched(OperatorFactory(), order.pk, buyer)
    assert (the_order().review, frozen(buyer)) == (ReviewState.MATCHED, 500)


def test_split_above_100_percent_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        splits.update_split(None, Network.PDD, 8000, 2001)
    assert caught.value.code == "split_over_100"
    assert splits.split_for(Network.PDD).buyer_bp == 5000
    splits.update_split(None, Network.PDD, 8000, 2000)
    assert (splits.split_for(Network.PDD).buyer_bp, splits.split_for(Network.PDD).promoter_bp) == (8000, 2000)


def test_split_per_network_is_used() -> None:
    splits.update_split(None, Network.JD, 6000, 1000)
    buyer, link = tracked_buyer(Network.JD)
    record(report(link, estimate=1000))
    assert frozen(buyer) == 600


@settings(max_examples=200, deadline=None)
@given(
    base=st.integers(min_value=0, max_value=10**9),
    buyer_bp=st.integers(min_value=0, max_value=10000),
    promoter_bp=st.integers(min_value=0, max_value=10000),
    has_promoter=st.booleans(),
)
def test_split_parts_sum_to_the_fen(base: int, buyer_bp: int, promoter_bp: int, has_promoter: bool) -> None:
    promoter_bp = min(promoter_bp, 10000 - buyer_bp)
    from unittest import mock

    from jishi.rebate.models import RebateSplit

    rule = RebateSplit(network=Network.TAOBAO, buyer_bp=buyer_bp, promoter_bp=promoter_bp)
    with mock.patch.object(lifecycle, "split_for", return_value=rule):
        parts = lifecycle.split_shares(Network.TAOBAO, base, has_promoter)
    assert sum(parts) == base
    assert all(p >= 0 for p in parts)
    assert abs(parts[0] - base * buyer_bp / 10000) < 1
    if not has_promoter:
        assert parts[1] == 0
