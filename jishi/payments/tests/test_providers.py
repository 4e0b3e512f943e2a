"""Provider layer: fen/yuan conversion, header lookup, the sandbox provider and the registry."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.exceptions import ImproperlyConfigured

from jishi.payments.providers import available_providers, get_provider
from jishi.payments.providers.alipay import AlipayProvider
from jishi.payments.providers.base import (
    InvalidNotify,
    Notice,
    PaymentRequest,
    PaymentStart,
    RefundResult,
    fen_to_yuan,
    header_value,
    yuan_to_fen,
)
from jishi.payments.providers.sandbox import SandboxProvider
from jishi.payments.providers.wechatpay import WeChatPayProvider

# -- money ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fen", "yuan"),
    [(0, "0.00"), (1, "0.01"), (10, "0.10"), (100, "1.00"), (19900, "199.00"), (123456789, "1234567.89")],
)
def test_fen_and_yuan_convert_exactly_both_ways(fen: int, yuan: str) -> None:
    assert fen_to_yuan(fen) == yuan
    assert yuan_to_fen(yuan) == fen


@pytest.mark.parametrize(("yuan", "fen"), [("199", 19900), ("0.1", 10), ("199.5", 19950), ("99999999.99", 9999999999)])
def test_yuan_without_two_decimals_converts_exactly(yuan: str, fen: int) -> None:
    assert yuan_to_fen(yuan) == fen


@pytest.mark.parametrize(
    "yuan",
    ["", "1.005", "-1.00", "+1.00", "1e3", "NaN", "Infinity", " 1.00", "1,000.00", "01.00", "1.", ".5"],
)
def test_yuan_that_is_not_an_exact_amount_is_refused(yuan: str) -> None:
    with pytest.raises(ValueError):
        yuan_to_fen(yuan)


def test_negative_fen_is_refused() -> None:
    with pytest.raises(ValueError):
        fen_to_yuan(-1)


@pytest.mark.parametrize("fen", [1.5, True, "100"])
def test_non_int_fen_is_refused(fen: Any) -> None:
    with pytest.raises(TypeError):
        fen_to_yuan(fen)


# -- headers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [{"X-Sandbox-Nonce": "n1"}, {"x-sandbox-nonce": "n1"}, {"HTTP_X_SANDBOX_NONCE": "n1"}],
)
def test_header_value_finds_header_in_any_spelling(headers: dict[str, str]) -> None:
    assert header_value(headers, "X-Sandbox-Nonce") == "n1"


def test_header_value_of_absent_header_is_empty() -> None:
    assert header_value({"Other": "x"}, "X-Sandbox-Nonce") == ""


# -- sandbox -------------------------------------------------------------------------------


@pytest.fixture
def sandbox() -> SandboxProvider:
    return SandboxProvider(secret="test-secret", notify_max_age=300)


def test_sandbox_start_points_at_the_sandbox_pay_page(sandbox: SandboxProvider) -> None:
    req = PaymentRequest(payment_no="P1", amount=19900, subject="集市订单", notify_url="/n/")

    assert sandbox.start(req) == PaymentStart(
        pay_url="/pay/sandbox/P1/",
        params={"payment_no": "P1", "amount": 19900, "currency": "CNY", "subject": "集市订单"},
    )


def test_sandbox_sign_then_parse_round_trips(sandbox: SandboxProvider) -> None:
    body, headers = sandbox.sign_notify("P1", 19900, "CNY", "SBX-1")

    notice = sandbox.parse_notify(body, headers)

    assert notice == Notice(
        payment_no="P1",
        provider_txn_id="SBX-1",
        amount=19900,
        currency="CNY",
        paid=True,
        raw={
            "payment_no": "P1",
            "txn_id": "SBX-1",
            "amount": 19900,
            "currency": "CNY",
            "status": "TRADE_SUCCESS",
        },
    )
    assert set(headers) == {"X-Sandbox-Signature", "X-Sandbox-Timestamp", "X-Sandbox-Nonce"}


def test_sandbox_notify_through_django_meta_headers(sandbox: SandboxProvider) -> None:
    body, headers = sandbox.sign_notify("P1", 1, "CNY", "SBX-1")
    meta = {"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()}

    assert sandbox.parse_notify(body, meta).amount == 1


def test_sandbox_unpaid_status_is_not_paid(sandbox: SandboxProvider) -> None:
    body, headers = sandbox.sign_notify("P1", 100, "CNY", "SBX-1", status="TRADE_CLOSED")

    assert sandbox.parse_notify(body, headers).paid is False


def test_sandbox_tampered_body_is_rejected(sandbox: SandboxProvider) -> None:
    body, headers = sandbox.sign_notify("P1", 1, "CNY", "SBX-1")
    tampered = body.replace(b'"amount":1,', b'"amount":100,')
    assert tampered != body

    with pytest.raises(InvalidNotify):
        sandbox.parse_notify(tampered, headers)


@pytest.mark.parametrize("header", ["X-Sandbox-Timestamp", "X-Sandbox-Nonce"])
def test_sandbox_tampered_signed_header_is_rejected(sandbox: SandboxProvider, header: str) -> None:
    body, headers = sandbox.sign_notify("P1", 1, "CNY", "SBX-1")
    headers[header] = headers[header][:-1] + ("0" if headers[header][-1] != "0" else "1")

    with pytest.raises(InvalidNotify):
        sandbox.parse_notify(body, headers)


@pytest.mark.parametrize("header", ["X-Sandbox-Signature", "X-Sandbox-Timestamp", "X-Sandbox-Nonce"])
def test_sandbox_missing_header_is_rejected(sandbox: SandboxProvider, header: str) -> None:
    body, headers = sandbox.sign_notify("P1", 1, "CNY", "SBX-1")
    del headers[header]

    with pytest.raises(InvalidNotify):
        sandbox.parse_notify(body, headers)


def test_sandbox_notify_signed_with_another_secret_is_rejected(sandbox: SandboxProvider) -> None:
    body, headers = SandboxProvider(secret="other-secret").sign_notify("P1", 1, "CNY", "SBX-1")

    with pytest.raises(InvalidNotify):
        sandbox.parse_notify(body, headers)


@pytest.mark.parametrize("age", [301, -301])
def test_sandbox_stale_or_future_timestamp_is_rejected(sandbox: SandboxProvider, age: int) -> None:
    body, headers = sandbox.sign_notify("P1", 1, "CNY", "SBX-1", timestamp=int(time.time()) - age)

    with pytest.raises(InvalidNotify):
        sandbox.parse_notify(body, headers)


def test_sandbox_notify_within_max_age_is_accepted(sandbox: SandboxProvider) -> None:
    body, headers = sandbox.sign_notify("P1", 1, "CNY", "SBX-1", timestamp=int(time.time()) - 290)

    assert sandbox.parse_notify(body, headers).paid is True


@pytest.mark.parametrize(
    "payload",
    [
        {"payment_no": "P1", "txn_id": "T", "amount": "1.00", "currency": "CNY", "status": "TRADE_SUCCESS"},
        {"payment_no": "P1", "txn_id": "T", "amount": True, "currency": "CNY", "status": "TRADE_SUCCESS"},
        {"payment_no": "", "txn_id": "T", "amount": 1, "currency": "CNY", "status": "TRADE_SUCCESS"},
        {"txn_id": "T", "amount": 1, "currency": "CNY", "status": "TRADE_SUCCESS"},
        ["not", "an", "object"],
    ],
)
def test_sandbox_correctly_signed_but_malformed_notify_is_rejected(sandbox: SandboxProvider, payload: Any) -> None:
    body = json.dumps(payload).encode()
    ts, nonce = str(int(time.time())), "n" * 32
    signature = hmac.new(b"test-secret", f"{ts}\n{nonce}\n".encode() + body + b"\n", hashlib.sha256).hexdigest()
    headers = {"X-Sandbox-Signature": signature, "X-Sandbox-Timestamp": ts, "X-Sandbox-Nonce": nonce}

    with pytest.raises(InvalidNotify):
        sandbox.parse_notify(body, headers)


def test_sandbox_ack() -> None:
    sandbox = SandboxProvider(secret="s")

    assert (sandbox.ack(True), sandbox.ack(False)) == (
        (200, "text/plain", "success"),
        (400, "text/plain", "fail"),
    )


def test_sandbox_query_follows_the_payment(sandbox: SandboxProvider) -> None:
    sandbox.start(PaymentRequest(payment_no="P1", amount=500, subject="x", notify_url="/n/"))
    before = sandbox.query("P1")
    sandbox.sign_notify("P1", 500, "CNY", "SBX-1")

    after = sandbox.query("P1")

    assert before is not None and after is not None
    assert (before.paid, before.amount, before.provider_txn_id) == (False, 500, "")
    assert (after.paid, after.amount, after.provider_txn_id) == (True, 500, "SBX-1")


def test_sandbox_paid_payment_stays_paid(sandbox: SandboxProvider) -> None:
    sandbox.sign_notify("P1", 500, "CNY", "SBX-1")
    sandbox.sign_notify("P1", 500, "CNY", "SBX-2", status="TRADE_CLOSED")

    notice = sandbox.query("P1")

    assert notice is not None
    assert (notice.paid, notice.provider_txn_id) == (True, "SBX-1")


def test_sandbox_query_of_unknown_payment_is_none(sandbox: SandboxProvider) -> None:
    assert sandbox.query("NOPE") is None


def test_sandbox_parse_notify_teaches_query(sandbox: SandboxProvider) -> None:
    """A notify verified by another process's provider instance is still known to query."""
    body, headers = sandbox.sign_notify("P1", 700, "CNY", "SBX-1")
    receiver = SandboxProvider(secret="test-secret")

    receiver.parse_notify(body, headers)

    notice = receiver.query("P1")
    assert notice is not None and notice.paid is True and notice.amount == 700


def test_sandbox_refund_is_accepted_with_a_deterministic_id(sandbox: SandboxProvider) -> None:
    sandbox.sign_notify("P1", 19900, "CNY", "SBX-1")

    result = sandbox.refund(payment_no="P1", refund_no="R1", amount=1234, total=19900, reason="缺货")

    assert result == RefundResult(
        refund_no="R1",
        state="succeeded",
        provider_refund_id="SBR-R1",
        raw={"payment_no": "P1", "amount": 1234, "reason": "缺货"},
    )


def test_sandbox_refund_replay_returns_the_first_result(sandbox: SandboxProvider) -> None:
    sandbox.sign_notify("P1", 1000, "CNY", "SBX-1")
    first = sandbox.refund(payment_no="P1", refund_no="R1", amount=1000, total=1000)

    replay = sandbox.refund(payment_no="P1", refund_no="R1", amount=1000, total=1000)

    assert replay == first
    assert first.accepted is True


def test_sandbox_refunds_beyond_the_total_are_refused(sandbox: SandboxProvider) -> None:
    sandbox.sign_notify("P1", 1000, "CNY", "SBX-1")
    first = sandbox.refund(payment_no="P1", refund_no="R1", amount=600, total=1000)

    second = sandbox.refund(payment_no="P1", refund_no="R2", amount=401, total=1000)
    third = sandbox.refund(payment_no="P1", refund_no="R3", amount=400, total=1000)

    assert (first.accepted, second.accepted, third.accepted) == (True, False, True)


def test_sandbox_refund_of_payment_this_process_never_saw_is_accepted(sandbox: SandboxProvider) -> None:
    assert sandbox.refund(payment_no="ELSEWHERE", refund_no="R1", amount=1, total=1).accepted is True


@pytest.mark.parametrize(("amount", "total"), [(0, 100), (-1, 100), (101, 100)])
def test_sandbox_refund_outside_total_is_a_programming_error(sandbox: SandboxProvider, amount: int, total: int) -> None:
    with pytest.raises(ValueError):
        sandbox.refund(payment_no="P1", refund_no="R1", amount=amount, total=total)


def test_sandbox_forgets_oldest_payments_beyond_its_bound() -> None:
    sandbox = SandboxProvider(secret="s", max_tracked=2)
    for payment_no in ("P1", "P2", "P3"):
        sandbox.sign_notify(payment_no, 1, "CNY", f"T-{payment_no}")

    assert [sandbox.query(p) is not None for p in ("P1", "P2", "P3")] == [False, True, True]


# -- registry ------------------------------------------------------------------------------


def _pem_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def test_sandbox_works_with_zero_configuration(settings: Any) -> None:
    del settings.JISHI_PAYMENTS  # may or may not exist in settings.py
    provider = get_provider("sandbox")
    assert isinstance(provider, SandboxProvider)
    body, headers = provider.sign_notify("P1", 1, "CNY", "SBX-1")

    assert provider.parse_notify(body, headers).paid is True
    assert available_providers() == ["sandbox"]


def test_default_sandbox_secret_is_derived_from_secret_key(settings: Any) -> None:
    settings.SECRET_KEY = "k" * 50
    settings.JISHI_PAYMENTS = {}
    derived = hmac.new(b"k" * 50, b"jishi.payments.sandbox", hashlib.sha256).hexdigest()
    body, headers = SandboxProvider(secret=derived).sign_notify("P1", 1, "CNY", "SBX-1")

    assert get_provider("sandbox").parse_notify(body, headers).amount == 1


def test_changing_secret_key_changes_the_sandbox_secret(settings: Any) -> None:
    settings.SECRET_KEY = "a" * 50
    provider = get_provider("sandbox")
    assert isinstance(provider, SandboxProvider)
    body, headers = provider.sign_notify("P1", 1, "CNY", "SBX-1")
    settings.SECRET_KEY = "b" * 50

    with pytest.raises(InvalidNotify):
        get_provider("sandbox").parse_notify(body, headers)


def test_get_provider_returns_one_instance_per_process(settings: Any) -> None:
    settings.JISHI_PAYMENTS = {"SANDBOX": {"SECRET": "x"}}

    assert get_provider("sandbox") is get_provider("sandbox")


def test_sandbox_settings_are_honoured(settings: Any) -> None:
    settings.JISHI_PAYMENTS = {
        "NOTIFY_MAX_AGE_SECONDS": 10,
        "SANDBOX": {"SECRET": "configured", "PAY_URL": "/demo/pay/{payment_no}"},
    }
    provider = get_provider("sandbox")
    req = PaymentRequest(payment_no="P 1", amount=1, subject="x", notify_url="/n/")
    body, headers = SandboxProvider(secret="configured").sign_notify(
        "P1", 1, "CNY", "T", timestamp=int(time.time()) - 11
    )

    assert provider.start(req).pay_url == "/demo/pay/P%201"
    with pytest.raises(InvalidNotify):
        provider.parse_notify(body, headers)


def test_disabled_sandbox_is_not_available(settings: Any) -> None:
    settings.JISHI_PAYMENTS = {"SANDBOX": {"ENABLED": False}}

    assert available_providers() == []
    with pytest.raises(ImproperlyConfigured):
        get_provider("sandbox")


def test_unknown_provider_name_raises_lookup_error() -> None:
    with pytest.raises(LookupError):
        get_provider("paypal")


@pytest.mark.parametrize("name", ["alipay", "wechatpay"])
def test_unconfigured_real_provider_raises(settings: Any, name: str) -> None:
    settings.JISHI_PAYMENTS = {}

    with pytest.raises(ImproperlyConfigured):
        get_provider(name)


def test_half_configured_alipay_names_what_is_missing(settings: Any) -> None:
    settings.JISHI_PAYMENTS = {"ALIPAY": {"APP_ID": "2021004100000001"}}

    with pytest.raises(ImproperlyConfigured, match="APP_PRIVATE_KEY, ALIPAY_PUBLIC_KEY"):
        get_provider("alipay")


def test_configured_real_providers_are_built(settings: Any) -> None:
    app_private, _ = _pem_pair()
    _, alipay_public = _pem_pair()
    mch_private, _ = _pem_pair()
    _, platform_public = _pem_pair()
    settings.JISHI_PAYMENTS = {
        "SANDBOX": {"ENABLED": False},
        "ALIPAY": {
            "APP_ID": "2021004100000001",
            "APP_PRIVATE_KEY": app_private,
            "ALIPAY_PUBLIC_KEY": alipay_public,
        },
        "WECHATPAY": {
            "MCH_ID": "1900000109",
            "APP_ID": "wxd678efh567hg6787",
            "MCH_PRIVATE_KEY": mch_private,
            "MCH_CERT_SERIAL_NO": "444F4864EA9B34415A1B2C3D4E5F60718293A4B5",
            "APIV3_KEY": "a12d3924fd499edac8a5efc2b4c7d1e9",
            "PUBLIC_KEY": platform_public,
            "PUBLIC_KEY_ID": "PUB_KEY_ID_0119000001092024060100000000000001",
        },
    }

    alipay, wechatpay = get_provider("alipay"), get_provider("wechatpay")

    assert available_providers() == ["alipay", "wechatpay"]
    assert (type(alipay), alipay.name) == (AlipayProvider, "alipay")
    assert (type(wechatpay), wechatpay.name) == (WeChatPayProvider, "wechatpay")
    start = alipay.start(PaymentRequest(payment_no="P1", amount=1, subject="x", notify_url="https://n/"))
    assert start.pay_url.startswith("https://openapi.alipay.com/gateway.do?")


def test_bare_base64_keys_from_the_alipay_console_are_accepted() -> None:
    app_private, _ = _pem_pair()
    _, alipay_public = _pem_pair()

    def bare(pem: str) -> str:
        return "".join(line for line in pem.splitlines() if not line.startswith("-----"))

    provider = AlipayProvider(
        app_id="2021004100000001", app_private_key=bare(app_private), alipay_public_key=bare(alipay_public)
    )

    assert provider.name == "alipay"
