"""Every money movement of a purchase: paying (wallet or provider), notifies, refunds, wallet.

Ledger postings (user balances never go negative, platform accounts are the other side):
- wallet payment:   user wallet  → platform revenue           key ``pay:<payment_no>``
- provider payment: platform cash (per provider) → revenue    key ``pay:<payment_no>``
- refund:           revenue → wallet or provider cash         key ``refund:<refund_no>``
- operator top-up:  platform top-up → user wallet             key ``topup:<uuid>``
"""

from __future__ import annotations

import logging
import secrets
import uuid
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jishi.accounts.models import User
from jishi.core import audit, ledger
from jishi.core.conf import setting
from jishi.core.errors import Conflict, InvalidInput, NotFound
from jishi.core.models import AccountKind
from jishi.orders import services as orders
from jishi.orders.models import AfterSale, Order, OrderStatus

from .models import NoticeLog, Payment, PaymentMethod, PaymentStatus, Refund
from .providers import InvalidNotify, Notice, PaymentRequest, get_provider

log = logging.getLogger(__name__)


def _payment_no() -> str:
    return f"P{timezone.localdate():%y%m%d}{secrets.randbelow(10**12):012d}"


def _cash_account(method: str) -> Any:
    return ledger.platform_account(AccountKind.PLATFORM_CASH, method)


def _revenue() -> Any:
    return ledger.platform_account(AccountKind.PLATFORM_REVENUE)


def notify_url(method: str) -> str:
    return f"{setting('PUBLIC_URL').rstrip('/')}/api/v1/payments/notify/{method}"


def _payable_order(user: User, order_id: int) -> Order:
    order = orders.get_order(user, order_id)
    if order.status != OrderStatus.PENDING_PAYMENT:
        raise Conflict(_("订单不是待付款状态"), code="order_not_payable")
    if order.pay_deadline and order.pay_deadline < timezone.now():
        raise Conflict(_("订单已超时，请重新下单"), code="order_expired")
    return order


def start_payment(user: User, order_id: int, method: str) -> dict[str, Any]:
    if method == PaymentMethod.WALLET:
        payment = pay_with_wallet(user, order_id)
        return {
            "payment_id": payment.pk,
            "payment_no": payment.payment_no,
            "status": payment.status,
            "pay_url": "",
            "params": {},
        }
    order = _payable_order(user, order_id)
    try:
        provider = get_provider(method)
    except Exception as exc:
        raise InvalidInput(_("不支持的支付方式"), code="method_unavailable", fields={"method": [method]}) from exc
    payment = Payment.objects.create(
        payment_no=_payment_no(), order=order, user=user, method=method, amount=order.payable
    )
    start = provider.start(
        PaymentRequest(
            payment_no=payment.payment_no,
            amount=payment.amount,
            subject=f"集市订单 {order.number}",
            notify_url=notify_url(method),
            return_url=f"/orders/{order.pk}/",
        )
    )
    return {
        "payment_id": payment.pk,
        "payment_no": payment.payment_no,
        "status": payment.status,
        "pay_url": start.pay_url,
        "params": start.params,
    }


def pay_with_wallet(user: User, order_id: int) -> Payment:
    """Wallet pays at once: the order flips to paid and the wallet is debited, or neither."""
    with transaction.atomic():
        order = _payable_order(user, order_id)
        if not orders.mark_paid(order, order.payable, PaymentMethod.WALLET):
            raise Conflict(_("订单不是待付款状态"), code="order_not_payable")
        payment = Payment(
            payment_no=_payment_no(),
            order=order,
            user=user,
            method=PaymentMethod.WALLET,
            amount=order.payable,
            status=PaymentStatus.PAID,
            paid_at=timezone.now(),
        )
        if order.payable:
            ledger.transfer(
                kind="order_payment",
                key=f"pay:{payment.payment_no}",
                reference=f"order:{order.pk}",
                source=ledger.user_account(user.pk, AccountKind.WALLET),
                target=_revenue(),
                amount=order.payable,
            )
        payment.save(force_insert=True)
    return payment


def _log(provider: str, outcome: str, *, payment_no: str = "", verified: bool = False, body: bytes = b"") -> None:
    NoticeLog.objects.create(
        provider=provider,
        payment_no=payment_no[:64],
        verified=verified,
        outcome=outcome,
        body=body[:4000].decode("utf-8", "replace"),
    )


def receive_notify(method: str, body: bytes, headers: Any) -> tuple[int, str, str]:
    """Handle a provider's asynchronous notify; returns the (status, type, body) it expects."""
    try:
        provider = get_provider(method)
    except Exception as exc:
        raise NotFound() from exc
    try:
        notice = provider.parse_notify(body, headers)
    except InvalidNotify as exc:
        log.warning("rejected %s notify: %s", method, exc)
        _log(method, "invalid_signature", body=body)
        return provider.ack(False)
    outcome = apply_notice(method, notice, body)
    return provider.ack(outcome not in {"unknown_payment", "amount_mismatch"})


def apply_notice(method: str, notice: Notice, body: bytes = b"") -> str:
    """Apply a verified notice (from a notify or a query). Replays and late notices are safe."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update().filter(payment_no=notice.payment_no, method=method).first()
        if payment is None:
            outcome = "unknown_payment"
        elif notice.amount != payment.amount or notice.currency != payment.currency:
            log.error(
                "amount mismatch on %s: notice %s %s, expected %s %s",
                payment.payment_no,
                notice.amount,
                notice.currency,
                payment.amount,
                payment.currency,
            )
            outcome = "amount_mismatch"
        elif not notice.paid:
            outcome = "not_paid"
        elif payment.status != PaymentStatus.PENDING:
            outcome = "duplicate"
        else:
            outcome = _settle(payment, notice.provider_txn_id)
        _log(method, outcome, payment_no=notice.payment_no, verified=True, body=body)
    return outcome


def _settle(payment: Payment, txn_id: str) -> str:
    """Money arrived at the provider: book it, then pay the order or, if too late, refund."""
    order = Order.objects.select_for_update().get(pk=payment.order_id)
    ledger.transfer(
        kind="order_payment",
        key=f"pay:{payment.payment_no}",
        reference=f"order:{order.pk}",
        source=_cash_account(payment.method),
        target=_revenue(),
        amount=payment.amount,
    )
    payment.provider_txn_id = txn_id[:64]
    payment.paid_at = timezone.now()
    if orders.mark_paid(order, payment.amount, payment.method):
        payment.status = PaymentStatus.PAID
        payment.save(update_fields=["status", "provider_txn_id", "paid_at"])
        return "paid"
    # Closed (timeout) or already paid another way: the buyer gets this money back.
    payment.status = PaymentStatus.REFUNDED_LATE
    payment.save(update_fields=["status", "provider_txn_id", "paid_at"])
    _refund_payment(payment, payment.amount, f"L{payment.payment_no}", _("订单已关闭，自动退款"))
    return "refunded_late"


def _refund_payment(payment: Payment, amount: int, refund_no: str, reason: Any) -> Refund:
    if payment.method == PaymentMethod.WALLET:
        target = ledger.user_account(payment.user_id, AccountKind.WALLET)
        provider_refund_id = ""
    else:
        result = get_provider(payment.method).refund(
            payment_no=payment.payment_no,
            refund_no=refund_no,
            amount=amount,
            total=payment.amount,
            reason=str(reason),
        )
        if not result.accepted:
            raise Conflict(_("支付渠道拒绝了退款"), code="refund_refused")
        target = _cash_account(payment.method)
        provider_refund_id = result.provider_refund_id
    ledger.transfer(
        kind="order_refund",
        key=f"refund:{refund_no}",
        reference=f"order:{payment.order_id}",
        source=_revenue(),
        target=target,
        amount=amount,
    )
    Payment.objects.filter(pk=payment.pk).update(refunded_amount=payment.refunded_amount + amount)
    payment.refunded_amount += amount
    return Refund.objects.create(
        refund_no=refund_no,
        payment=payment,
        amount=amount,
        provider_refund_id=provider_refund_id,
        reason=str(reason)[:200],
    )


def refund_to_origin(order: Order, after_sale: AfterSale | None, amount: int, refund_no: str) -> None:
    """The refunder orders calls: money goes back the way it came."""
    payment = Payment.objects.select_for_update().filter(order=order, status=PaymentStatus.PAID).first()
    if payment is None:
        raise Conflict(_("订单没有可退款的支付"), code="no_payment")
    if payment.refunded_amount + amount > payment.amount:
        raise Conflict(_("退款金额超过实付金额"), code="refund_exceeds_payment")
    reason = after_sale.reason if after_sale else ""
    _refund_payment(payment, amount, refund_no, reason)


# --- sandbox ------------------------------------------------------------------------


def approve_sandbox_payment(user: User, payment_id: int) -> Payment:
    """The buyer approves at the (sandbox) provider; its signed notify follows asynchronously."""
    with transaction.atomic():
        payment = (
            Payment.objects.select_for_update().filter(pk=payment_id, user=user, method=PaymentMethod.SANDBOX).first()
        )
        if payment is None:
            raise NotFound()
        if payment.status != PaymentStatus.PENDING:
            raise Conflict(_("该支付已处理"), code="payment_not_pending")
        payment.meta = {
            **payment.meta,
            "sandbox": {
                "approved_at": timezone.now().isoformat(),
                "txn_id": f"SB{uuid.uuid4().hex[:20].upper()}",
            },
        }
        payment.save(update_fields=["meta"])
        transaction.on_commit(lambda: _enqueue_sandbox_notify(payment.pk))
    return payment


def _enqueue_sandbox_notify(payment_id: int) -> None:
    from .tasks import send_sandbox_notify

    send_sandbox_notify(payment_id)


def sandbox_notify(payment: Payment) -> tuple[bytes, dict[str, str]]:
    from .providers.sandbox import SandboxProvider

    provider = get_provider(PaymentMethod.SANDBOX)
    assert isinstance(provider, SandboxProvider)
    approved = payment.meta.get("sandbox") or {}
    return provider.sign_notify(payment.payment_no, payment.amount, payment.currency, approved.get("txn_id", ""))


def deliver_sandbox_notify(payment_id: int) -> str:
    """Send the signed notify: over HTTP to JISHI_PUBLIC_URL when set (as a real provider
    does), otherwise straight into the notify handler of this process."""
    payment = Payment.objects.filter(pk=payment_id).first()
    if payment is None or "sandbox" not in payment.meta:
        return "not_approved"
    body, headers = sandbox_notify(payment)
    base = setting("PUBLIC_URL")
    if base:
        import requests

        response = requests.post(notify_url(PaymentMethod.SANDBOX), data=body, headers=headers, timeout=10)
        return "delivered" if response.ok else f"http_{response.status_code}"
    status, _type, _body = receive_notify(PaymentMethod.SANDBOX, body, headers)
    return "delivered" if status == 200 else f"http_{status}"


# --- reconciliation -----------------------------------------------------------------


def reconcile_pending_payments(now: Any = None, limit: int = 200) -> int:
    """Payments that never got a notify: ask the provider, apply what it says."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=setting("PAYMENT_RECONCILE_AFTER_SECONDS"))
    settled = 0
    pending = Payment.objects.filter(status=PaymentStatus.PENDING, created_at__lt=cutoff).exclude(
        method=PaymentMethod.WALLET
    )
    for payment in pending[:limit]:
        if payment.method == PaymentMethod.SANDBOX:
            # The sandbox keeps its "provider side" in this database: approved means paid.
            if "sandbox" not in payment.meta:
                continue
            body, headers = sandbox_notify(payment)
            notice: Notice | None = get_provider(payment.method).parse_notify(body, headers)
        else:
            try:
                notice = get_provider(payment.method).query(payment.payment_no)
            except Exception:
                log.exception("query of %s failed", payment.payment_no)
                continue
        if notice is not None and notice.paid and apply_notice(payment.method, notice) in {"paid", "refunded_late"}:
            settled += 1
    return settled


# --- wallet -------------------------------------------------------------------------


def wallet(user: User, limit: int = 20) -> dict[str, Any]:
    account = ledger.user_account(user.pk, AccountKind.WALLET)
    return {
        "balance": account.balance,
        "entries": [
            {
                "amount": e.amount,
                "kind": e.transaction.kind,
                "reference": e.transaction.reference,
                "memo": e.transaction.memo,
                "created_at": e.transaction.created_at,
            }
            for e in ledger.history(account, limit=limit)
        ],
    }


def top_up(actor: User, phone: str, amount: int, note: str = "") -> int:
    """Operator credits a buyer's wallet (audited)."""
    if amount <= 0:
        raise InvalidInput(fields={"amount": [str(_("金额必须大于 0"))]})
    user = User.objects.filter(phone=phone).first()
    if user is None:
        raise NotFound(_("用户不存在"), fields={"phone": [phone]})
    with transaction.atomic():
        ledger.transfer(
            kind="wallet_topup",
            key=f"topup:{uuid.uuid4()}",
            reference=f"user:{user.pk}",
            memo=note[:255],
            source=ledger.platform_account(AccountKind.PLATFORM_TOPUP),
            target=ledger.user_account(user.pk, AccountKind.WALLET),
            amount=amount,
        )
        audit.record(actor, "wallet.top_up", f"user:{user.pk}", amount=amount, note=note)
    return ledger.balance_of(user.pk, AccountKind.WALLET)
