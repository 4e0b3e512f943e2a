"""WeChat Pay v3 (微信支付) adapter over wechatpayv3 in platform-public-key mode.

Public-key mode means the platform's RSA public key and its id (``PUB_KEY_ID_...``) are
configured up front, so the SDK never downloads platform certificates. Amounts are already
integer fen on this API.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any

from wechatpayv3 import WeChatPay, WeChatPayType

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
    header_value,
)

DEFAULT_BASE_URL = "https://api.mch.weixin.qq.com"
SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"
NOTIFY_HEADERS = (
    "Wechatpay-Signature",
    "Wechatpay-Timestamp",
    "Wechatpay-Nonce",
    "Wechatpay-Serial",
    "Wechatpay-Signature-Type",
)
DESCRIPTION_MAX_CHARS = 127
# WeChat's refund status → ours. ABNORMAL (e.g. the buyer's card was closed) and CLOSED never pay.
REFUND_STATES = {"SUCCESS": REFUND_SUCCEEDED, "PROCESSING": REFUND_PROCESSING}


class WeChatPayProvider:
    name = "wechatpay"

    def __init__(
        self,
        *,
        mch_id: str,
        app_id: str,
        mch_private_key: str,
        mch_cert_serial_no: str,
        apiv3_key: str,
        public_key: str,
        public_key_id: str,
        base_url: str = DEFAULT_BASE_URL,
        notify_max_age: int = 300,
        timeout: int = 15,
    ) -> None:
        if len(apiv3_key.encode()) != 32:
            raise ValueError("the WeChat Pay APIv3 key is 32 bytes")
        if not (public_key and public_key_id):
            raise ValueError("platform-public-key mode needs public_key and public_key_id")
        self._mch_id = str(mch_id)
        self._app_id = app_id
        self._public_key_id = public_key_id
        self._notify_max_age = notify_max_age
        # With public_key/public_key_id set the constructor does no network I/O.
        self._client = WeChatPay(
            wechatpay_type=WeChatPayType.JSAPI,
            mchid=self._mch_id,
            private_key=mch_private_key,
            cert_serial_no=mch_cert_serial_no,
            appid=app_id,
            apiv3_key=apiv3_key,
            timeout=timeout,
            public_key=public_key,
            public_key_id=public_key_id,
        )
        # The SDK hard-codes the gateway; a configured base URL (proxy, local fake) wins.
        self._client._core._gate_way = base_url.rstrip("/")

    def start(self, req: PaymentRequest) -> PaymentStart:
        """JSAPI/mini-program parameters when the payer's openid is known, otherwise a
        Native-pay ``weixin://`` URL for the client to render as a QR code."""
        kwargs: dict[str, Any] = {
            "description": req.subject[:DESCRIPTION_MAX_CHARS],
            "out_trade_no": req.payment_no,
            "amount": {"total": req.amount, "currency": req.currency},
            "notify_url": req.notify_url,
        }
        if req.payer_openid:
            kwargs.update(payer={"openid": req.payer_openid}, pay_type=WeChatPayType.JSAPI)
        else:
            kwargs.update(pay_type=WeChatPayType.NATIVE)
        status, data = self._call(self._client.pay, **kwargs)
        if status != 200:
            raise ProviderError(f"wechatpay order failed ({status}): {data}")
        if not req.payer_openid:
            return PaymentStart(pay_url=str(data["code_url"]), params={"trade_type": "NATIVE"})
        timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
        package = f"prepay_id={data['prepay_id']}"
        return PaymentStart(
            params={
                "appId": self._app_id,
                "timeStamp": timestamp,
                "nonceStr": nonce,
                "package": package,
                "signType": "RSA",
                "paySign": self._client.sign([self._app_id, timestamp, nonce, package]),
            }
        )

    def parse_notify(self, body: bytes, headers: Mapping[str, str]) -> Notice:
        canonical = {name: header_value(headers, name) for name in NOTIFY_HEADERS}
        if not (canonical["Wechatpay-Signature"] and canonical["Wechatpay-Timestamp"] and canonical["Wechatpay-Nonce"]):
            raise InvalidNotify("wechatpay notify without signature headers")
        # Any other serial would make the SDK go and download platform certificates.
        if canonical["Wechatpay-Serial"] != self._public_key_id:
            raise InvalidNotify("wechatpay notify signed with an unknown key")
        canonical["Wechatpay-Signature-Type"] = canonical["Wechatpay-Signature-Type"] or SIGNATURE_TYPE
        try:
            age = time.time() - int(canonical["Wechatpay-Timestamp"])
        except ValueError as exc:
            raise InvalidNotify("bad wechatpay timestamp") from exc
        if abs(age) > self._notify_max_age:
            raise InvalidNotify("stale wechatpay notify")
        try:
            data = self._client.callback(canonical, body)
        except Exception as exc:  # the SDK raises bare Exception / decoding errors
            raise InvalidNotify("wechatpay notify could not be verified") from exc
        if not data:
            raise InvalidNotify("bad wechatpay signature or undecryptable resource")
        try:
            resource = data["resource"]
            if resource.get("mchid") != self._mch_id:
                raise ValueError("notify for another merchant")
            return _notice(resource, raw=data)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InvalidNotify("malformed wechatpay notify") from exc

    def ack(self, ok: bool) -> tuple[int, str, str]:
        if ok:
            return 200, "application/json", json.dumps({"code": "SUCCESS"})
        body = json.dumps({"code": "FAIL", "message": "notify rejected"})
        return 400, "application/json", body

    def query(self, payment_no: str) -> Notice | None:
        status, data = self._call(self._client.query, out_trade_no=payment_no)
        if status == 404:
            return None
        if status != 200:
            raise ProviderError(f"wechatpay query failed ({status}): {data}")
        try:
            return _notice(data, raw=data)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ProviderError(f"malformed wechatpay query response: {data}") from exc

    def refund(self, *, payment_no: str, refund_no: str, amount: int, total: int, reason: str = "") -> RefundResult:
        if not 0 < amount <= total:
            raise ValueError("refund amount must be within 1..total fen")
        status, data = self._call(
            self._client.refund,
            out_refund_no=refund_no,
            amount={"refund": amount, "total": total, "currency": "CNY"},
            out_trade_no=payment_no,
            reason=reason or None,
        )
        if status == 429 or status >= 500:
            raise ProviderError(f"wechatpay refund failed ({status}): {data}")
        if status != 200:  # refused (4xx): nothing moved, and nothing will
            return RefundResult(refund_no=refund_no, state=REFUND_REFUSED, raw=data)
        return _refund_result(refund_no, data)

    def query_refund(self, *, payment_no: str, refund_no: str) -> RefundResult | None:
        status, data = self._call(self._client.query_refund, out_refund_no=refund_no)
        if status == 404:
            return None
        if status != 200:
            raise ProviderError(f"wechatpay refund query failed ({status}): {data}")
        return _refund_result(refund_no, data)

    def close(self, payment_no: str) -> bool:
        status, data = self._call(self._client.close, out_trade_no=payment_no)
        if status in (200, 204):
            return True
        if data.get("code") == "ORDERPAID":
            return False
        if data.get("code") == "ORDER_NOT_EXIST":
            return True
        raise ProviderError(f"wechatpay close failed ({status}): {data}")

    def _call(self, api: Callable[..., Any], **kwargs: Any) -> tuple[int, dict[str, Any]]:
        """Run an SDK request; (HTTP status, decoded JSON body). Transport failures and
        responses whose signature does not verify become ProviderError."""
        try:
            status, text = api(**kwargs)
        except Exception as exc:  # requests errors, or the SDK's bare "failed to verify"
            raise ProviderError(f"wechatpay call failed: {exc}") from exc
        try:
            data = json.loads(text) if text else {}
        except (TypeError, ValueError) as exc:
            raise ProviderError(f"wechatpay answered {status} with non-JSON body") from exc
        if not isinstance(data, dict):
            raise ProviderError(f"wechatpay answered {status} with {data!r}")
        return int(status), data


def _refund_result(refund_no: str, data: dict[str, Any]) -> RefundResult:
    state = REFUND_STATES.get(str(data.get("status", "")), REFUND_REFUSED)
    refund_id = str(data.get("refund_id", "")) if state != REFUND_REFUSED else ""
    return RefundResult(refund_no=refund_no, state=state, provider_refund_id=refund_id, raw=data)


def _notice(transaction: Mapping[str, Any], *, raw: dict[str, Any]) -> Notice:
    amount = transaction["amount"]
    total = amount["total"]
    if isinstance(total, bool) or not isinstance(total, int) or total < 0:
        raise ValueError("amount.total must be a non-negative int of fen")
    payment_no = transaction["out_trade_no"]
    if not isinstance(payment_no, str) or not payment_no:
        raise ValueError("out_trade_no missing")
    paid = transaction["trade_state"] == "SUCCESS"
    txn_id = transaction.get("transaction_id", "")
    if paid and not txn_id:
        raise ValueError("a successful transaction has a transaction_id")
    return Notice(
        payment_no=payment_no,
        provider_txn_id=str(txn_id),
        amount=total,
        currency=str(amount.get("currency", "CNY")),
        paid=paid,
        raw=raw,
    )
