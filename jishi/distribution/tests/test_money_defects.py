"""Review defects in commission money paths, each reproduced and held fixed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from jishi.commission import services as commission
from jishi.commission.models import Commission, CommissionStatus, Withdrawal, WithdrawalStatus
from jishi.core import ledger
from jishi.core.events import deliver_pending
from jishi.core.models import AccountKind, OutboxEvent
from jishi.distribution import services
from jishi.orders import services as orders
from jishi.orders.models import Order
from jishi.payments.services import pay_with_wallet
from jishi.testing.factories import OperatorFactory
from jishi.testing.shop import Shopper, skus

from .helpers import chain, configure

pytestmark = pytest.mark.django_db


def balance(s: Shopper, kind: str) -> int:
    return ledger.balance_of(s.user.pk, kind)


def two_line_order(buyer: Shopper, *prices: int) -> Order:
    items = skus(*prices, stock=100)
    order = orders.place_order(buyer.user, [(sku.pk, 1) for sku in items], buyer.address.pk)
    pay_with_wallet(buyer.user, order.pk)
    deliver_pending()
    order.refresh_from_db()
    return order


def complete_and_unfreeze(order: Order) -> None:
    orders.ship_order(OperatorFactory(), order.pk, "SF", "SF1")
    order.refresh_from_db()
    orders.complete_order(order)
    deliver_pending()
    commission.unfreeze_due(now=timezone.now() + timedelta(days=30))


def refund_all(order: Order) -> None:
    order.refresh_from_db()
    lines = [(line.pk, line.quantity - line.refunded_quantity) for line in order.lines.all()]
    room = orders.max_refundable(order, dict(lines))
    case = orders.request_after_sale(order.user, order.pk, lines, room, "退货")
    orders.approve_after_sale(None, case.pk)
    deliver_pending()


def test_two_available_commissions_of_one_promoter_reverse_against_one_balance() -> None:
    """Defect 2: each commission was capped against the same available balance."""
    configure(levels=1)
    promoter, buyer = chain(2, wallet=100_000)
    order = two_line_order(buyer, 10_000, 20_000)  # 1,000 + 2,000 commission
    complete_and_unfreeze(order)
    assert balance(promoter, AccountKind.COMMISSION_AVAILABLE) == 3_000
    commission.request_withdrawal(promoter.user, 2_000, "wallet", minimum=1_000, fee_bp=0)
    commission.approve_withdrawal(OperatorFactory(), Withdrawal.objects.get().pk)  # 1,000 left available

    refund_all(order)

    assert OutboxEvent.objects.filter(dispatched_at__isnull=True).count() == 0  # the handler did not fail
    assert balance(promoter, AccountKind.COMMISSION_AVAILABLE) == 0
    assert balance(promoter, AccountKind.COMMISSION_DEBT) == -2_000  # what was already withdrawn is owed
    assert set(Commission.objects.values_list("status", flat=True)) == {CommissionStatus.REVERSED}
    assert ledger.check_ledger() == []


def test_a_refund_delivered_before_its_grant_waits_and_then_reverses_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Defect 5: order.refunded ran while order.paid's grant was failing, so the grant was never reversed."""
    configure(levels=1)
    promoter, buyer = chain(2, wallet=100_000)
    real = services.settle_paid_order
    failures = [1]

    def flaky(payload: dict[str, Any]) -> None:
        if failures:
            raise RuntimeError("deadlock detected")
        real(payload)

    monkeypatch.setattr(services, "settle_paid_order", flaky)
    (sku,) = skus(40_000, stock=10)
    order = orders.place_order(buyer.user, [(sku.pk, 1)], buyer.address.pk)
    pay_with_wallet(buyer.user, order.pk)
    deliver_pending()  # the grant fails
    order.refresh_from_db()
    line = order.lines.get()
    case = orders.request_after_sale(buyer.user, order.pk, [(line.pk, 1)], 20_000, "半价退")
    orders.approve_after_sale(None, case.pk)
    deliver_pending()  # order.refunded must wait behind the failing order.paid
    assert Commission.objects.count() == 0
    assert OutboxEvent.objects.get(name="order.refunded").dispatched_at is None

    failures.clear()
    deliver_pending()

    row = Commission.objects.get()
    assert (row.amount, row.reversed_amount) == (4_000, 2_000)
    assert balance(promoter, AccountKind.COMMISSION_FROZEN) == 2_000
    assert ledger.check_ledger() == []


def test_order_completed_before_paid_still_schedules_the_unfreeze(monkeypatch: pytest.MonkeyPatch) -> None:
    """Defect 5: order.completed handled before order.paid left the commission frozen forever."""
    configure(levels=1)
    promoter, buyer = chain(2, wallet=100_000)
    real = services.settle_paid_order
    failures = [1]
    monkeypatch.setattr(
        services, "settle_paid_order", lambda p: (_ for _ in ()).throw(RuntimeError("x")) if failures else real(p)
    )
    (sku,) = skus(10_000, stock=10)
    order = orders.place_order(buyer.user, [(sku.pk, 1)], buyer.address.pk)
    pay_with_wallet(buyer.user, order.pk)
    deliver_pending()
    orders.ship_order(OperatorFactory(), order.pk, "SF", "1")
    order.refresh_from_db()
    orders.complete_order(order)
    deliver_pending()
    failures.clear()
    deliver_pending()

    assert Commission.objects.get().unfreeze_at is not None
    assert commission.unfreeze_due(now=timezone.now() + timedelta(days=30)) == 1
    assert balance(promoter, AccountKind.COMMISSION_AVAILABLE) == 1_000
    assert ledger.check_ledger() == []


def test_rejecting_a_withdrawal_pays_the_debt_that_arose_meanwhile_first() -> None:
    """Defect 8: the returned withdrawal went back to available beside an open debt."""
    configure(levels=1)
    promoter, buyer = chain(2, wallet=100_000)
    order = two_line_order(buyer, 30_000)
    complete_and_unfreeze(order)
    withdrawal = commission.request_withdrawal(promoter.user, 3_000, "alipay", "a@b.c", minimum=1_000, fee_bp=0)
    refund_all(order)  # the whole commission reversed while its money is held by the withdrawal
    assert balance(promoter, AccountKind.COMMISSION_DEBT) == -3_000

    commission.reject_withdrawal(OperatorFactory(), withdrawal.pk, "信息有误")

    assert balance(promoter, AccountKind.COMMISSION_DEBT) == 0
    assert balance(promoter, AccountKind.COMMISSION_AVAILABLE) == 0  # nothing left to withdraw
    assert Withdrawal.objects.get().debt_repaid == 3_000
    assert ledger.check_ledger() == []


def test_paying_out_a_withdrawal_settles_the_debt_that_arose_meanwhile_first() -> None:
    configure(levels=1, withdrawal_fee_bp=100)
    promoter, buyer = chain(2, wallet=100_000)
    first = two_line_order(buyer, 30_000)
    second = two_line_order(buyer, 20_000)
    complete_and_unfreeze(first)
    complete_and_unfreeze(second)
    withdrawal = commission.request_withdrawal(promoter.user, 5_000, "wallet", minimum=1_000, fee_bp=100)
    refund_all(second)  # 2,000 reversed while held: a debt

    paid = commission.approve_withdrawal(OperatorFactory(), withdrawal.pk)

    assert (paid.status, paid.debt_repaid, paid.fee, paid.net) == (WithdrawalStatus.PAID, 2_000, 30, 2_970)
    assert balance(promoter, AccountKind.COMMISSION_DEBT) == 0
    assert balance(promoter, AccountKind.WALLET) == 100_000 + 2_970
    assert ledger.check_ledger() == []


def test_a_freeze_shorter_than_the_after_sales_window_waits_for_the_window(settings: Any) -> None:
    configure(levels=1, freeze_days=1)
    _promoter, buyer = chain(2, wallet=100_000)
    order = two_line_order(buyer, 10_000)
    orders.ship_order(OperatorFactory(), order.pk, "SF", "1")
    order.refresh_from_db()
    orders.complete_order(order)
    deliver_pending()
    order.refresh_from_db()

    row = Commission.objects.get()
    assert row.unfreeze_at == order.completed_at + timedelta(days=settings.JISHI["AFTER_SALE_DAYS"])
    assert commission.unfreeze_due(now=order.completed_at + timedelta(days=2)) == 0


def test_a_case_being_refunded_blocks_unfreezing(settings: Any) -> None:
    configure(levels=1)
    _promoter, buyer = chain(2, wallet=100_000)
    order = two_line_order(buyer, 10_000)
    orders.ship_order(OperatorFactory(), order.pk, "SF", "1")
    order.refresh_from_db()
    orders.complete_order(order)
    deliver_pending()
    line = order.lines.get()
    case = orders.request_after_sale(buyer.user, order.pk, [(line.pk, 1)], 5_000, "坏了")
    later = timezone.now() + timedelta(days=30)
    assert commission.unfreeze_due(now=later) == 0  # pending case
    orders.cancel_after_sale(buyer.user, case.pk)
    assert commission.unfreeze_due(now=later) == 1
