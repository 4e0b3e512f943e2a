"""The sandbox provider: an in-process fake that signs and verifies notifies like a real one.

The demo's pay page (``/pay/sandbox/<payment_no>/``) plays the provider: it calls
``sign_notify()`` and posts the result to the notify URL, which goes through the same
``parse_notify()`` → service path as Alipay or WeChat Pay.

Limitation: what ``query()``/``refund()`` know lives in a small in-memory dict on the
provider instance (bounded, oldest dropped first). It is lost on restart and not shared
between processes, so ``query()`` answers None for payments this process has not seen;
the database, not this dict, is the record of truth.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from .base import (
    REFUND_REFUSED,
    REFUND_SUCCEEDED,
    InvalidNotify,
    Notice,
    PaymentRequest,
    PaymentStart,
    RefundResult,
    header_value,
)

SIGNATURE_HEADER = "X-Sandbox-Signature"
TIMESTAMP_HEADER = "X-Sandbox-Timestamp"
NONCE_HEADER = "X-Sandbox-Nonce"
PAID_STATUSES = frozenset({"TRADE_SUCCESS", "TRADE_FINISHED"})


@dataclass
class _SandboxPayment:
    amount: int
    currency: str
    status: str = "WAIT_BUYER_PAY"
    txn_id: str = ""
    refunds: dict[str, RefundResult] = field(default_factory=dict)
    refunded: int = 0


class SandboxProvider:
    name = "sandbox"

    def __init__(
        self,
        *,
        secret: str,
        notify_max_age: int = 300,
        pay_url: str = "/pay/sandbox/{payment_no}/",
        max_tracked: int = 10_000,
    ) -> None:
        if not secret:
            raise ValueError("the sandbox provider needs a signing secret")
        self._key = secret.encode()
        self._notify_max_age = notify_max_age
        self._pay_url = pay_url
        self._max_tracked = max_tracked
        self._payments: OrderedDict[str, _SandboxPayment] = OrderedDict()
        self._lock = threading.Lock()

    # -- the "provider side" -------------------------------------------------------------

    def sign_notify(
        self,
        payment_no: str,
        amount: int,
        currency: str,
        txn_id: str,
        status: str = "TRADE_SUCCESS",
        *,
        timestamp: int | None = None,
    ) -> tuple[bytes, dict[str, str]]:
        """Build the notify the sandbox "sends" when a payment settles: JSON body plus
        timestamp, nonce and HMAC-SHA256 signature headers. ``timestamp`` (unix seconds)
        defaults to now."""
        ts = str(int(time.time()) if timestamp is None else timestamp)
        nonce = secrets.token_hex(16)
        body = json.dumps(
            {
                "payment_no": payment_no,
                "txn_id": txn_id,
                "amount": amount,
                "currency": currency,
                "status": status,
            },
            separators=(",", ":"),
            sort_keys=True,
        ).encode()
        self._record(payment_no, amount, currency, status=status, txn_id=txn_id)
        headers = {
            SIGNATURE_HEADER: self._signature(ts, nonce, body),
            TIMESTAMP_HEADER: ts,
            NONCE_HEADER: nonce,
        }
        return body, headers

    # -- PaymentProvider -----------------------------------------------------------------

    def start(self, req: PaymentRequest) -> PaymentStart:
        self._record(req.payment_no, req.amount, req.currency)
        return PaymentStart(
            pay_url=self._pay_url.format(payment_no=quote(req.payment_no, safe="")),
            params={
                "payment_no": req.payment_no,
                "amount": req.amount,
                "currency": req.currency,
                "subject": req.subject,
            },
        )

    def parse_notify(self, body: bytes, headers: Mapping[str, str]) -> Notice:
        signature = header_value(headers, SIGNATURE_HEADER)
        ts = header_value(headers, TIMESTAMP_HEADER)
        nonce = header_value(headers, NONCE_HEADER)
        if not (signature and ts and nonce):
            raise InvalidNotify("missing sandbox signature headers")
        if not hmac.compare_digest(self._signature(ts, nonce, body), signature):
            raise InvalidNotify("bad sandbox signature")
        try:
            age = time.time() - int(ts)
        except ValueError as exc:
            raise InvalidNotify("bad sandbox timestamp") from exc
        # Also refuse timestamps far in the future: they would stay "fresh" forever.
        if abs(age) > self._notify_max_age:
            raise InvalidNotify("stale sandbox notify")
        try:
            data = json.loads(body)
            notice = Notice(
                payment_no=_str(data, "payment_no"),
                provider_txn_id=_str(data, "txn_id"),
                amount=_fen(data, "amount"),
                currency=_str(data, "currency"),
                paid=_str(data, "status") in PAID_STATUSES,
                raw=data,
            )
        except (ValueError, TypeError, KeyError) as exc:
            raise InvalidNotify("malformed sandbox notify") from exc
        self._record(
            notice.payment_no,
            notice.amount,
            notice.currency,
            status=data["status"],
            txn_id=notice.provider_txn_id,
        )
        return notice

    def ack(self, ok: bool) -> tuple[int, str, str]:
        return (200, "text/plain", "success") if ok else (400, "text/plain", "fail")

    def query(self, payment_no: str) -> Notice | None:
        with self._lock:
            payment = self._payments.get(payment_no)
            if payment is None:
                return None
            return Notice(
                payment_no=payment_no,
                provider_txn_id=payment.txn_id,
                amount=payment.amount,
                currency=payment.currency,
                paid=payment.status in PAID_STATUSES,
                raw={"status": payment.status, "refunded": payment.refunded},
            )

    def refund(self, *, payment_no: str, refund_no: str, amount: int, total: int, reason: str = "") -> RefundResult:
        """Accept any refund of 1..total fen; replaying a ``refund_no`` returns the first
        answer. The only refusal: the refunds this process has seen for the payment would
        add up to more than ``total``."""
        if not 0 < amount <= total:
            raise ValueError("refund amount must be within 1..total fen")
        with self._lock:
            payment = self._payments.get(payment_no)
            if payment is not None and refund_no in payment.refunds:
                return payment.refunds[refund_no]
            refunded = payment.refunded if payment is not None else 0
            raw: dict[str, Any] = {"payment_no": payment_no, "amount": amount, "reason": reason}
            if refunded + amount > total:
                result = RefundResult(refund_no=refund_no, state=REFUND_REFUSED, raw=raw)
            else:
                result = RefundResult(
                    refund_no=refund_no,
                    state=REFUND_SUCCEEDED,
                    provider_refund_id=f"SBR-{refund_no}",
                    raw=raw,
                )
            if payment is not None:
                payment.refunds[refund_no] = result
                if result.accepted:
                    payment.refunded += amount
            return result

    def query_refund(self, *, payment_no: str, refund_no: str) -> RefundResult | None:
        with self._lock:
            payment = self._payments.get(payment_no)
            return payment.refunds.get(refund_no) if payment is not None else None

    def close(self, payment_no: str) -> bool:
        """The sandbox's cashier refuses a payment the database no longer has pending, so
        closing needs nothing here beyond telling a paid trade apart."""
        with self._lock:
            payment = self._payments.get(payment_no)
            if payment is not None and payment.status in PAID_STATUSES:
                return False
            if payment is not None:
                payment.status = "TRADE_CLOSED"
            return True

    # -- internals -----------------------------------------------------------------------

    def _signature(self, ts: str, nonce: str, body: bytes) -> str:
        message = f"{ts}\n{nonce}\n".encode() + body + b"\n"
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def _record(
        self,
        payment_no: str,
        amount: int,
        currency: str,
        *,
        status: str | None = None,
        txn_id: str = "",
    ) -> None:
        with self._lock:
            payment = self._payments.get(payment_no)
            if payment is None:
                payment = self._payments[payment_no] = _SandboxPayment(amount, currency)
                while len(self._payments) > self._max_tracked:
                    self._payments.popitem(last=False)
            # A paid payment stays paid, like at a real provider.
            if status is not None and payment.status not in PAID_STATUSES:
                payment.status = status
                payment.txn_id = txn_id
                payment.amount = amount
                payment.currency = currency


def _str(data: dict[str, Any], key: str) -> str:
    value = data[key]
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key} must be a non-empty string")
    return value


def _fen(data: dict[str, Any], key: str) -> int:
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{key} must be a non-negative int of fen")
    return value
