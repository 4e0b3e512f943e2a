from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import Api
from jishi.core import ledger
from jishi.core.models import AccountKind, AuditLog, OutboxEvent
from jishi.orders import services as orders
from jishi.orders.models import Order, OrderStatus
from jishi.payments import services
from jishi.payments.models import NoticeLog, Payment, PaymentStatus
from jishi.payments.providers import get_provider
from jishi.testing.shop import shopper, skus

pytestmark = pytest.mark.django_db


def wallet(user: Any) -> int:
    return ledger.balance_of(user.pk, AccountKind.WALLET)


def platform(kind: str, name: str = "") -> int:
    return ledger.balance(f"platform:{kind}" + (f":{name}" if name else ""))


def new_order(s: Any, *prices: int, stock: int = 10) -> Order:
    items = skus(*prices, stock=stock)
    return orders.place_order(s.user, [(sku.pk, 1) for sku in items], s.address.pk)


def test_wallet_payment_debits_the_wallet_and_pays_the_order() -> None:
    s = shopper(wallet=50_000)
    order = new_order(s, 19900)
    response = Api(s.token).post(f"orders/{order.pk}/pay", {"method": "wallet"})
    assert response.status_code == 200
    assert response.json()["status"] == "paid"
    order.refresh_from_db()
    assert (order.status, order.paid_amount, order.payment_method) == ("paid", 20900, "wallet")
    assert wallet(s.user) == 50_000 - 20900
    assert platform(AccountKind.PLATFORM_REVENUE) == 20900
    event = OutboxEvent.objects.get(name="order.paid")
    assert event.payload["paid_amount"] == 20900
    assert event.payload["lines"][0]["paid_amount"] == 19900
    assert ledger.check_ledger() == []


def test_short_wallet_is_409_and_changes_nothing() -> None:
    s = shopper(wallet=1000)
    order = new_order(s, 19900)
    response = Api(s.token).post(f"orders/{order.pk}/pay", {"method": "wallet"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "insufficient_balance"
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT
    assert wallet(s.user) == 1000
    assert Payment.objects.count() == 0
    assert not OutboxEvent.objects.filter(name="order.paid").exists()


def test_paying_twice_is_refused() -> None:
    s = shopper(wallet=50_000)
    order = new_order(s, 1000)
    api = Api(s.token)
    api.post(f"orders/{order.pk}/pay", {"method": "wallet"})
    again = api.post(f"orders/{order.pk}/pay", {"method": "wallet"})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "order_not_payable"
    assert wallet(s.user) == 50_000 - 2000


def test_expired_order_cannot_be_paid() -> None:
    s = shopper(wallet=50_000)
    order = new_order(s, 1000)
    Order.objects.filter(pk=order.pk).update(pay_deadline=timezone.now() - timedelta(seconds=1))
    response = Api(s.token).post(f"orders/{order.pk}/pay", {"method": "wallet"})
    assert response.json()["error"]["code"] == "order_expired"


def test_pay_query_counts_stay_small() -> None:
    s = shopper(wallet=50_000)
    order = new_order(s, 1000, 2000, 3000)
    api = Api(s.token)
    with CaptureQueriesContext(connection) as queries:
        assert api.post(f"orders/{order.pk}/pay", {"method": "wallet"}).status_code == 200
    print("\npay queries:", len(queries))
    # 13 in production; the test's own transaction adds a SAVEPOINT/RELEASE pair and the
    # first use of the revenue account creates it (SAVEPOINT, INSERT, RELEASE).
    assert len(queries) <= 18, [q["sql"] for q in queries]


def start_sandbox(s: Any, order: Order) -> dict[str, Any]:
    body = Api(s.token).post(f"orders/{order.pk}/pay", {"method": "sandbox"}).json()
    assert body["pay_url"] == f"/pay/sandbox/{body['payment_no']}/"
    return body


def test_sandbox_payment_completes_through_a_signed_notify(django_capture_on_commit_callbacks: Any) -> None:
    s = shopper()
    order = new_order(s, 5000)
    started = start_sandbox(s, order)
    with django_capture_on_commit_callbacks(execute=True):
        response = Api(s.token).post(f"payments/sandbox/{started['payment_id']}/complete")
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert Payment.objects.get(pk=started["payment_id"]).status == PaymentStatus.PAID
    assert list(NoticeLog.objects.values_list("outcome", "verified")) == [("paid", True)]
    assert platform(AccountKind.PLATFORM_CASH, "sandbox") == -6000
    assert ledger.check_ledger() == []


def signed(payment: Payment, amount: int | None = None, txn: str = "SBTXN1") -> tuple[bytes, dict[str, str]]:
    provider = get_provider("sandbox")
    return provider.sign_notify(payment.payment_no, payment.amount if amount is None else amount, "CNY", txn)  # type: ignore[attr-defined]


def post_notify(body: bytes, headers: dict[str, str]) -> Any:
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    return Api().client.post("/api/v1/payments/notify/sandbox", data=body, content_type="application/json", **extra)


def test_notify_endpoint_pays_once_even_when_repeated() -> None:
    s = shopper()
    order = new_order(s, 5000)
    payment = Payment.objects.get(pk=start_sandbox(s, order)["payment_id"])
    body, headers = signed(payment)
    first = post_notify(body, headers)
    second = post_notify(body, headers)
    assert (first.status_code, first.content) == (200, b"success")
    assert (second.status_code, second.content) == (200, b"success")
    assert list(NoticeLog.objects.order_by("id").values_list("outcome", flat=True)) == ["paid", "duplicate"]
    assert platform(AccountKind.PLATFORM_REVENUE) == 6000
    assert OutboxEvent.objects.filter(name="order.paid").count() == 1


def test_tampered_notify_is_rejected_and_logged() -> None:
    s = shopper()
    order = new_order(s, 5000)
    payment = Payment.objects.get(pk=start_sandbox(s, order)["payment_id"])
    body, headers = signed(payment)
    forged = body.replace(b'"amount":6000', b'"amount":1')
    response = post_notify(forged, headers)
    assert (response.status_code, response.content) == (400, b"fail")
    assert NoticeLog.objects.get().outcome == "invalid_signature"
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT


def test_notify_without_signature_is_rejected() -> None:
    response = post_notify(b'{"payment_no": "x"}', {})
    assert response.status_code == 400
    assert NoticeLog.objects.get().outcome == "invalid_signature"


def test_amount_mismatch_is_rejected_and_logged() -> None:
    s = shopper()
    order = new_order(s, 5000)
    payment = Payment.objects.get(pk=start_sandbox(s, order)["payment_id"])
    response = post_notify(*signed(payment, amount=1))
    assert response.status_code == 400
    assert NoticeLog.objects.get().outcome == "amount_mismatch"
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT
    assert platform(AccountKind.PLATFORM_REVENUE) == 0


def test_unknown_provider_notify_is_404() -> None:
    assert (
        Api().client.post("/api/v1/payments/notify/paypal", data=b"{}", content_type="application/json").status_code
        == 404
    )


def test_payment_arriving_after_close_is_refunded() -> None:
    s = shopper()
    order = new_order(s, 5000)
    payment = Payment.objects.get(pk=start_sandbox(s, order)["payment_id"])
    orders.close_expired_orders(now=timezone.now() + timedelta(hours=1))
    response = post_notify(*signed(payment))
    assert response.status_code == 200
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUNDED_LATE
    assert payment.refunded_amount == 6000
    order.refresh_from_db()
    assert order.status == OrderStatus.CLOSED
    assert platform(AccountKind.PLATFORM_REVENUE) == 0
    assert platform(AccountKind.PLATFORM_CASH, "sandbox") == 0
    assert ledger.check_ledger() == []


def test_reconciliation_pays_an_approved_payment_that_never_got_its_notify() -> None:
    s = shopper()
    order = new_order(s, 5000)
    started = start_sandbox(s, order)
    services.approve_sandbox_payment(s.user, started["payment_id"])  # on_commit never runs here: notify "lost"
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING_PAYMENT
    assert services.reconcile_pending_payments(now=timezone.now()) == 0  # too fresh to chase
    assert services.reconcile_pending_payments(now=timezone.now() + timedelta(minutes=5)) == 1
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID


def test_sandbox_complete_is_private() -> None:
    s, other = shopper(), shopper()
    order = new_order(s, 5000)
    started = start_sandbox(s, order)
    assert Api(other.token).post(f"payments/sandbox/{started['payment_id']}/complete").status_code == 404
    assert Api(other.token).get(f"payments/{started['payment_id']}").status_code == 404


def test_unknown_method_is_422() -> None:
    s = shopper()
    order = new_order(s, 5000)
    assert Api(s.token).post(f"orders/{order.pk}/pay", {"method": "paypal"}).status_code == 422


def test_operator_top_up_is_audited_and_buyers_cannot(operator_api: Any) -> None:
    s = shopper()
    response = operator_api.post("admin/wallet/top-up", {"phone": s.user.phone, "amount": 8800, "note": "活动补偿"})
    assert response.json() == {"phone": s.user.phone, "balance": 8800}
    log = AuditLog.objects.get(action="wallet.top_up")
    assert log.data == {"amount": 8800, "note": "活动补偿"}
    assert Api(s.token).post("admin/wallet/top-up", {"phone": s.user.phone, "amount": 1}).status_code == 403
    assert operator_api.post("admin/wallet/top-up", {"phone": "13000000000", "amount": 1}).status_code == 404
    assert Api(s.token).get("wallet").json()["balance"] == 8800


def test_top_up_replay_with_idempotency_key_credits_once(operator_api: Any) -> None:
    s = shopper()
    body = {"phone": s.user.phone, "amount": 500}
    for _ in range(3):
        operator_api.post("admin/wallet/top-up", body, headers={"Idempotency-Key": "topup-1"})
    assert wallet(s.user) == 500


def test_wallet_shows_history() -> None:
    s = shopper(wallet=10_000)
    order = new_order(s, 1000)
    services.pay_with_wallet(s.user, order.pk)
    body = Api(s.token).get("wallet").json()
    assert body["balance"] == 8000
    assert [e["amount"] for e in body["entries"]] == [-2000, 10_000]
    assert json.dumps(body)
