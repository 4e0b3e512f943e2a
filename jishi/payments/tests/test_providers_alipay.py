"""Alipay adapter: RSA2 notifies signed with locally generated keys, and API calls against a
local fake gateway that checks our request signature and signs its answers like Alipay."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from jishi.payments.providers.alipay import AlipayProvider
from jishi.payments.providers.base import InvalidNotify, Notice, PaymentRequest, ProviderError
from jishi.payments.tests.rsa_keys import private_pem, public_pem, rsa_key, rsa_sign, rsa_verify

APP_ID = "2021004100000001"


def _signing_string(fields: dict[str, str]) -> str:
    """What Alipay signs in a notify: every field but sign/sign_type, sorted, as k=v&k=v."""
    return "&".join(f"{k}={v}" for k, v in sorted(fields.items()) if k not in ("sign", "sign_type"))


def _request_signing_string(params: dict[str, str]) -> str:
    """What a merchant signs in a request: every parameter but sign (sign_type included)."""
    return "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "sign")


@pytest.fixture(scope="module")
def app_key() -> rsa.RSAPrivateKey:
    return rsa_key()


@pytest.fixture(scope="module")
def alipay_key() -> rsa.RSAPrivateKey:
    return rsa_key()


@pytest.fixture(scope="module")
def other_key() -> rsa.RSAPrivateKey:
    return rsa_key()


class FakeAlipayGateway:
    """Answers ``gateway.do?...`` like Alipay: ``responses[method]`` gives the inner response
    object, which is signed with ``signing_key`` and wrapped as ``{"<method>_response": ...}``."""

    def __init__(self, app_key: rsa.RSAPrivateKey, signing_key: rsa.RSAPrivateKey) -> None:
        self.app_key = app_key
        self.signing_key = signing_key
        self.responses: dict[str, dict[str, Any]] = {}
        self.requests: list[dict[str, Any]] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                params = dict(parse_qsl(urlsplit(self.path).query))
                method = params["method"]
                gateway.requests.append(
                    {
                        "params": params,
                        "biz_content": json.loads(params["biz_content"]),
                        "signature_ok": rsa_verify(gateway.app_key, _request_signing_string(params), params["sign"]),
                    }
                )
                inner = json.dumps(gateway.responses[method], ensure_ascii=False, separators=(",", ":"))
                sign = rsa_sign(gateway.signing_key, inner)
                response_key = method.replace(".", "_") + "_response"
                body = f'{{"{response_key}":{inner},"sign":"{sign}"}}'.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html;charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/gateway.do"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.01,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway(app_key: rsa.RSAPrivateKey, alipay_key: rsa.RSAPrivateKey) -> Iterator[FakeAlipayGateway]:
    fake = FakeAlipayGateway(app_key, alipay_key)
    yield fake
    fake.close()


@pytest.fixture
def make_provider(
    app_key: rsa.RSAPrivateKey, alipay_key: rsa.RSAPrivateKey, gateway: FakeAlipayGateway
) -> Callable[..., AlipayProvider]:
    def make(**overrides: Any) -> AlipayProvider:
        kwargs: dict[str, Any] = {
            "app_id": APP_ID,
            "app_private_key": private_pem(app_key),
            "alipay_public_key": public_pem(alipay_key),
            "gateway": gateway.url,
            "timeout": 5,
        }
        kwargs.update(overrides)
        return AlipayProvider(**kwargs)

    return make


@pytest.fixture
def provider(make_provider: Callable[..., AlipayProvider]) -> AlipayProvider:
    return make_provider()


def _notify_fields(**overrides: str) -> dict[str, str]:
    fields = {
        "gmt_create": "2024-06-01 10:00:00",
        "gmt_payment": "2024-06-01 10:00:05",
        "notify_time": "2024-06-01 10:00:06",
        "notify_type": "trade_status_sync",
        "notify_id": "2024060100222100006000000000000000",
        "app_id": APP_ID,
        "charset": "utf-8",
        "version": "1.0",
        "sign_type": "RSA2",
        "trade_no": "2024060122001400000000000001",
        "out_trade_no": "P20240601000001",
        "total_amount": "199.00",
        "receipt_amount": "199.00",
        "buyer_pay_amount": "199.00",
        "subject": "集市 订单 P20240601000001",
        "seller_id": "2088000000000001",
        "buyer_id": "2088000000000002",
        "trade_status": "TRADE_SUCCESS",
    }
    fields.update(overrides)
    return fields


def _signed_body(fields: dict[str, str], key: rsa.RSAPrivateKey) -> bytes:
    signed = dict(fields, sign=rsa_sign(key, _signing_string(fields)))
    return urlencode(signed).encode()


def test_valid_notify_parses_to_exact_notice(provider: AlipayProvider, alipay_key: rsa.RSAPrivateKey) -> None:
    fields = _notify_fields()

    notice = provider.parse_notify(_signed_body(fields, alipay_key), {})

    assert notice == Notice(
        payment_no="P20240601000001",
        provider_txn_id="2024060122001400000000000001",
        amount=19900,
        currency="CNY",
        paid=True,
        raw=notice.raw,
    )
    assert notice.raw["notify_id"] == fields["notify_id"]
    assert notice.raw["subject"] == "集市 订单 P20240601000001"


@pytest.mark.parametrize(
    ("trade_status", "paid"),
    [("TRADE_SUCCESS", True), ("TRADE_FINISHED", True), ("WAIT_BUYER_PAY", False), ("TRADE_CLOSED", False)],
)
def test_trade_status_maps_to_paid(
    provider: AlipayProvider, alipay_key: rsa.RSAPrivateKey, trade_status: str, paid: bool
) -> None:
    body = _signed_body(_notify_fields(trade_status=trade_status), alipay_key)

    assert provider.parse_notify(body, {}).paid is paid


@pytest.mark.parametrize(("total_amount", "fen"), [("0.01", 1), ("199.00", 19900), ("1234567.89", 123456789)])
def test_notify_amount_converts_exactly(
    provider: AlipayProvider, alipay_key: rsa.RSAPrivateKey, total_amount: str, fen: int
) -> None:
    body = _signed_body(_notify_fields(total_amount=total_amount), alipay_key)

    assert provider.parse_notify(body, {}).amount == fen


def test_tampered_amount_is_rejected(provider: AlipayProvider, alipay_key: rsa.RSAPrivateKey) -> None:
    body = _signed_body(_notify_fields(total_amount="0.01"), alipay_key)
    tampered = body.replace(b"total_amount=0.01", b"total_amount=199.00")
    assert tampered != body

    with pytest.raises(InvalidNotify):
        provider.parse_notify(tampered, {})


def test_notify_signed_with_another_key_is_rejected(provider: AlipayProvider, other_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(InvalidNotify):
        provider.parse_notify(_signed_body(_notify_fields(), other_key), {})


def test_notify_signed_with_the_app_key_is_rejected(provider: AlipayProvider, app_key: rsa.RSAPrivateKey) -> None:
    """Our own key must not be able to forge Alipay's notifies."""
    with pytest.raises(InvalidNotify):
        provider.parse_notify(_signed_body(_notify_fields(), app_key), {})


def test_missing_signature_is_rejected(provider: AlipayProvider) -> None:
    with pytest.raises(InvalidNotify):
        provider.parse_notify(urlencode(_notify_fields()).encode(), {})


def test_empty_signature_is_rejected(provider: AlipayProvider) -> None:
    with pytest.raises(InvalidNotify):
        provider.parse_notify(urlencode(dict(_notify_fields(), sign="")).encode(), {})


def test_garbage_signature_is_rejected(provider: AlipayProvider) -> None:
    with pytest.raises(InvalidNotify):
        provider.parse_notify(urlencode(dict(_notify_fields(), sign="not base64!")).encode(), {})


def test_rsa1_sign_type_is_rejected(provider: AlipayProvider, alipay_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(InvalidNotify):
        provider.parse_notify(_signed_body(_notify_fields(sign_type="RSA"), alipay_key), {})


def test_validly_signed_notify_for_another_app_is_rejected(
    provider: AlipayProvider, alipay_key: rsa.RSAPrivateKey
) -> None:
    with pytest.raises(InvalidNotify):
        provider.parse_notify(_signed_body(_notify_fields(app_id="2021009999999999"), alipay_key), {})


@pytest.mark.parametrize("total_amount", ["1e2", "-1.00", "1.005", "NaN", ""])
def test_validly_signed_notify_with_bad_amount_is_rejected(
    provider: AlipayProvider, alipay_key: rsa.RSAPrivateKey, total_amount: str
) -> None:
    with pytest.raises(InvalidNotify):
        provider.parse_notify(_signed_body(_notify_fields(total_amount=total_amount), alipay_key), {})


def test_validly_signed_notify_without_out_trade_no_is_rejected(
    provider: AlipayProvider, alipay_key: rsa.RSAPrivateKey
) -> None:
    fields = _notify_fields()
    del fields["out_trade_no"]

    with pytest.raises(InvalidNotify):
        provider.parse_notify(_signed_body(fields, alipay_key), {})


@pytest.mark.parametrize("body", [b"", b"\xff\xfe", b'{"json": true}'])
def test_non_form_body_is_rejected(provider: AlipayProvider, body: bytes) -> None:
    with pytest.raises(InvalidNotify):
        provider.parse_notify(body, {})


def test_ack_speaks_alipay(provider: AlipayProvider) -> None:
    assert provider.ack(True) == (200, "text/plain", "success")
    assert provider.ack(False) == (400, "text/plain", "fail")


@pytest.mark.parametrize(
    ("pay_method", "api_method", "product_code"),
    [
        ("wap", "alipay.trade.wap.pay", "QUICK_WAP_PAY"),
        ("page", "alipay.trade.page.pay", "FAST_INSTANT_TRADE_PAY"),
    ],
)
def test_start_returns_signed_gateway_url(
    make_provider: Callable[..., AlipayProvider],
    gateway: FakeAlipayGateway,
    app_key: rsa.RSAPrivateKey,
    pay_method: str,
    api_method: str,
    product_code: str,
) -> None:
    provider = make_provider(pay_method=pay_method)
    req = PaymentRequest(
        payment_no="P1",
        amount=19900,
        subject="集市订单",
        notify_url="https://shop.example/api/payments/notify/alipay/",
        return_url="https://shop.example/orders/1/",
    )

    start = provider.start(req)

    url = urlsplit(start.pay_url)
    assert f"{url.scheme}://{url.netloc}{url.path}" == gateway.url
    params = dict(parse_qsl(url.query))
    assert rsa_verify(app_key, _request_signing_string(params), params["sign"])
    assert params["method"] == api_method
    assert params["app_id"] == APP_ID
    assert params["notify_url"] == req.notify_url
    assert params["return_url"] == req.return_url
    assert json.loads(params["biz_content"]) == {
        "subject": "集市订单",
        "out_trade_no": "P1",
        "total_amount": "199.00",
        "product_code": product_code,
    }


def test_start_refuses_non_cny(provider: AlipayProvider) -> None:
    req = PaymentRequest(payment_no="P1", amount=100, subject="x", notify_url="https://n/", currency="USD")

    with pytest.raises(ValueError):
        provider.start(req)


def test_query_returns_paid_notice(provider: AlipayProvider, gateway: FakeAlipayGateway) -> None:
    gateway.responses["alipay.trade.query"] = {
        "code": "10000",
        "msg": "Success",
        "trade_no": "2024060122001400000000000001",
        "out_trade_no": "P1",
        "trade_status": "TRADE_SUCCESS",
        "total_amount": "1234567.89",
        "buyer_pay_amount": "1234567.89",
    }

    notice = provider.query("P1")

    assert notice is not None
    assert (notice.payment_no, notice.provider_txn_id, notice.amount, notice.currency, notice.paid) == (
        "P1",
        "2024060122001400000000000001",
        123456789,
        "CNY",
        True,
    )
    [request] = gateway.requests
    assert request["signature_ok"] is True
    assert request["params"]["method"] == "alipay.trade.query"
    assert request["biz_content"] == {"out_trade_no": "P1"}


def test_query_of_waiting_trade_is_not_paid(provider: AlipayProvider, gateway: FakeAlipayGateway) -> None:
    gateway.responses["alipay.trade.query"] = {
        "code": "10000",
        "msg": "Success",
        "trade_no": "2024060122001400000000000002",
        "out_trade_no": "P2",
        "trade_status": "WAIT_BUYER_PAY",
        "total_amount": "0.01",
    }

    notice = provider.query("P2")

    assert notice is not None
    assert (notice.amount, notice.paid) == (1, False)


def test_query_of_unknown_trade_is_none(provider: AlipayProvider, gateway: FakeAlipayGateway) -> None:
    gateway.responses["alipay.trade.query"] = {
        "code": "40004",
        "msg": "Business Failed",
        "sub_code": "ACQ.TRADE_NOT_EXIST",
        "sub_msg": "交易不存在",
    }

    assert provider.query("NOPE") is None


def test_query_response_signed_with_wrong_key_raises(
    provider: AlipayProvider, gateway: FakeAlipayGateway, other_key: rsa.RSAPrivateKey
) -> None:
    gateway.signing_key = other_key
    gateway.responses["alipay.trade.query"] = {
        "code": "10000",
        "msg": "Success",
        "trade_no": "T",
        "out_trade_no": "P1",
        "trade_status": "TRADE_SUCCESS",
        "total_amount": "199.00",
    }

    with pytest.raises(ProviderError):
        provider.query("P1")


def test_query_with_gateway_down_raises(make_provider: Callable[..., AlipayProvider]) -> None:
    provider = make_provider(gateway="http://127.0.0.1:9/gateway.do")

    with pytest.raises(ProviderError):
        provider.query("P1")


def test_refund_accepted(provider: AlipayProvider, gateway: FakeAlipayGateway) -> None:
    gateway.responses["alipay.trade.refund"] = {
        "code": "10000",
        "msg": "Success",
        "trade_no": "2024060122001400000000000001",
        "out_trade_no": "P1",
        "refund_fee": "12.34",
        "fund_change": "Y",
    }

    result = provider.refund(payment_no="P1", refund_no="R1", amount=1234, total=19900, reason="缺货")

    assert (result.refund_no, result.accepted, result.provider_refund_id) == ("R1", True, "")
    assert result.raw["refund_fee"] == "12.34"
    [request] = gateway.requests
    assert request["signature_ok"] is True
    assert request["biz_content"] == {
        "refund_amount": "12.34",
        "out_trade_no": "P1",
        "out_request_no": "R1",
        "refund_reason": "缺货",
    }


def test_refund_refused_by_alipay(provider: AlipayProvider, gateway: FakeAlipayGateway) -> None:
    gateway.responses["alipay.trade.refund"] = {
        "code": "40004",
        "msg": "Business Failed",
        "sub_code": "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL",
        "sub_msg": "退款金额超限",
    }

    result = provider.refund(payment_no="P1", refund_no="R2", amount=100, total=100)

    assert result.accepted is False
    assert result.raw["sub_code"] == "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL"


def test_refund_system_error_raises_for_retry(provider: AlipayProvider, gateway: FakeAlipayGateway) -> None:
    gateway.responses["alipay.trade.refund"] = {
        "code": "20000",
        "msg": "Service Currently Unavailable",
        "sub_code": "aop.unknow-error",
    }

    with pytest.raises(ProviderError):
        provider.refund(payment_no="P1", refund_no="R3", amount=100, total=100)


@pytest.mark.parametrize(("amount", "total"), [(0, 100), (-1, 100), (101, 100)])
def test_refund_amount_outside_total_is_a_programming_error(
    provider: AlipayProvider, gateway: FakeAlipayGateway, amount: int, total: int
) -> None:
    with pytest.raises(ValueError):
        provider.refund(payment_no="P1", refund_no="R4", amount=amount, total=total)
    assert gateway.requests == []
