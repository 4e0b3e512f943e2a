"""Notify rule defaults (env-overridable numbers; none of them is a literal in code)."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(f"JISHI_NOTIFY_{name}") or ""
    return int(value) if value else default


# inbox messages older than this many days are deleted by the nightly sweep (0 keeps them forever)
RETENTION_DAYS = _env_int("RETENTION_DAYS", 180)
# members per INSERT statement when many inboxes are written at once
INSERT_BATCH = _env_int("INSERT_BATCH", 2000)

# Sizes that bound input (not business rules).
MAX_TITLE = 100
MAX_LINK = 300
MAX_KEY = 120


def _env(name: str, default: str = "") -> str:
    return os.environ.get(f"JISHI_NOTIFY_{name}") or default


CONSOLE = "jishi.notify.channels.console.ConsoleBackend"

# Channel configuration; ``settings.JISHI_NOTIFY`` overrides any key (tests, deployments).
DEFAULTS: dict[str, Any] = {
    "BACKENDS": {
        "sms": _env("SMS_BACKEND", CONSOLE),  # …aliyun.AliyunSmsBackend / …tencent.TencentSmsBackend
        "wechat": _env("WECHAT_BACKEND", CONSOLE),  # …wechat.WechatBackend
        "email": _env("EMAIL_BACKEND", CONSOLE),  # …email.DjangoMailBackend
    },
    # which outside channels a transactional notice of each category also goes to
    "TRANSACTIONAL_CHANNELS": {
        "order": ["wechat", "sms"],
        "after_sale": ["wechat", "sms"],
        "system": ["wechat"],
        "community": [],
        "promotion": [],
    },
    "ALIYUN_SMS": {
        "ACCESS_KEY_ID": _env("ALIYUN_ACCESS_KEY_ID"),
        "ACCESS_KEY_SECRET": _env("ALIYUN_ACCESS_KEY_SECRET"),
        "ENDPOINT": _env("ALIYUN_SMS_ENDPOINT", "dysmsapi.aliyuncs.com"),
        "PROTOCOL": _env("ALIYUN_SMS_PROTOCOL", "https"),
        "SIGN_NAME": _env("SMS_SIGN_NAME", "集市"),
    },
    "TENCENT_SMS": {
        "SECRET_ID": _env("TENCENT_SECRET_ID"),
        "SECRET_KEY": _env("TENCENT_SECRET_KEY"),
        "ENDPOINT": _env("TENCENT_SMS_ENDPOINT", "sms.tencentcloudapi.com"),
        "PROTOCOL": _env("TENCENT_SMS_PROTOCOL", "https"),
        "REGION": _env("TENCENT_SMS_REGION", "ap-guangzhou"),
        "SDK_APP_ID": _env("TENCENT_SMS_SDK_APP_ID"),
        "SIGN_NAME": _env("SMS_SIGN_NAME", "集市"),
    },
    # template code (Aliyun) or template id (Tencent) per notice category
    "SMS_TEMPLATES": {
        "order": _env("SMS_TEMPLATE_ORDER", "SMS_ORDER"),
        "after_sale": _env("SMS_TEMPLATE_AFTER_SALE", "SMS_AFTER_SALE"),
        "promotion": _env("SMS_TEMPLATE_PROMOTION", "SMS_PROMOTION"),
        "community": _env("SMS_TEMPLATE_COMMUNITY", "SMS_COMMUNITY"),
        "system": _env("SMS_TEMPLATE_SYSTEM", "SMS_SYSTEM"),
    },
    "WECHAT": {
        "API_BASE": _env("WECHAT_API_BASE", "https://api.weixin.qq.com"),
        "MINIPROGRAM_APP_ID": _env("WECHAT_MINIPROGRAM_APP_ID"),
        "MINIPROGRAM_SECRET": _env("WECHAT_MINIPROGRAM_SECRET"),
        "OFFICIAL_APP_ID": _env("WECHAT_OFFICIAL_APP_ID"),
        "OFFICIAL_SECRET": _env("WECHAT_OFFICIAL_SECRET"),
        # the token configured for event pushes (receipts) in the WeChat console
        "PUSH_TOKEN": _env("WECHAT_PUSH_TOKEN"),
        # template id per notice category (subscribe message / template message)
        "TEMPLATES": {
            "order": _env("WECHAT_TEMPLATE_ORDER", "TPL_ORDER"),
            "after_sale": _env("WECHAT_TEMPLATE_AFTER_SALE", "TPL_AFTER_SALE"),
            "promotion": _env("WECHAT_TEMPLATE_PROMOTION", "TPL_PROMOTION"),
            "community": _env("WECHAT_TEMPLATE_COMMUNITY", "TPL_COMMUNITY"),
            "system": _env("WECHAT_TEMPLATE_SYSTEM", "TPL_SYSTEM"),
        },
    },
    # the secret in the SMS status-report URL the vendor is given (/notify/receipts/sms/<secret>/)
    "SMS_RECEIPT_SECRET": _env("SMS_RECEIPT_SECRET"),
    # sends per worker batch, and the retry schedule (seconds after each failed attempt)
    "SEND_BATCH": _env_int("SEND_BATCH", 200),
    "CLAIM_SECONDS": _env_int("CLAIM_SECONDS", 300),
    "RETRY_BACKOFF": [30, 120, 600, 3600],
    # campaign sends per second per channel when the campaign sets none (0: as fast as answered)
    "CHANNEL_RATE": {"sms": 50, "wechat": 100, "email": 20},
    # concurrent vendor calls of one worker while sending a campaign
    "SEND_CONCURRENCY": _env_int("SEND_CONCURRENCY", 4),
    "HTTP_TIMEOUT": _env_int("HTTP_TIMEOUT", 10),
}


def notify_setting(name: str) -> Any:
    overrides = getattr(settings, "JISHI_NOTIFY", {}) or {}
    return overrides.get(name, DEFAULTS[name])


def public_url(path: str) -> str:
    """An absolute link for a channel outside the site (SMS, e-mail)."""
    from jishi.core.conf import setting

    base = (setting("PUBLIC_URL") or "").rstrip("/")
    return f"{base}{path}" if base else path
