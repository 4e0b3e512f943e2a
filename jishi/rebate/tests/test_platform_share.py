"""The platform's share of a rebate in the ledger: pending revenue at payment, revenue at
settlement, given back on invalid or refund; and the check that holds it to the fen."""

from __future__ import annotations

import pytest

from jishi.core import ledger
from jishi.rebate import lifecycle, reconcile
from jishi.rebate.models import CreditState, Network, NetworkOrder, OrderStatus
from jishi.testing.factories import OperatorFactory, UserFactory

from .conftest import moved, report, tracked_buyer

pytestmark = pytest.mark.django_db
S = OrderStatus


def platform() -> tuple[int, int, int]:
    """(pending revenue, revenue, what the Taobao network owes) of the platform's rebate share."""
    return (
        ledger.balance(lifecycle.platform_pending_account()),
        ledger.balance(lifecycle.platform_revenue_account()),
        -ledger.balance(lifecycle.network_receivable_account(Network.TAOBAO)),
    )


def record(*reports: object) -> None:
    lifecycle.record_reports(None, "taobao", list(reports))  # type: ignore[arg-type]


def test_paid_posts_the_platform_share_as_pending_revenue() -> None:
    _buyer, link = tracked_buyer(promoter=UserFactory())
    record(report(link, estimate=1000, fee=100))
    assert NetworkOrder.objects.get().platform_share == 270
    assert platform() == (270, 0, 270)
    assert ledger.check_ledger() == []


def test_settled_moves_it_to_revenue() -> None:
    _buyer, link = tracked_buyer(promoter=UserFactory())
    paid = report(link, estimate=1000, fee=100)
    record(paid)
    record(moved(paid, S.SETTLED, commission_actual=1000))
    assert platform() == (0, 270, 270)
    assert ledger.check_ledger() == []


def test_settled_below_the_estimate_lowers_the_platform_share_too() -> None:
    _buyer, link = tracked_buyer(promoter=UserFactory())
    paid = report(link, estimate=1000)
    record(paid)
    record(moved(paid, S.SETTLED, commission_actual=600))
    # people keep 300 + 120 of 600; the platform 180 (it held 300 pending on the estimate)
    assert platform() == (0, 180, 180)
    assert ledger.check_ledger() == []


def test_settled_above_the_estimate_the_extra_is_platform_revenue() -> None:
    _buyer, link = tracked_buyer()
    paid = report(link, estimate=1000)
    record(paid)
    record(moved(paid, S.SETTLED, commission_actual=1200))
    assert platform() == (0, 700, 700)  # 1200 − the buyer's 500
    assert ledger.check_ledger() == []


@pytest.mark.parametrize("terminal", [S.INVALID, S.REFUNDED, S.PENALISED])
def test_terminal_before_settlement_gives_the_pending_share_back(terminal: OrderStatus) -> None:
    _buyer, link = tracked_buyer()
    paid = report(link, estimate=1001)
    record(paid)
    assert platform() == (500, 0, 500)
    record(moved(paid, terminal))
    assert platform() == (0, 0, 0)
    assert ledger.check_ledger() == []


def test_refund_after_settlement_reverses_the_revenue() -> None:
    _buyer, link = tracked_buyer(promoter=UserFactory())
    paid = report(link, estimate=999)
    record(paid)
    record(moved(paid, S.SETTLED, commission_actual=999))
    assert platform() == (0, 300, 300)
    record(moved(paid, S.REFUNDED, commission_actual=999))
    assert (platform(), NetworkOrder.objects.get().credit) == ((0, 0, 0), CreditState.REVERSED)
    assert ledger.check_ledger() == []


def test_replays_and_late_reports_post_the_share_once() -> None:
    _buyer, link = tracked_buyer()
    paid = report(link, estimate=1000)
    settled = moved(paid, S.SETTLED, commission_actual=800)
    record(settled, paid)
    record(paid)
    record(settled)
    record(settled, paid, settled)
    assert platform() == (0, 400, 400)
    assert ledger.check_ledger() == []


def test_an_unmatched_order_has_no_platform_share_until_assigned() -> None:
    record(moved(report(None, estimate=1000), S.SETTLED, commission_actual=1000))
    assert platform() == (0, 0, 0)
    lifecycle.assign_unmatched(OperatorFactory(), NetworkOrder.objects.get().pk, UserFactory())
    assert platform() == (0, 500, 500)
    assert ledger.check_ledger() == []


def test_the_rebate_check_finds_a_platform_share_off_by_a_fen() -> None:
    _buyer, link = tracked_buyer()
    record(report(link, estimate=1000))
    order = NetworkOrder.objects.get()
    assert reconcile.check_rebates() == []
    ledger.transfer(
        kind=lifecycle.PLATFORM_KIND,
        key="stray",
        source=lifecycle.network_receivable_account(Network.TAOBAO),
        target=lifecycle.platform_pending_account(),
        amount=1,
        reference=lifecycle.platform_reference(order.pk),
    )
    problem = f"rebate order {order.pk} is pending: platform (pending, revenue) (501, 0) != (500, 0)"
    assert reconcile.check_rebates() == [problem]
    assert f"rebate: {problem}" in ledger.check_ledger()


def test_the_rebate_check_finds_platform_revenue_of_an_uncredited_order() -> None:
    record(report(None, estimate=1000))
    order = NetworkOrder.objects.get()
    ledger.transfer(
        kind=lifecycle.PLATFORM_KIND,
        key="stray",
        source=lifecycle.network_receivable_account(Network.TAOBAO),
        target=lifecycle.platform_revenue_account(),
        amount=7,
        reference=lifecycle.platform_reference(order.pk),
    )
    assert reconcile.check_rebates() == [
        f"platform revenue (0, 7) posted for rebate order {order.pk}, which is not credited"
    ]
