"""WeChat Pay v3 adapter: notifies encrypted and signed with locally generated keys exactly as
the platform sends them, and API calls against a local fake that checks our Authorization
signature and signs its answers with the platform key."""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from jishi.payments.providers.base import InvalidNotify, Notice, PaymentRequest, ProviderError
from jishi.payments.providers.wechatpay import WeChatPayProvider
from jishi.payments.tests.rsa_keys import private_pem, public_pem, rsa_key, rsa_sign, rsa_verify

MCH_ID = "1900000109"
APP_ID = "wxd678efh567hg6787"
MCH_SERIAL = "444F4864EA9B34415A1B2C3D4E5F60718293A4B5"
PUBLIC_KEY_ID = "PUB_KEY_ID_0119000001092024060100000000000001"
APIV3_KEY = "a12d3924fd499edac8a5efc2b4c7d1e9"  # 32 bytes


def _signed_headers(key: rsa.RSAPrivateKey, body: str, *, timestamp: int | None = None) -> dict[str, str]:
    """The headers WeChat Pay puts on a notify or an API response."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    nonce = secrets.token_hex(16)
    return {
        "Wechatpay-Timestamp": ts,
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Signature": rsa_sign(key, f"{ts}\n{nonce}\n{body}\n"),
        "Wechatpay-Serial": PUBLIC_KEY_ID,
        "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
    }


@pytest.fixture(scope="module")
def mch_key() -> rsa.RSAPrivateKey:
    return rsa_key()


@pytest.fixture(scope="module")
def platform_key() -> rsa.RSAPrivateKey:
    return rsa_key()


@pytest.fixture(scope="module")
def other_key() -> rsa.RSAPrivateKey:
    return rsa_key()


class FakeWeChatPay:
    """``respond(method, path, body) -> (status, json)``; answers are signed with
    ``signing_key``. Every request is recorded with whether its Authorization verified."""

    AUTH_RE = re.compile(r"^WECHATPAY2-SHA256-RSA2048 (.*)$")

    def __init__(self, mch_key: rsa.RSAPrivateKey, signing_key: rsa.RSAPrivateKey) -> None:
        self.mch_key = mch_key
        self.signing_key = signing_key
        self.respond: Callable[[str, str, Any], tuple[int, dict[str, Any]]] = lambda m, p, b: (
            404,
            {"code": "NOT_FOUND", "message": "no handler"},
        )
        self.requests: list[dict[str, Any]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                fake.requests.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "body": json.loads(raw) if raw else None,
                        "auth_ok": fake.authorization_ok(self.command, self.path, raw, self.headers),
                    }
                )
                status, payload = fake.respond(self.command, self.path, json.loads(raw) if raw else None)
                body = json.dumps(payload, ensure_ascii=False)
                encoded = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(encoded)))
                for name, value in _signed_headers(fake.signing_key, body).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(encoded)

            do_GET = do_POST = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.01,), daemon=True)
        self.thread.start()

    def authorization_ok(self, method: str, path: str, body: str, headers: Any) -> bool:
        match = self.AUTH_RE.match(headers.get("Authorization", ""))
        if not match:
            return False
        parts = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1)))
        message = f"{method}\n{path}\n{parts['timestamp']}\n{parts['nonce_str']}\n{body}\n"
        return (
            parts["mchid"] == MCH_ID
            and parts["serial_no"] == MCH_SERIAL
            and rsa_verify(self.mch_key, message, parts["signature"])
        )

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake(mch_key: rsa.RSAPrivateKey, platform_key: rsa.RSAPrivateKey) -> Iterator[FakeWeChatPay]:
    server = FakeWeChatPay(mch_key, platform_key)
    yield server
    server.close()


@pytest.fixture
def make_provider(
    mch_key: rsa.RSAPrivateKey, platform_key: rsa.RSAPrivateKey, fake: FakeWeChatPay
) -> Callable[..., WeChatPayProvider]:
    def make(**overrides: Any) -> WeChatPayProvider:
        kwargs: dict[str, Any] = {
            "mch_id": MCH_ID,
            "app_id": APP_ID,
            "mch_private_key": private_pem(mch_key),
            "mch_cert_serial_no": MCH_SERIAL,
            "apiv3_key": APIV3_KEY,
            "public_key": public_pem(platform_key),
            "public_key_id": PUBLIC_KEY_ID,
            "base_url": fake.url,
            "timeout": 5,
        }
        kwargs.update(overrides)
        return WeChatPayProvider(**kwargs)

    return make


@pytest.fixture
def provider(make_provider: Callable[..., WeChatPayProvider]) -> WeChatPayProvider:
    return make_provider()


def _transaction(**overrides: Any) -> dict[str, Any]:
    transaction: dict[str, Any] = {
        "mchid": MCH_ID,
        "appid": APP_ID,
        "out_trade_no": "P20240601000001",
        "transaction_id": "4200002211202406010000000001",
        "trade_type": "JSAPI",
        "trade_state": "SUCCESS",
        "trade_state_desc": "支付成功",
        "bank_type": "OTHERS",
        "attach": "",
        "success_time": "2024-06-01T10:00:05+08:00",
        "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
        "amount": {"total": 19900, "payer_total": 19900, "currency": "CNY", "payer_currency": "CNY"},
    }
    transaction.update(overrides)
    return transaction


def _encrypt(plaintext: str, *, nonce: str, associated_data: str, key: str = APIV3_KEY) -> str:
    sealed = AESGCM(key.encode()).encrypt(nonce.encode(), plaintext.encode(), associated_data.encode())
    return base64.b64encode(sealed).decode()


def _notify_body(transaction: dict[str, Any], *, key: str = APIV3_KEY, resource_type: str = "encrypt-resource") -> str:
    nonce = secrets.token_hex(6)  # WeChat uses 12-character nonces
    return json.dumps(
        {
            "id": "EV-2018022511223320873",
            "create_time": "2024-06-01T10:00:06+08:00",
            "resource_type": resource_type,
            "event_type": "TRANSACTION.SUCCESS",
            "summary": "支付成功",
            "resource": {
                "original_type": "transaction",
                "algorithm": "AEAD_AES_256_GCM",
                "ciphertext": _encrypt(
                    json.dumps(transaction, ensure_ascii=False),
                    nonce=nonce,
                    associated_data="transaction",
                    key=key,
                ),
                "associated_data": "transaction",
                "nonce": nonce,
            },
        },
        ensure_ascii=False,
    )


def _notify(
    platform_key: rsa.RSAPrivateKey, transaction: dict[str, Any] | None = None, **kwargs: Any
) -> tuple[bytes, dict[str, str]]:
    body = _notify_body(transaction or _transaction(), **kwargs)
    return body.encode(), _signed_headers(platform_key, body)


def test_valid_notify_parses_to_exact_notice(provider: WeChatPayProvider, platform_key: rsa.RSAPrivateKey) -> None:
    body, headers = _notify(platform_key)

    notice = provider.parse_notify(body, headers)

    assert notice == Notice(
        payment_no="P20240601000001",
        provider_txn_id="4200002211202406010000000001",
        amount=19900,
        currency="CNY",
        paid=True,
        raw=notice.raw,
    )
    assert notice.raw["id"] == "EV-2018022511223320873"
    assert notice.raw["resource"] == _transaction()


def test_notify_headers_from_django_meta_are_understood(
    provider: WeChatPayProvider, platform_key: rsa.RSAPrivateKey
) -> None:
    body, headers = _notify(platform_key)
    meta = {"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()}

    assert provider.parse_notify(body, meta).amount == 19900


def test_lowercase_notify_headers_are_understood(provider: WeChatPayProvider, platform_key: rsa.RSAPrivateKey) -> None:
    body, headers = _notify(platform_key)

    notice = provider.parse_notify(body, {name.lower(): value for name, value in headers.items()})

    assert notice.payment_no == "P20240601000001"


@pytest.mark.parametrize(("total", "expected"), [(1, 1), (19900, 19900), (123456789, 123456789)])
def test_notify_amount_is_fen(
    provider: WeChatPayProvider, platform_key: rsa.RSAPrivateKey, total: int, expected: int
) -> None:
    amount = {"total": total, "payer_total": total, "currency": "CNY", "payer_currency": "CNY"}
    body, headers = _notify(platform_key, _transaction(amount=amount))

    assert provider.parse_notify(body, headers).amount == expected


def test_unpaid_trade_state_is_not_paid(provider: WeChatPayProvider, platform_key: rsa.RSAPrivateKey) -> None:
    body, headers = _notify(platform_key, _transaction(trade_state="NOTPAY", transaction_id=""))

    assert provider.parse_notify(body, headers).paid is False


def test_tampered_body_is_rejected(provider: WeChatPayProvider, platform_key: rsa.RSAPrivateKey) -> None:
    body, headers = _notify(platform_key)
    tampered = body.replace(b"EV-2018022511223320873", b"EV-2018022511223320874")
    assert tampered != body

    with pytest.raises(InvalidNotify):
        provider.parse_notify(tampered, headers)


def test_notify_signed_with_another_key_is_rejected(provider: WeChatPayProvider, other_key: rsa.RSAPrivateKey) -> None:
    body, headers = _notify(other_key)

    with pytest.raises(InvalidNotify):
        provider.parse_notify(body, headers)


@pytest.mark.parametrize("missing", ["Wechatpay-Signature", "Wechatpay-Timestamp", "Wechatpay-Nonce"])
def test_missing_signature_header_is_rejected(
    provider: WeChatPayProvider, platform_key: rsa.RSAPrivateKey, missing: str
) -> None:
    body, headers = _notify(platform_key)
    del headers[missing]

    with pytest.raises(InvalidNotify):
        provider.parse_notify(body, headers)


def test_garbage_signature_is_rejected(provider: WeChatPayProvider, platform_key: rsa.RSAPrivateKey) -> None:
    body, headers = _notify(platform_key)
    headers["Wechatpay-Signature"] = "not base64!"

    with pytest.raises(InvalidNotify):
        provider.parse_notify(body, headers)


@pytest.mark.parametrize(
    "serial", ["PUB_KEY_ID_0119000001092024060100000000000002", "5157F09EFDC096DE15EBE81A47057A72", ""]
)
def test_wrong_serial_is_rejected_without_downloading_certificates(
    provider: WeChatPayProvider, platform_key: rsa.RSAPrivateKey, fake: FakeWeChatPay, serial: str
) -> None:
    body, headers = _notify(platform_key)
    headers["Wechatpay-Serial"] = serial

    with pytest.raises(InvalidNotify):
        provider.parse_notify(body, headers)
    assert fake.requests == []


def test_unknown_signature_type_is_rejected(provider: WeChatPayProvider, platform_key: rsa.RSAPrivateKey) -> None:
    body, headers = _notify(platform_key)
    headers["Wechatpay-Signature-Type"] = "WECHATPAY2-SM2-WITH-SM3"

    with pytest.raises(InvalidNotify):
        provider.parse_notify(body, headers)


def test_bad_ciphertext_is_rejected(provider: WeChatPayProvider, platform_key: rsa.RSAPrivateKey) -> None:
    """Correctly signed, but the AEAD tag no longer matches."""
    data = json.loads(_notify_body(_transaction()))
    sealed = bytearray(base64.b64decode(data["resource"]["ciphertext"]))
    sealed[0] ^= 0x01
    data["resource"]["ciphertext"] = base64.b64encode(bytes(sealed)).decode()
    body = json.dumps(data)

    with pytest.raises(InvalidNotify):
        provider.parse_notify(body.encode(), _signed_headers(platform_key, body))


def test_ciphertext_that_is_not_base64_is_rejected(
    provider: WeChatPayProvider, platform_key: rsa.RSAPrivateKey
) -> None:
    data = json.loads(_notify_body(_transaction()))
    data["resource"]["ciphertext"] = "%%%"
    body = json.dumps(data)

    with pytest.raises(InvalidNotify):
        provider.parse_notify(body.encode(), _signed_headers(platform_key, body))


def test_resource_encrypted_with_another_apiv3_key_is_rejected(
    provider: WeChatPayProvider, platform_key: rsa.RSAPrivateKey
) -> None:
    body, headers = _notify(platform_key, key="b" * 32)

    with pytest.raises(InvalidNotify):
        provider.parse_notify(body, headers)


def test_wrong_associated_data_is_rejected(provider: WeChatPayProvider, platform_key: rsa.RSAPrivateKey) -> None:
    data = json.loads(_notify_body(_transaction()))
    data["resource"]["associated_data"] = "refund"
    body = json.dumps(data)

    with pytest.raises(InvalidNotify):
        provider.parse_notify(body.encode(), _signed_headers(platform_key, body))


def test_plain_resource_type_is_rejected(provider: WeChatPayProvider, platform_key: rsa.RSAPrivateKey) -> None:
    body, headers = _notify(platform_key, resource_type="plain-resource")

    with pytest.raises(InvalidNotify):
        provider.parse_notify(body, headers)


@pytest.mark.parametrize("age", [301, -301])
def test_stale_or_future_timestamp_is_rejected(
    provider: WeChatPayProvider, platform_key: rsa.RSAPrivateKey, age: int
) -> None:
    body = _notify_body(_transaction())
    headers = _signed_headers(platform_key, body, timestamp=int(time.time()) - age)

    with pytest.raises(InvalidNotify):
        provider.parse_notify(body.encode(), headers)


def test_notify_for_another_merchant_is_rejected(provider: WeChatPayProvider, platform_key: rsa.RSAPrivateKey) -> None:
    body, headers = _notify(platform_key, _transaction(mchid="1900000999"))

    with pytest.raises(InvalidNotify):
        provider.parse_notify(body, headers)


@pytest.mark.parametrize(
    "overrides",
    [
        {"amount": {"total": "199.00", "currency": "CNY"}},
        {"amount": {"total": True, "currency": "CNY"}},
        {"out_trade_no": ""},
        {"transaction_id": ""},
        {"trade_state": None, "amount": None},
    ],
)
def test_malformed_transaction_is_rejected(
    provider: WeChatPayProvider, platform_key: rsa.RSAPrivateKey, overrides: dict[str, Any]
) -> None:
    body, headers = _notify(platform_key, _transaction(**overrides))

    with pytest.raises(InvalidNotify):
        provider.parse_notify(body, headers)


def test_ack_speaks_wechatpay(provider: WeChatPayProvider) -> None:
    assert provider.ack(True) == (200, "application/json", '{"code": "SUCCESS"}')
    status, content_type, body = provider.ack(False)
    assert (status, content_type, json.loads(body)["code"]) == (400, "application/json", "FAIL")


def test_constructor_needs_a_32_byte_apiv3_key(make_provider: Callable[..., WeChatPayProvider]) -> None:
    with pytest.raises(ValueError):
        make_provider(apiv3_key="short")


def test_start_with_openid_returns_signed_jsapi_params(
    provider: WeChatPayProvider, fake: FakeWeChatPay, mch_key: rsa.RSAPrivateKey
) -> None:
    fake.respond = lambda method, path, body: (200, {"prepay_id": "wx201410272009395522657a690389285100"})
    req = PaymentRequest(
        payment_no="P1",
        amount=19900,
        subject="集市订单",
        notify_url="https://shop.example/api/payments/notify/wechatpay/",
        payer_openid="oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
    )

    start = provider.start(req)

    params = start.params
    assert start.pay_url == ""
    assert params["appId"] == APP_ID
    assert params["package"] == "prepay_id=wx201410272009395522657a690389285100"
    assert params["signType"] == "RSA"
    message = f"{APP_ID}\n{params['timeStamp']}\n{params['nonceStr']}\n{params['package']}\n"
    assert rsa_verify(mch_key, message, params["paySign"])
    [request] = fake.requests
    assert request["auth_ok"] is True
    assert (request["method"], request["path"]) == ("POST", "/v3/pay/transactions/jsapi")
    assert request["body"] == {
        "notify_url": req.notify_url,
        "description": "集市订单",
        "out_trade_no": "P1",
        "amount": {"total": 19900, "currency": "CNY"},
        "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
        "appid": APP_ID,
        "mchid": MCH_ID,
    }


def test_start_without_openid_returns_native_code_url(provider: WeChatPayProvider, fake: FakeWeChatPay) -> None:
    fake.respond = lambda method, path, body: (200, {"code_url": "weixin://wxpay/bizpayurl?pr=p4lpSuKzz"})
    req = PaymentRequest(payment_no="P1", amount=1, subject="集市订单", notify_url="https://n.example/")

    start = provider.start(req)

    assert start.pay_url == "weixin://wxpay/bizpayurl?pr=p4lpSuKzz"
    [request] = fake.requests
    assert request["path"] == "/v3/pay/transactions/native"
    assert request["body"]["amount"] == {"total": 1, "currency": "CNY"}


def test_start_rejected_by_wechatpay_raises(provider: WeChatPayProvider, fake: FakeWeChatPay) -> None:
    fake.respond = lambda method, path, body: (400, {"code": "PARAM_ERROR", "message": "参数错误"})
    req = PaymentRequest(payment_no="P1", amount=1, subject="x", notify_url="https://n.example/")

    with pytest.raises(ProviderError):
        provider.start(req)


def test_query_returns_paid_notice(provider: WeChatPayProvider, fake: FakeWeChatPay) -> None:
    fake.respond = lambda method, path, body: (200, _transaction(out_trade_no="P1"))

    notice = provider.query("P1")

    assert notice is not None
    assert (notice.payment_no, notice.provider_txn_id, notice.amount, notice.currency, notice.paid) == (
        "P1",
        "4200002211202406010000000001",
        19900,
        "CNY",
        True,
    )
    [request] = fake.requests
    assert request["auth_ok"] is True
    assert (request["method"], request["path"]) == (
        "GET",
        f"/v3/pay/transactions/out-trade-no/P1?mchid={MCH_ID}",
    )


def test_query_of_unpaid_order(provider: WeChatPayProvider, fake: FakeWeChatPay) -> None:
    unpaid = _transaction(out_trade_no="P2", trade_state="NOTPAY", amount={"total": 500, "currency": "CNY"})
    del unpaid["transaction_id"]
    fake.respond = lambda method, path, body: (200, unpaid)

    notice = provider.query("P2")

    assert notice is not None
    assert (notice.provider_txn_id, notice.amount, notice.paid) == ("", 500, False)


def test_query_of_unknown_order_is_none(provider: WeChatPayProvider, fake: FakeWeChatPay) -> None:
    fake.respond = lambda method, path, body: (404, {"code": "ORDER_NOT_EXIST", "message": "订单不存在"})

    assert provider.query("NOPE") is None


def test_query_response_signed_with_wrong_key_raises(
    provider: WeChatPayProvider, fake: FakeWeChatPay, other_key: rsa.RSAPrivateKey
) -> None:
    fake.signing_key = other_key
    fake.respond = lambda method, path, body: (200, _transaction(out_trade_no="P1"))

    with pytest.raises(ProviderError):
        provider.query("P1")


def test_query_with_server_down_raises(make_provider: Callable[..., WeChatPayProvider]) -> None:
    provider = make_provider(base_url="http://127.0.0.1:9")

    with pytest.raises(ProviderError):
        provider.query("P1")


def test_refund_accepted(provider: WeChatPayProvider, fake: FakeWeChatPay) -> None:
    fake.respond = lambda method, path, body: (
        200,
        {
            "refund_id": "50000000382019052709732678859",
            "out_refund_no": "R1",
            "out_trade_no": "P1",
            "status": "PROCESSING",
            "amount": {"refund": 1234, "total": 19900, "currency": "CNY"},
        },
    )

    result = provider.refund(payment_no="P1", refund_no="R1", amount=1234, total=19900, reason="缺货")

    assert (result.refund_no, result.accepted, result.provider_refund_id) == (
        "R1",
        True,
        "50000000382019052709732678859",
    )
    [request] = fake.requests
    assert request["auth_ok"] is True
    assert (request["method"], request["path"]) == ("POST", "/v3/refund/domestic/refunds")
    assert request["body"] == {
        "out_refund_no": "R1",
        "amount": {"refund": 1234, "total": 19900, "currency": "CNY"},
        "out_trade_no": "P1",
        "reason": "缺货",
    }


def test_refund_refused_by_wechatpay(provider: WeChatPayProvider, fake: FakeWeChatPay) -> None:
    fake.respond = lambda method, path, body: (403, {"code": "NOT_ENOUGH", "message": "余额不足"})

    result = provider.refund(payment_no="P1", refund_no="R2", amount=100, total=100)

    assert (result.accepted, result.provider_refund_id, result.raw["code"]) == (False, "", "NOT_ENOUGH")


def test_refund_system_error_raises_for_retry(provider: WeChatPayProvider, fake: FakeWeChatPay) -> None:
    fake.respond = lambda method, path, body: (500, {"code": "SYSTEM_ERROR", "message": "系统错误"})

    with pytest.raises(ProviderError):
        provider.refund(payment_no="P1", refund_no="R3", amount=100, total=100)
