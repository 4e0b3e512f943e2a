"""Refunds are recorded before the provider is asked and settled after it answers.

Through the real Alipay adapter against a stateful local gateway: the provider down, the client
crashing after the provider paid, the worker killed mid-call, a refund still processing."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from jishi.core import ledger
from jishi.core.errors import Conflict
from jishi.core.events import deliver_pending
from jishi.core.models import Transaction
from jishi.orders import services as orders
from jishi.orders.models import AfterSale, AfterSaleStatus, Order, OrderStatus
from jishi.payments import services
from jishi.payments.models import Payment, PaymentMethod, PaymentStatus, Refund, RefundStatus
from jishi.payments.providers import ProviderError, RefundResult
from jishi.testing.factories import OperatorFactory
from jishi.testing.fake_alipay import FakeAlipay, FakeTrade
from jishi.testing.processes import child_env, spawn_python
from jishi.testing.shop import Shopper, shopper, skus

pytestmark = pytest.mark.django_db
LATER = timedelta(minutes=5)


@pytest.fixture
def alipay(settings: Any) -> Iterator[FakeAlipay]:
    fake = FakeAlipay()
    settings.JISHI_PAYMENTS = {**settings.JISHI_PAYMENTS, "ALIPAY": fake.config(), "HTTP_TIMEOUT_SECONDS": 5}
    yield fake
    fake.close()


def paid_with_alipay(s: Shopper, alipay: FakeAlipay, price: int = 10_000) -> Order:
    """An order paid at Alipay whose notify was lost: reconciliation finds it paid."""
    (sku,) = skus(price)
    order = orders.place_order(s.user, [(sku.pk, 1)], s.address.pk)
    started = services.start_payment(s.user, order.pk, PaymentMethod.ALIPAY)
    alipay.buyer_pays(started["payment_no"], order.payable)
    assert services.reconcile_pending_payments(now=timezone.now() + LATER) == 1
    deliver_pending()
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    return order


def case_for(order: Order, amount: int | None = None) -> AfterSale:
    line = order.lines.get()
    return orders.request_after_sale(order.user, order.pk, [(line.pk, 1)], amount or order.paid_amount, "不想要了")


def refund_postings(order: Order) -> int:
    return Transaction.objects.filter(kind="order_refund", reference=f"order:{order.pk}").count()


def test_an_approved_refund_is_made_once_and_settled(alipay: FakeAlipay) -> None:
    order = paid_with_alipay(shopper(), alipay)
    case = case_for(order)

    approved = orders.approve_after_sale(OperatorFactory(), case.pk)

    refund = Refund.objects.get()
    assert (approved.status, refund.status, refund.refund_no, refund.amount) == (
        AfterSaleStatus.REFUNDED,
        RefundStatus.SUCCEEDED,
        case.number,
        order.paid_amount,
    )
    assert Order.objects.get(pk=order.pk).status == OrderStatus.REFUNDED
    assert alipay.trades[refund.payment.payment_no].refunded == order.paid_amount
    assert refund_postings(order) == 1
    assert ledger.check_ledger() == []


def test_provider_down_leaves_the_refund_requested_and_the_case_can_no_longer_be_undone(
    alipay: FakeAlipay,
) -> None:
    order = paid_with_alipay(shopper(), alipay)
    case = case_for(order)
    alipay.unavailable.add("alipay.trade.refund")

    with pytest.raises(ProviderError):
        orders.approve_after_sale(OperatorFactory(), case.pk)

    refund = Refund.objects.get()
    assert (refund.status, refund.attempts, refund.refund_no) == (RefundStatus.REQUESTED, 1, case.number)
    assert AfterSale.objects.get(pk=case.pk).status == AfterSaleStatus.REFUNDING
    assert Order.objects.get(pk=order.pk).status == OrderStatus.REFUNDING
    # Attempted: the buyer can no longer cancel it (and ask again under a new number), nor can it be rejected.
    with pytest.raises(Conflict) as cancelled:
        orders.cancel_after_sale(order.user, case.pk)
    with pytest.raises(Conflict) as rejected:
        orders.reject_after_sale(OperatorFactory(), case.pk, "no")
    assert cancelled.value.code == rejected.value.code == "after_sale_closed"
    assert ledger.check_ledger() == []  # nothing booked yet, and the book agrees

    alipay.unavailable.clear()
    assert services.resume_refunds(now=timezone.now() + LATER) == 1

    assert Refund.objects.get().status == RefundStatus.SUCCEEDED
    assert AfterSale.objects.get(pk=case.pk).status == AfterSaleStatus.REFUNDED
    assert [c["out_request_no"] for c in alipay.refund_calls()] == [case.number, case.number]
    assert alipay.trades[refund.payment.payment_no].refunded == order.paid_amount
    assert refund_postings(order) == 1
    assert ledger.check_ledger() == []


def test_a_crash_after_the_provider_paid_is_resumed_without_paying_twice(
    alipay: FakeAlipay, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = paid_with_alipay(shopper(), alipay)
    case = case_for(order, 4_000)
    real_settle = services.settle_refund

    def crash(refund_id: int, result: RefundResult) -> Refund:
        raise RuntimeError("worker died after the provider answered")

    monkeypatch.setattr(services, "settle_refund", crash)
    with pytest.raises(RuntimeError):
        orders.approve_after_sale(OperatorFactory(), case.pk)
    payment_no = Refund.objects.get().payment.payment_no
    assert alipay.trades[payment_no].refunded == 4_000  # the provider has paid
    assert Refund.objects.get().status == RefundStatus.REQUESTED
    # The buyer cannot cancel and ask again under a new number (the double refund of defect 1).
    with pytest.raises(Conflict):
        orders.cancel_after_sale(order.user, case.pk)

    monkeypatch.setattr(services, "settle_refund", real_settle)
    assert services.resume_refunds(now=timezone.now() + LATER) == 1
    assert services.resume_refunds(now=timezone.now() + LATER) == 0

    assert alipay.trades[payment_no].refunded == 4_000
    assert Payment.objects.get(payment_no=payment_no).refunded_amount == 4_000
    assert Order.objects.get(pk=order.pk).refunded_amount == 4_000
    assert refund_postings(order) == 1
    assert ledger.check_ledger() == []


def test_a_failed_group_style_system_refund_is_retried_under_the_same_number(alipay: FakeAlipay) -> None:
    order = paid_with_alipay(shopper(), alipay)
    alipay.unavailable.add("alipay.trade.refund")
    with pytest.raises(ProviderError):
        orders.refund_whole_order(order, "拼团未成功")
    with pytest.raises(ProviderError):
        orders.refund_whole_order(order, "拼团未成功")  # the next run of the job

    alipay.unavailable.clear()
    case = orders.refund_whole_order(order, "拼团未成功")

    assert AfterSale.objects.count() == Refund.objects.count() == 1
    assert case.status == AfterSaleStatus.REFUNDED
    assert {c["out_request_no"] for c in alipay.refund_calls()} == {case.number}
    assert Order.objects.get(pk=order.pk).status == OrderStatus.REFUNDED
    assert ledger.check_ledger() == []


def test_a_refused_refund_fails_visibly_and_an_operator_can_retry_it(alipay: FakeAlipay) -> None:
    order = paid_with_alipay(shopper(), alipay)
    case = case_for(order)
    payment_no = Payment.objects.get(order=order).payment_no
    alipay.trades[payment_no].status = "TRADE_CLOSED"  # Alipay refuses refunds of a closed trade

    with pytest.raises(services.RefundRefused):
        orders.approve_after_sale(OperatorFactory(), case.pk)
    refund = Refund.objects.get()
    assert (refund.status, AfterSale.objects.get(pk=case.pk).status) == (RefundStatus.FAILED, AfterSaleStatus.REFUNDING)
    assert "ACQ.TRADE_STATUS_ERROR" in refund.last_error
    assert services.resume_refunds(now=timezone.now() + LATER) == 0  # refused refunds wait for a person

    alipay.trades[payment_no].status = "TRADE_SUCCESS"
    assert services.retry_refund(OperatorFactory(), refund.pk).status == RefundStatus.SUCCEEDED
    assert AfterSale.objects.get(pk=case.pk).status == AfterSaleStatus.REFUNDED
    assert ledger.check_ledger() == []


def test_a_refund_still_processing_books_nothing_until_the_provider_says_success(alipay: FakeAlipay) -> None:
    order = paid_with_alipay(shopper(), alipay)
    case = case_for(order)
    alipay.unavailable.add("alipay.trade.refund")
    with pytest.raises(ProviderError):
        orders.approve_after_sale(OperatorFactory(), case.pk)
    refund = Refund.objects.get()
    payment = refund.payment

    # WeChat Pay answers PROCESSING first: accepted, but no money has moved yet.
    services.settle_refund(refund.pk, RefundResult(refund.refund_no, "processing"))
    assert Refund.objects.get().status == RefundStatus.PROCESSING
    assert refund_postings(order) == 0
    assert Payment.objects.get(pk=payment.pk).refunded_amount == 0
    assert AfterSale.objects.get(pk=case.pk).status == AfterSaleStatus.REFUNDING
    assert ledger.check_ledger() == []

    services.settle_refund(refund.pk, RefundResult(refund.refund_no, "succeeded", "WXR1"))
    services.settle_refund(refund.pk, RefundResult(refund.refund_no, "succeeded", "WXR1"))  # a replay
    refund.refresh_from_db()
    assert (refund.status, refund.provider_refund_id) == (RefundStatus.SUCCEEDED, "WXR1")
    assert refund_postings(order) == 1
    assert Order.objects.get(pk=order.pk).status == OrderStatus.REFUNDED
    assert ledger.check_ledger() == []


def test_a_processing_refund_is_followed_up_by_the_refund_query(alipay: FakeAlipay) -> None:
    order = paid_with_alipay(shopper(), alipay)
    case = case_for(order)
    alipay.unavailable.add("alipay.trade.refund")
    with pytest.raises(ProviderError):
        orders.approve_after_sale(OperatorFactory(), case.pk)
    refund = Refund.objects.get()
    services.settle_refund(refund.pk, RefundResult(refund.refund_no, "processing"))
    alipay.trades[refund.payment.payment_no].refunds[refund.refund_no] = refund.amount  # finished at the provider

    assert services.resume_refunds(now=timezone.now() + LATER) == 1

    methods = [method for method, _biz in alipay.calls]
    assert methods[-1] == "alipay.trade.fastpay.refund.query"
    assert Refund.objects.get().status == RefundStatus.SUCCEEDED
    assert AfterSale.objects.get(pk=case.pk).status == AfterSaleStatus.REFUNDED
    assert ledger.check_ledger() == []


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_during_the_provider_call_completes_the_refund_exactly_once(alipay: FakeAlipay) -> None:
    order = paid_with_alipay(shopper(), alipay)
    case = case_for(order)
    alipay.unavailable.add("alipay.trade.refund")
    with pytest.raises(ProviderError):
        orders.approve_after_sale(OperatorFactory(), case.pk)
    alipay.unavailable.clear()
    alipay.hold_refunds.set()  # the gateway records the refund, then keeps the worker waiting

    resume = (
        "import django; django.setup(); from datetime import timedelta; from django.utils import timezone; "
        "from jishi.payments.services import resume_refunds; "
        "print(resume_refunds(now=timezone.now() + timedelta(minutes=5)))"
    )
    worker = spawn_python(resume, env=child_env(**alipay.env()))
    assert alipay.refund_received.wait(60), worker.stderr.read() if worker.stderr else ""
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    payment_no = Payment.objects.get(order=order).payment_no
    assert alipay.trades[payment_no].refunded == order.paid_amount  # paid out at the provider
    assert Refund.objects.get().status == RefundStatus.REQUESTED  # ...and not settled here
    alipay.hold_refunds.clear()

    restarted = spawn_python(resume, env=child_env(**alipay.env()))
    out, err = restarted.communicate(timeout=60)
    assert restarted.returncode == 0, err
    assert out.strip() == "1"

    assert len(alipay.refund_calls()) == 3  # the first (provider down), the killed one, the resumed one
    assert alipay.trades[payment_no].refunded == order.paid_amount  # still once
    assert Refund.objects.get().status == RefundStatus.SUCCEEDED
    assert refund_postings(order) == 1
    assert Order.objects.get(pk=order.pk).refunded_amount == order.paid_amount
    deadline = time.monotonic() + 5
    while AfterSale.objects.get(pk=case.pk).status != AfterSaleStatus.REFUNDED and time.monotonic() < deadline:
        time.sleep(0.05)
    assert AfterSale.objects.get(pk=case.pk).status == AfterSaleStatus.REFUNDED
    assert Payment.objects.filter(status=PaymentStatus.PAID, order=order).count() == 1
    assert ledger.check_ledger() == []


# --- payments that never settle end, and reconciliation reaches every one that can ------------


def test_reconciliation_reaches_an_old_payment_behind_many_newer_abandoned_ones(alipay: FakeAlipay) -> None:
    """Defect 6: the 200 newest stale payments were taken, and a lost notify behind them never queried."""
    s = shopper()
    (sku,) = skus(1_000, stock=500)
    lost = orders.place_order(s.user, [(sku.pk, 1)], s.address.pk)
    lost_payment = services.start_payment(s.user, lost.pk, PaymentMethod.ALIPAY)
    alipay.buyer_pays(lost_payment["payment_no"], lost.payable)  # paid; its notify never arrived
    for _ in range(210):  # then 210 buyers abandon the cashier
        order = orders.place_order(s.user, [(sku.pk, 1)], s.address.pk)
        services.start_payment(s.user, order.pk, PaymentMethod.ALIPAY)

    assert services.reconcile_pending_payments(now=timezone.now() + LATER, batch=50) == 1

    assert Order.objects.get(pk=lost.pk).status == OrderStatus.PAID
    assert Payment.objects.filter(status=PaymentStatus.PENDING).count() == 210


def test_a_closed_order_closes_its_trade_at_the_provider(alipay: FakeAlipay) -> None:
    s = shopper()
    (sku,) = skus(1_000)
    order = orders.place_order(s.user, [(sku.pk, 1)], s.address.pk)
    started = services.start_payment(s.user, order.pk, PaymentMethod.ALIPAY)
    alipay.trades[started["payment_no"]] = FakeTrade(amount=order.payable)  # the cashier was opened, unpaid
    orders.close_order(order)

    assert services.close_abandoned_payments() == 1

    assert Payment.objects.get(payment_no=started["payment_no"]).status == PaymentStatus.CLOSED
    assert alipay.trades[started["payment_no"]].status == "TRADE_CLOSED"
    assert ledger.check_ledger() == []


def test_a_trade_paid_just_before_its_order_closed_is_refunded_not_closed(alipay: FakeAlipay) -> None:
    s = shopper()
    (sku,) = skus(1_000)
    order = orders.place_order(s.user, [(sku.pk, 1)], s.address.pk)
    started = services.start_payment(s.user, order.pk, PaymentMethod.ALIPAY)
    alipay.buyer_pays(started["payment_no"], order.payable)
    orders.close_order(order)

    services.close_abandoned_payments()

    payment = Payment.objects.get(payment_no=started["payment_no"])
    assert payment.status == PaymentStatus.REFUNDED_LATE
    assert Refund.objects.get(payment=payment).status == RefundStatus.SUCCEEDED
    assert alipay.trades[started["payment_no"]].refunded == order.payable
    assert ledger.check_ledger() == []


def test_a_closed_sandbox_payment_cannot_be_paid_any_more() -> None:
    s = shopper()
    (sku,) = skus(1_000)
    order = orders.place_order(s.user, [(sku.pk, 1)], s.address.pk)
    started = services.start_payment(s.user, order.pk, PaymentMethod.SANDBOX)
    orders.close_order(order)
    services.close_abandoned_payments()

    with pytest.raises(Conflict) as refused:
        services.approve_sandbox_payment(s.user, started["payment_id"])
    assert refused.value.code == "payment_not_pending"
