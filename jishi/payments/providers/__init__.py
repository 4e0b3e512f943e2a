"""Payment provider registry: builds the sandbox, Alipay and WeChat Pay adapters from settings.

Configuration is the optional dict ``settings.JISHI_PAYMENTS``; every key is optional and
the sandbox works with none at all::

    JISHI_PAYMENTS = {
        "NOTIFY_MAX_AGE_SECONDS": 300,  # sandbox/WeChat notifies older (or newer) are refused
        "HTTP_TIMEOUT_SECONDS": 15,     # Alipay/WeChat API calls
        "SANDBOX": {
            "ENABLED": True,            # set False in production
            "SECRET": "",               # default: HMAC-SHA256(SECRET_KEY, "jishi.payments.sandbox")
            "PAY_URL": "/pay/sandbox/{payment_no}/",
        },
        "ALIPAY": {                     # enabled when APP_ID is set
            "APP_ID": "",
            "APP_PRIVATE_KEY": "",      # PEM, or the bare base64 the Alipay console shows
            "ALIPAY_PUBLIC_KEY": "",    # PEM or bare base64 (支付宝公钥, not the app public key)
            "GATEWAY": "https://openapi.alipay.com/gateway.do",
            "PAY_METHOD": "wap",        # "wap" (alipay.trade.wap.pay) or "page" (PC page pay)
        },
        "WECHATPAY": {                  # enabled when MCH_ID is set
            "MCH_ID": "",
            "APP_ID": "",
            "MCH_PRIVATE_KEY": "",      # merchant API private key (PKCS#8 PEM or bare base64)
            "MCH_CERT_SERIAL_NO": "",   # merchant API certificate serial number
            "APIV3_KEY": "",            # 32-byte APIv3 key
            "PUBLIC_KEY": "",           # WeChat Pay platform public key (PEM or bare base64)
            "PUBLIC_KEY_ID": "",        # its id, "PUB_KEY_ID_..."; notifies carry it as serial
            "BASE_URL": "https://api.mch.weixin.qq.com",
        },
    }

Providers are built once per process and cached (the sandbox keeps its fake state on the
instance); the cache is dropped when ``JISHI_PAYMENTS`` or ``SECRET_KEY`` change in tests.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed

from .base import (
    InvalidNotify,
    Notice,
    PaymentProvider,
    PaymentRequest,
    PaymentStart,
    ProviderError,
    RefundResult,
    fen_to_yuan,
    yuan_to_fen,
)

__all__ = [
    "InvalidNotify",
    "Notice",
    "PaymentProvider",
    "PaymentRequest",
    "PaymentStart",
    "ProviderError",
    "RefundResult",
    "available_providers",
    "fen_to_yuan",
    "get_provider",
    "reset_providers",
    "yuan_to_fen",
]

PROVIDER_NAMES = ("sandbox", "alipay", "wechatpay")

_cache: dict[str, PaymentProvider] = {}
_cache_lock = threading.Lock()


def get_provider(name: str) -> PaymentProvider:
    """The configured adapter for ``name``. LookupError for an unknown name,
    ImproperlyConfigured for a known provider that is disabled or half configured."""
    if name not in _BUILDERS:
        raise LookupError(f"unknown payment provider: {name!r}")
    with _cache_lock:
        provider = _cache.get(name)
        if provider is None:
            provider = _cache[name] = _BUILDERS[name](_config())
        return provider


def available_providers() -> list[str]:
    """Names of the providers that are switched on by configuration, in a stable order."""
    config = _config()
    enabled = {
        "sandbox": bool(_section(config, "SANDBOX").get("ENABLED", True)),
        "alipay": bool(_section(config, "ALIPAY").get("APP_ID")),
        "wechatpay": bool(_section(config, "WECHATPAY").get("MCH_ID")),
    }
    return [name for name in PROVIDER_NAMES if enabled[name]]


def reset_providers() -> None:
    """Forget the built providers (and the sandbox's in-memory state)."""
    with _cache_lock:
        _cache.clear()


def _config() -> dict[str, Any]:
    return dict(getattr(settings, "JISHI_PAYMENTS", None) or {})


def _section(config: dict[str, Any], key: str) -> dict[str, Any]:
    return dict(config.get(key) or {})


def _required(section: dict[str, Any], provider: str, *keys: str) -> list[str]:
    missing = [key for key in keys if not section.get(key)]
    if missing:
        raise ImproperlyConfigured(f"JISHI_PAYMENTS[{provider!r}] needs {', '.join(missing)}")
    return [str(section[key]) for key in keys]


def _build_sandbox(config: dict[str, Any]) -> PaymentProvider:
    from .sandbox import SandboxProvider

    section = _section(config, "SANDBOX")
    if not section.get("ENABLED", True):
        raise ImproperlyConfigured("the sandbox payment provider is disabled")
    secret = (
        section.get("SECRET")
        or hmac.new(str(settings.SECRET_KEY).encode(), b"jishi.payments.sandbox", hashlib.sha256).hexdigest()
    )
    return SandboxProvider(
        secret=secret,
        notify_max_age=int(config.get("NOTIFY_MAX_AGE_SECONDS", 300)),
        pay_url=section.get("PAY_URL", "/pay/sandbox/{payment_no}/"),
    )


def _build_alipay(config: dict[str, Any]) -> PaymentProvider:
    from .alipay import DEFAULT_GATEWAY, AlipayProvider

    section = _section(config, "ALIPAY")
    app_id, private_key, public_key = _required(section, "ALIPAY", "APP_ID", "APP_PRIVATE_KEY", "ALIPAY_PUBLIC_KEY")
    return AlipayProvider(
        app_id=app_id,
        app_private_key=private_key,
        alipay_public_key=public_key,
        gateway=section.get("GATEWAY") or DEFAULT_GATEWAY,
        pay_method=section.get("PAY_METHOD", "wap"),
        timeout=int(config.get("HTTP_TIMEOUT_SECONDS", 15)),
    )


def _build_wechatpay(config: dict[str, Any]) -> PaymentProvider:
    from .wechatpay import DEFAULT_BASE_URL, WeChatPayProvider

    section = _section(config, "WECHATPAY")
    mch_id, app_id, private_key, serial_no, apiv3_key, public_key, public_key_id = _required(
        section,
        "WECHATPAY",
        "MCH_ID",
        "APP_ID",
        "MCH_PRIVATE_KEY",
        "MCH_CERT_SERIAL_NO",
        "APIV3_KEY",
        "PUBLIC_KEY",
        "PUBLIC_KEY_ID",
    )
    return WeChatPayProvider(
        mch_id=mch_id,
        app_id=app_id,
        mch_private_key=private_key,
        mch_cert_serial_no=serial_no,
        apiv3_key=apiv3_key,
        public_key=public_key,
        public_key_id=public_key_id,
        base_url=section.get("BASE_URL") or DEFAULT_BASE_URL,
        notify_max_age=int(config.get("NOTIFY_MAX_AGE_SECONDS", 300)),
        timeout=int(config.get("HTTP_TIMEOUT_SECONDS", 15)),
    )


_BUILDERS: dict[str, Callable[[dict[str, Any]], PaymentProvider]] = {
    "sandbox": _build_sandbox,
    "alipay": _build_alipay,
    "wechatpay": _build_wechatpay,
}


def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in ("JISHI_PAYMENTS", "SECRET_KEY"):
        reset_providers()


setting_changed.connect(_on_setting_changed)


def register_provider(name: str, builder: Callable[[dict[str, Any]], PaymentProvider]) -> None:
    """A higher layer adds a way to pay (retail: cash and card taken at a store's counter);
    payments, refunds and the ledger treat it like any other provider."""
    with _cache_lock:
        _BUILDERS[name] = builder
        _cache.pop(name, None)
