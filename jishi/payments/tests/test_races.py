"""Races on one order's money: pinned deterministically (run_before/run_after) and with real threads."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from jishi.core import ledger
from jishi.core.errors import Conflict
from jishi.orders import services as orders
from jishi.orders.models import AfterSale, AfterSaleStatus, Order, OrderStatus
from jishi.payments import services
from jishi.payments.models import Payment, PaymentStatus, Refund, RefundStatus
from jishi.testing.concurrency import errors, race
from jishi.testing.factories import OperatorFactory
from jishi.testing.fake_alipay import FakeAlipay
from jishi.testing.race_condition import run_after, run_before
from jishi.testing.shop import shopper

from .test_refund_intent import case_for, paid_with_alipay

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def alipay(settings: Any) -> Iterator[FakeAlipay]:
    fake = FakeAlipay()
    settings.JISHI_PAYMENTS = {**settings.JISHI_PAYMENTS, "ALIPAY": fake.config(), "HTTP_TIMEOUT_SECONDS": 5}
    yield fake
    fake.close()


def test_the_buyer_cannot_cancel_between_the_recorded_refund_and_the_provider_call(alipay: FakeAlipay) -> None:
    order = paid_with_alipay(shopper(), alipay)
    case = case_for(order)

    with run_before("jishi.orders.hooks.execute_refund", lambda: orders.cancel_after_sale(order.user, case.pk)) as r:
        orders.approve_after_sale(OperatorFactory(), case.pk)

    assert isinstance(r.error, Conflict) and r.error.code == "after_sale_closed"
    assert AfterSale.objects.get(pk=case.pk).status == AfterSaleStatus.REFUNDED
    assert Refund.objects.get().status == RefundStatus.SUCCEEDED
    assert ledger.check_ledger() == []


def test_a_replayed_notify_during_an_approval_queues_behind_the_order_lock(alipay: FakeAlipay) -> None:
    """The notify used to lock the payment, then the order; the approval the order, then the
    payment: on PostgreSQL the two deadlocked. Both now take the order first."""
    order = paid_with_alipay(shopper(), alipay)
    case = case_for(order)
    payment = Payment.objects.get(order=order, status=PaymentStatus.PAID)
    notice = services._provider_notice(payment)
    assert notice is not None

    with run_after("jishi.orders.locks.lock_case", lambda: services.apply_notice("alipay", notice)) as r:
        orders.approve_after_sale(OperatorFactory(), case.pk)

    assert (r.error, r.result) == (None, "duplicate")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.REFUNDED
    assert ledger.check_ledger() == []


def test_notifies_and_approvals_on_the_same_orders_at_once_never_deadlock(alipay: FakeAlipay) -> None:
    paid = [paid_with_alipay(shopper(), alipay) for _ in range(6)]
    cases = [case_for(order) for order in paid]
    notices = [services._provider_notice(Payment.objects.get(order=o, status=PaymentStatus.PAID)) for o in paid]
    operator = OperatorFactory()

    def work(i: int) -> Any:
        if i % 2:
            return orders.approve_after_sale(operator, cases[i // 2].pk).status
        notice = notices[i // 2]
        assert notice is not None
        return services.apply_notice("alipay", notice)

    results = race(12, work)

    assert errors(results) == []
    assert sorted(map(str, results)) == sorted(["duplicate"] * 6 + [AfterSaleStatus.REFUNDED] * 6)
    assert set(Order.objects.values_list("status", flat=True)) == {OrderStatus.REFUNDED}
    assert ledger.check_ledger() == []
