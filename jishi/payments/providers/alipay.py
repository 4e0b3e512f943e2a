"""Alipay (支付宝) adapter over python-alipay-sdk: wap/page pay, RSA2 notifies, query, refund.

Alipay speaks yuan strings ("199.00"); the conversion to and from integer fen happens here
and nowhere else.
"""

from __future__ import annotations

import binascii
from collections.abc import Mapping
from typing import Any
from urllib.error import URLError
from urllib.parse import parse_qsl

from alipay import AliPay
from alipay.exceptions import AliPayException, AliPayValidationError
from alipay.utils import AliPayConfig

from .base import (
    REFUND_PROCESSING,
    REFUND_REFUSED,
    REFUND_SUCCEEDED,
    InvalidNotify,
    Notice,
    PaymentRequest,
    PaymentStart,
    ProviderError,
    RefundResult,
    fen_to_yuan,
    yuan_to_fen,
)

DEFAULT_GATEWAY = "https://openapi.alipay.com/gateway.do"
PAID_STATUSES = frozenset({"TRADE_SUCCESS", "TRADE_FINISHED"})
SUCCESS_CODE = "10000"
UNAVAILABLE_CODE = "20000"
SYSTEM_ERROR = "ACQ.SYSTEM_ERROR"
TRADE_NOT_EXIST = "ACQ.TRADE_NOT_EXIST"
TRADE_STATUS_ERROR = "ACQ.TRADE_STATUS_ERROR"  # close refused: the trade was paid (or finished)
SUBJECT_MAX_CHARS = 256


def _pem(key: str, kind: str) -> str:
    """Alipay's console hands out bare base64 keys; the SDK wants PEM."""
    key = key.strip()
    if key.startswith("-----BEGIN"):
        return key
    return f"-----BEGIN {kind}-----\n{key}\n-----END {kind}-----"


class AlipayProvider:
    name = "alipay"

    def __init__(
        self,
        *,
        app_id: str,
        app_private_key: str,
        alipay_public_key: str,
        gateway: str = DEFAULT_GATEWAY,
        pay_method: str = "wap",
        timeout: int = 15,
    ) -> None:
        if pay_method not in ("wap", "page"):
            raise ValueError("pay_method must be 'wap' or 'page'")
        self._app_id = str(app_id)
        self._pay_method = pay_method
        self._gateway = gateway
        self._client = AliPay(
            appid=self._app_id,
            app_private_key_string=_pem(app_private_key, "PRIVATE KEY"),
            alipay_public_key_string=_pem(alipay_public_key, "PUBLIC KEY"),
            sign_type="RSA2",
            config=AliPayConfig(timeout=timeout),
        )
        # The SDK only knows production and its sandbox; point it at the configured gateway
        # (a proxy, or a local fake in tests). ``verified_sync_response`` reads this attribute.
        self._client._gateway = gateway

    def start(self, req: PaymentRequest) -> PaymentStart:
        _require_cny(req.currency)
        api = (
            self._client.api_alipay_trade_wap_pay
            if self._pay_method == "wap"
            else self._client.api_alipay_trade_page_pay
        )
        order_string = api(
            subject=req.subject[:SUBJECT_MAX_CHARS],
            out_trade_no=req.payment_no,
            total_amount=fen_to_yuan(req.amount),
            return_url=req.return_url or None,
            notify_url=req.notify_url or None,
        )
        return PaymentStart(pay_url=f"{self._gateway}?{order_string}")

    def parse_notify(self, body: bytes, headers: Mapping[str, str]) -> Notice:
        fields = _form_fields(body)
        signature = fields.pop("sign", "")
        if not signature:
            raise InvalidNotify("alipay notify without sign")
        if fields.get("sign_type", "RSA2") != "RSA2":
            raise InvalidNotify("alipay notify not signed with RSA2")
        unsigned = {k: v for k, v in fields.items() if k != "sign_type"}
        try:
            verified = self._client.verify(dict(unsigned), signature)
        except (AliPayException, ValueError, TypeError, binascii.Error) as exc:
            raise InvalidNotify("alipay signature could not be checked") from exc
        if not verified:
            raise InvalidNotify("bad alipay signature")
        # A valid signature for another merchant's app is still not our payment.
        if fields.get("app_id") != self._app_id:
            raise InvalidNotify("alipay notify for another app_id")
        try:
            return _notice(fields)
        except (KeyError, ValueError) as exc:
            raise InvalidNotify("malformed alipay notify") from exc

    def ack(self, ok: bool) -> tuple[int, str, str]:
        # Alipay retries until it reads exactly "success".
        return (200, "text/plain", "success") if ok else (400, "text/plain", "fail")

    def query(self, payment_no: str) -> Notice | None:
        response = self._call(self._client.api_alipay_trade_query, out_trade_no=payment_no)
        if response.get("code") != SUCCESS_CODE:
            if response.get("sub_code") == TRADE_NOT_EXIST:
                return None
            raise ProviderError(f"alipay query failed: {response}")
        try:
            return _notice(response)
        except (KeyError, ValueError) as exc:
            raise ProviderError(f"malformed alipay query response: {response}") from exc

    def refund(self, *, payment_no: str, refund_no: str, amount: int, total: int, reason: str = "") -> RefundResult:
        if not 0 < amount <= total:
            raise ValueError("refund amount must be within 1..total fen")
        extra: dict[str, str] = {"out_request_no": refund_no}
        if reason:
            extra["refund_reason"] = reason
        response = self._call(
            self._client.api_alipay_trade_refund,
            refund_amount=fen_to_yuan(amount),
            out_trade_no=payment_no,
            **extra,
        )
        if response.get("code") == UNAVAILABLE_CODE or response.get("sub_code") == SYSTEM_ERROR:
            raise ProviderError(f"alipay refund not processed, retry: {response}")
        # Alipay refunds synchronously and has no refund id of its own: out_request_no (our
        # refund_no) names the refund, and a retried request answers success again.
        state = REFUND_SUCCEEDED if response.get("code") == SUCCESS_CODE else REFUND_REFUSED
        return RefundResult(refund_no=refund_no, state=state, raw=response)

    def query_refund(self, *, payment_no: str, refund_no: str) -> RefundResult | None:
        response = self._call(
            self._client.api_alipay_trade_fastpay_refund_query, out_request_no=refund_no, out_trade_no=payment_no
        )
        if response.get("code") != SUCCESS_CODE:
            if response.get("sub_code") == TRADE_NOT_EXIST:
                return None
            raise ProviderError(f"alipay refund query failed: {response}")
        if not response.get("refund_amount"):
            return None  # Alipay answers success with no amount for a refund it never made
        status = response.get("refund_status", "REFUND_SUCCESS")
        state = REFUND_SUCCEEDED if status == "REFUND_SUCCESS" else REFUND_PROCESSING
        return RefundResult(refund_no=refund_no, state=state, raw=response)

    def close(self, payment_no: str) -> bool:
        response = self._call(self._client.api_alipay_trade_close, out_trade_no=payment_no)
        if response.get("code") == SUCCESS_CODE or response.get("sub_code") == TRADE_NOT_EXIST:
            return True  # closed, or never opened at Alipay (a late payment is refunded on notify)
        if response.get("sub_code") == TRADE_STATUS_ERROR:
            return False
        raise ProviderError(f"alipay close failed: {response}")

    def _call(self, api: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            response = api(**kwargs)
        except AliPayValidationError as exc:
            raise ProviderError("alipay response signature did not verify") from exc
        except (AliPayException, URLError, OSError, ValueError) as exc:
            raise ProviderError(f"alipay call failed: {exc}") from exc
        if not isinstance(response, dict):
            raise ProviderError(f"unexpected alipay response: {response!r}")
        return response


def _require_cny(currency: str) -> None:
    if currency != "CNY":
        raise ValueError(f"alipay trades are in CNY, not {currency}")


def _form_fields(body: bytes) -> dict[str, str]:
    try:
        text = body.decode("ascii")  # form encoding percent-escapes everything else
        fields = dict(parse_qsl(text, keep_blank_values=True, strict_parsing=True))
        charset = fields.get("charset", "utf-8")
        if charset.lower() not in ("utf-8", "utf8"):
            fields = dict(parse_qsl(text, keep_blank_values=True, encoding=charset))
    except (UnicodeError, ValueError, LookupError) as exc:
        raise InvalidNotify("alipay notify is not a form body") from exc
    return fields


def _notice(fields: Mapping[str, Any]) -> Notice:
    return Notice(
        payment_no=_required(fields, "out_trade_no"),
        provider_txn_id=_required(fields, "trade_no"),
        amount=yuan_to_fen(_required(fields, "total_amount")),
        currency=fields.get("trans_currency") or "CNY",
        paid=fields.get("trade_status") in PAID_STATUSES,
        raw=dict(fields),
    )


def _required(fields: Mapping[str, Any], key: str) -> str:
    value = fields[key]
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key} missing")
    return value
