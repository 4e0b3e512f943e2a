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
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jishi.accounts.models import User
from jishi.core import audit, ledger
from jishi.core.conf import setting
from jishi.core.errors import Conflict, InvalidInput, NotFound
from jishi.core.models import AccountKind
from jishi.orders import locks as order_locks
from jishi.orders import services as orders
from jishi.orders.models import AfterSale, Order, OrderStatus

from . import locks
from .models import NoticeLog, Payment, PaymentMethod, PaymentStatus, Refund, RefundStatus
from .providers import InvalidNotify, Notice, PaymentRequest, ProviderError, RefundResult, get_provider
from .providers.base import REFUND_PROCESSING, REFUND_SUCCEEDED

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
    found = Payment.objects.filter(payment_no=notice.payment_no, method=method).values_list("pk", "order_id").first()
    late_refund: str | None = None
    with transaction.atomic():
        if found is None:
            outcome = "unknown_payment"
        else:
            order_locks.lock_order(found[1])  # the order first: see jishi.orders.locks
            payment = locks.lock_payment(found[0])
            if notice.amount != payment.amount or notice.currency != payment.currency:
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
            elif payment.status not in (PaymentStatus.PENDING, PaymentStatus.CLOSED):
                outcome = "duplicate"
            else:
                outcome, late_refund = _settle(payment, notice.provider_txn_id)
        _log(method, outcome, payment_no=notice.payment_no, verified=True, body=body)
    if late_refund is not None:
        _execute_quietly(late_refund)
    return outcome


def _settle(payment: Payment, txn_id: str) -> tuple[str, str | None]:
    """Money arrived at the provider: book it, then pay the order or, if too late, record a
    refund of it (made once this commits). Called with the order and the payment locked."""
    order = Order.objects.get(pk=payment.order_id)
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
    if payment.status == PaymentStatus.PENDING and orders.mark_paid(order, payment.amount, payment.method):
        payment.status = PaymentStatus.PAID
        payment.save(update_fields=["status", "provider_txn_id", "paid_at"])
        return "paid", None
    # Closed (timeout) or already paid another way: the buyer gets this money back.
    payment.status = PaymentStatus.REFUNDED_LATE
    payment.save(update_fields=["status", "provider_txn_id", "paid_at"])
    refund = _record_refund(payment, None, payment.amount, f"L{payment.payment_no}", _("订单已关闭，自动退款"))
    return "refunded_late", refund.refund_no


# --- refunds ------------------------------------------------------------------------
# A refund is recorded first (status requested, its number fixed), the provider is called
# outside any transaction, and the answer is settled in a transaction of its own; the resume
# job repeats the call, with the same number, for whatever a crash or an outage left behind.


class RefundRefused(Conflict):
    code = "refund_refused"
    default_message = _("支付渠道拒绝了退款")


def _record_refund(payment: Payment, case: AfterSale | None, amount: int, refund_no: str, reason: Any) -> Refund:
    in_flight = Refund.objects.filter(
        payment=payment, status__in=[RefundStatus.REQUESTED, RefundStatus.PROCESSING]
    ).aggregate(total=Sum("amount", default=0))["total"]
    if payment.refunded_amount + in_flight + amount > payment.amount:
        raise Conflict(_("退款金额超过实付金额"), code="refund_exceeds_payment")
    return Refund.objects.create(
        refund_no=refund_no, payment=payment, after_sale=case, amount=amount, reason=str(reason)[:200]
    )


def request_refund(order: Order, case: AfterSale, amount: int, refund_no: str) -> bool:
    """The refunder's first phase (order and case locked by the caller). Wallet money goes
    back at once; True then. Otherwise the refund waits, recorded, for ``execute_refund``."""
    payment = Payment.objects.filter(order=order, status=PaymentStatus.PAID).values_list("pk", flat=True).first()
    if payment is None:
        raise Conflict(_("订单没有可退款的支付"), code="no_payment")
    locked = locks.lock_payment(payment)
    refund = _record_refund(locked, case, amount, refund_no, case.reason)
    if locked.method != PaymentMethod.WALLET:
        return False
    _book_refund(locked, refund, ledger.user_account(locked.user_id, AccountKind.WALLET), "")
    return True


def execute_refund(refund_no: str) -> Refund:
    """Ask the provider for a recorded refund and settle its answer. Safe to repeat.

    Raises ``ProviderError`` when the provider cannot be reached (the refund stays requested
    for the resume job) and ``RefundRefused`` when it says no (the refund is marked failed)."""
    refund = Refund.objects.select_related("payment").get(refund_no=refund_no)
    if refund.status in (RefundStatus.SUCCEEDED, RefundStatus.FAILED):
        return refund
    payment = refund.payment
    provider = get_provider(payment.method)
    try:
        result: RefundResult | None = None
        if refund.status == RefundStatus.PROCESSING:
            result = provider.query_refund(payment_no=payment.payment_no, refund_no=refund.refund_no)
        if result is None:
            result = provider.refund(
                payment_no=payment.payment_no,
                refund_no=refund.refund_no,
                amount=refund.amount,
                total=payment.amount,
                reason=refund.reason,
            )
    except ProviderError as exc:
        Refund.objects.filter(pk=refund.pk).update(attempts=F("attempts") + 1, last_error=str(exc)[:500])
        raise
    refund = settle_refund(refund.pk, result)
    if refund.status == RefundStatus.FAILED:
        raise RefundRefused()
    return refund


def settle_refund(refund_id: int, result: RefundResult) -> Refund:
    """Book the provider's answer about a refund, once: the money moves only on success."""
    order_id, case_id = Refund.objects.filter(pk=refund_id).values_list("payment__order_id", "after_sale_id").get()
    with transaction.atomic():
        if case_id is not None:
            order_locks.lock_case(case_id)
        else:
            order_locks.lock_order(order_id)
        refund = locks.lock_refund(refund_id)
        if refund.status in (RefundStatus.SUCCEEDED, RefundStatus.FAILED):
            return refund
        rows = Refund.objects.filter(pk=refund.pk)
        if result.state == REFUND_PROCESSING:
            rows.update(status=RefundStatus.PROCESSING, attempts=F("attempts") + 1, last_error="")
        elif result.state == REFUND_SUCCEEDED:
            payment = locks.lock_payment(refund.payment_id)
            _book_refund(payment, refund, _cash_account(payment.method), result.provider_refund_id)
        else:
            rows.update(
                status=RefundStatus.FAILED,
                attempts=F("attempts") + 1,
                last_error=str(result.raw)[:500],
                settled_at=timezone.now(),
            )
        refund.refresh_from_db()
    return refund


def _book_refund(payment: Payment, refund: Refund, target: Any, provider_refund_id: str) -> None:
    """The money is back with the buyer: post it, count it on the payment, finish the case."""
    ledger.transfer(
        kind="order_refund",
        key=f"refund:{refund.refund_no}",
        reference=f"order:{payment.order_id}",
        source=_revenue(),
        target=target,
        amount=refund.amount,
    )
    Payment.objects.filter(pk=payment.pk).update(refunded_amount=F("refunded_amount") + refund.amount)
    payment.refunded_amount += refund.amount
    Refund.objects.filter(pk=refund.pk).update(
        status=RefundStatus.SUCCEEDED, provider_refund_id=provider_refund_id[:64], settled_at=timezone.now()
    )
    if refund.after_sale_id is not None:
        orders.finish_refund(refund.after_sale_id)


def _execute_quietly(refund_no: str) -> None:
    """Execute now, leaving any failure to the resume job (callers that must not fail)."""
    try:
        execute_refund(refund_no)
    except Exception:
        log.exception("refund %s not completed now; the resume job retries it", refund_no)


def execute_refund_after_commit(refund_no: str) -> None:
    def run() -> None:
        from .tasks import execute_refund_task

        try:
            execute_refund_task(refund_no)
        except Exception:  # the resume job picks it up
            log.exception("could not enqueue refund %s", refund_no)

    transaction.on_commit(run)


def resume_refunds(now: Any = None, limit: int = 200) -> int:
    """Periodic: refunds left requested (a crash, an outage) or processing at the provider."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=setting("REFUND_RESUME_AFTER_SECONDS"))
    due = Refund.objects.filter(
        status__in=[RefundStatus.REQUESTED, RefundStatus.PROCESSING], created_at__lt=cutoff
    ).order_by("id")
    done = 0
    for refund_no in list(due.values_list("refund_no", flat=True)[:limit]):
        try:
            done += execute_refund(refund_no).status == RefundStatus.SUCCEEDED
        except Exception:
            log.exception("refund %s still not settled", refund_no)
    return done


def retry_refund(actor: User, refund_id: int) -> Refund:
    """An operator tries a refused refund again, under the same number."""
    with transaction.atomic():
        refund = Refund.objects.select_for_update().filter(pk=refund_id).first()
        if refund is None:
            raise NotFound()
        if refund.status != RefundStatus.FAILED:
            raise Conflict(_("只有失败的退款可以重试"), code="refund_not_failed")
        Refund.objects.filter(pk=refund.pk).update(status=RefundStatus.REQUESTED, settled_at=None)
        audit.record(actor, "refund.retry", f"refund:{refund.pk}", amount=refund.amount)
    return execute_refund(refund.refund_no)


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


def _pending_provider_payments(cutoff: Any) -> Any:
    """Provider payments still pending, oldest first; sandbox ones only once "paid" at the sandbox."""
    return (
        Payment.objects.filter(status=PaymentStatus.PENDING, created_at__lt=cutoff)
        .exclude(method=PaymentMethod.WALLET)
        .exclude(Q(method=PaymentMethod.SANDBOX) & ~Q(meta__has_key="sandbox"))
        .order_by("id")
    )


def _provider_notice(payment: Payment) -> Notice | None:
    if payment.method == PaymentMethod.SANDBOX:
        # The sandbox keeps its "provider side" in this database: approved means paid.
        if "sandbox" not in payment.meta:
            return None
        body, headers = sandbox_notify(payment)
        return get_provider(payment.method).parse_notify(body, headers)
    return get_provider(payment.method).query(payment.payment_no)


def reconcile_pending_payments(now: Any = None, batch: int = 200) -> int:
    """Payments that never got a notify: ask the provider, apply what it says. Walks every
    pending payment (in id order, a batch at a time), so new abandoned carts never crowd out an
    older payment whose notify was lost."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=setting("PAYMENT_RECONCILE_AFTER_SECONDS"))
    settled = 0
    after = 0
    while True:
        page = list(_pending_provider_payments(cutoff).filter(pk__gt=after)[:batch])
        if not page:
            return settled
        for payment in page:
            after = payment.pk
            try:
                notice = _provider_notice(payment)
            except Exception:
                log.exception("query of %s failed", payment.payment_no)
                continue
            if notice is not None and notice.paid and apply_notice(payment.method, notice) in {"paid", "refunded_late"}:
                settled += 1


def close_payments_of(order_id: int) -> int:
    """The order can no longer be paid (closed, or paid another way): close its pending provider
    trades so the buyer cannot pay them; a trade that turns out paid is settled (and, the order
    being closed, refunded). Outside any transaction: it calls the provider."""
    closed = 0
    for payment in Payment.objects.filter(order_id=order_id, status=PaymentStatus.PENDING).exclude(
        method=PaymentMethod.WALLET
    ):
        try:
            if get_provider(payment.method).close(payment.payment_no):
                closed += Payment.objects.filter(pk=payment.pk, status=PaymentStatus.PENDING).update(
                    status=PaymentStatus.CLOSED
                )
                continue
            notice = _provider_notice(payment)
        except Exception:
            log.exception("closing %s failed; retried by the periodic job", payment.payment_no)
            continue
        if notice is not None and notice.paid:
            apply_notice(payment.method, notice)
    return closed


def close_abandoned_payments(limit: int = 500) -> int:
    """Periodic: pending provider payments whose order is no longer payable end as closed."""
    order_ids = (
        Payment.objects.filter(status=PaymentStatus.PENDING)
        .exclude(method=PaymentMethod.WALLET)
        .exclude(order__status=OrderStatus.PENDING_PAYMENT)
        .order_by("order_id")
        .values_list("order_id", flat=True)
        .distinct()[:limit]
    )
    return sum(close_payments_of(order_id) for order_id in list(order_ids))


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
