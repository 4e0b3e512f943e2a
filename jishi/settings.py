"""Django settings for Jishi: everything comes from environment variables."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name) or ""
    return int(value) if value else default


DATA_DIR = Path(env("JISHI_DATA_DIR", str(Path.cwd() / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)
(DATA_DIR / "static").mkdir(exist_ok=True)

DEBUG = env_bool("JISHI_DEBUG", False)
# A demo install (``jishi demo`` sets it): the sandbox payment provider is on by default and a
# secret key is generated once into the data directory. Never set it on a real shop.
JISHI_DEMO = env_bool("JISHI_DEMO", False)
# Known to everyone: servers and workers refuse to start with it unless JISHI_DEBUG is on.
DEV_SECRET_KEY = "jishi-insecure-dev-key-set-SECRET_KEY-in-production"


def demo_secret_key(data_dir: Path) -> str:
    """The demo's own secret key, made on first use and shared by its server and worker."""
    path = data_dir / "demo-secret-key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    import secrets

    key = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w") as out:
        out.write(key)
    return key


SECRET_KEY = env("SECRET_KEY") or (demo_secret_key(DATA_DIR) if JISHI_DEMO else DEV_SECRET_KEY)
ALLOWED_HOSTS = [h for h in env("JISHI_ALLOWED_HOSTS", "*").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in env("JISHI_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "unfold",  # the console's frame (jishi/core/console.py); before django.contrib.admin
    "unfold.contrib.filters",
    "unfold.contrib.forms",  # the product description editor (Trix, served locally)
    "jishi.core",  # first: its admin templates (language switch, console pages) override Django's
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "huey.contrib.djhuey",
    "anymail",  # e-mail vendors' backends and tracking webhooks (jishi/notify/mail_receipts.py)
    "ninja",  # /api/v1/docs serves Swagger UI from Ninja's bundled static files, never a CDN
    "jishi.accounts",
    "jishi.catalog",
    "jishi.inventory",
    "jishi.orders",
    "jishi.payments",
    "jishi.commission",
    "jishi.marketing",
    "jishi.loyalty",
    "jishi.content",
    "jishi.distribution",
    "jishi.groupbuy",
    "jishi.notify",
    "jishi.community",
    "jishi.retail",
    "jishi.rebate",
    "jishi.engagement",
    "jishi.storefront",
    "jishi.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "jishi.marketing.middleware.FlashSoldOutMiddleware",  # after the language is known, before routing
    "jishi.core.nul.RefuseNulMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "jishi.core.idempotency.IdempotencyMiddleware",
]

ROOT_URLCONF = "jishi.urls"
WSGI_APPLICATION = "jishi.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: SQLite (WAL, IMMEDIATE write transactions) unless DATABASE_URL names another.
SQLITE_OPTIONS: dict[str, Any] = {
    # Writers queue behind one another instead of failing with "database is locked".
    "transaction_mode": "IMMEDIATE",
    "timeout": 30,
    "init_command": ("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000;"),
}


def database_config(url: str, sqlite_path: str) -> dict[str, Any]:
    """The default database for ``url`` (empty: SQLite at ``sqlite_path``).

    Every SQLite database gets the same options, however it was named: without them a
    read-then-write transaction fails at once with "database is locked" under concurrency.
    """
    if url:
        db: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=60))
        db.setdefault("OPTIONS", {})
        # A health check costs a round trip per request; servers behind a pooler may turn it on.
        db["CONN_HEALTH_CHECKS"] = env_bool("JISHI_DB_HEALTH_CHECKS", False)
    else:
        db = {"ENGINE": "django.db.backends.sqlite3", "NAME": sqlite_path, "OPTIONS": {}}
    if db["ENGINE"] == "django.db.backends.sqlite3":
        db["OPTIONS"] = {**db["OPTIONS"], **SQLITE_OPTIONS}
        name = str(db["NAME"] or "")
        if name and name != ":memory:":
            # Tests use a real file so that concurrent threads share it as production does.
            db["TEST"] = {"NAME": str(Path(name).with_name(f"test-{Path(name).name}"))}
    return db


_db = database_config(env("DATABASE_URL"), env("JISHI_SQLITE_PATH") or str(DATA_DIR / "jishi.sqlite3"))
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Background work: Huey on SQLite by default, Redis when configured.
HUEY_IMMEDIATE = env_bool("JISHI_HUEY_IMMEDIATE", False)
if REDIS_URL:
    HUEY: dict[str, Any] = {
        "huey_class": "huey.RedisHuey",
        "name": env("JISHI_HUEY_NAME", "jishi"),
        "url": REDIS_URL,
        "immediate": HUEY_IMMEDIATE,
        "consumer": {"workers": 2, "worker_type": "thread", "flush_locks": True},
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "jishi",
        "filename": str(DATA_DIR / "huey.sqlite3"),
        "immediate": HUEY_IMMEDIATE,
        "consumer": {"workers": 2, "worker_type": "thread", "flush_locks": True},
    }

AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "jishi.accounts.hashers.Argon2",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if env_bool("JISHI_FAST_PASSWORD_HASHER"):
    # Tests only: argon2 stays the production hasher.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
]
LOGIN_URL = "/login/"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The console (django-unfold): theme, sidebar by operator task, dashboard cards (jishi/core/console.py).
UNFOLD = {
    "SITE_TITLE": "集市 Jishi",
    "SITE_HEADER": "集市 Jishi",
    "SITE_SUBHEADER": "运营后台",
    "SITE_SYMBOL": "storefront",
    "SITE_URL": "/",
    "SHOW_LANGUAGES": True,
    "SHOW_HISTORY": True,
    "SHOW_VIEW_ON_SITE": False,
    "BORDER_RADIUS": "8px",
    "COLORS": {
        "primary": {
            "50": "#fff1f1",
            "100": "#ffe0e0",
            "200": "#ffc5c6",
            "300": "#ff9da0",
            "400": "#fa6469",
            "500": "#e63946",
            "600": "#d12433",
            "700": "#b01a29",
            "800": "#921a27",
            "900": "#7a1b27",
            "950": "#430910",
        },
    },
    "STYLES": ["jishi.core.console.console_styles"],
    "SCRIPTS": ["jishi.core.console.console_scripts"],
    "DASHBOARD_CALLBACK": "jishi.core.dashboard.dashboard_callback",
    "SIDEBAR": {"show_search": True, "show_all_applications": False, "navigation": "jishi.core.console.sidebar"},
}
TIME_ZONE = env("JISHI_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("JISHI_MEDIA_ROOT", str(DATA_DIR / "media")))
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("JISHI_LOG_LEVEL", "WARNING")},
    # A 4xx is an answer (sold out, invalid input), not an incident: log server errors only.
    "loggers": {
        "django.request": {"level": env("JISHI_REQUEST_LOG_LEVEL", "ERROR")},
        # The worker logs through this one handler (run_huey adds none of its own then), and
        # periodic runs are INFO: hidden by default so the demo's URL banner stays readable.
        "huey": {"handlers": ["console"], "level": env("JISHI_WORKER_LOG_LEVEL", "WARNING"), "propagate": False},
    },
}

# --- Jishi business settings (every rule's number is a setting with a default) ---
JISHI: dict[str, Any] = {
    "CURRENCY": env("JISHI_CURRENCY", "CNY"),
    "SMS_BACKEND": env("JISHI_SMS_BACKEND", "jishi.accounts.sms.ConsoleSmsBackend"),
    # addresses without a point: "console" (offline district centres) or "amap" (高德 Web service)
    "GEOCODER": env("JISHI_GEOCODER", "console"),
    "AMAP_KEY": env("JISHI_AMAP_KEY", ""),
    "AMAP_PRIVATE_KEY": env("JISHI_AMAP_PRIVATE_KEY", ""),  # set when the key has digital signatures on
    "AMAP_URL": env("JISHI_AMAP_URL", "https://restapi.amap.com"),
    "SMS_CODE_TTL_SECONDS": env_int("JISHI_SMS_CODE_TTL_SECONDS", 300),
    "SMS_PER_PHONE_PER_MINUTE": env_int("JISHI_SMS_PER_PHONE_PER_MINUTE", 1),
    "SMS_PER_PHONE_PER_DAY": env_int("JISHI_SMS_PER_PHONE_PER_DAY", 10),
    "SMS_PER_IP_PER_HOUR": env_int("JISHI_SMS_PER_IP_PER_HOUR", 30),
    "LOGIN_ATTEMPTS_PER_10_MIN": env_int("JISHI_LOGIN_ATTEMPTS_PER_10_MIN", 20),
    "TOKEN_TTL_DAYS": env_int("JISHI_TOKEN_TTL_DAYS", 30),
    "API_MAX_PAGE_SIZE": env_int("JISHI_API_MAX_PAGE_SIZE", 100),
    "EVENT_MAX_ATTEMPTS": env_int("JISHI_EVENT_MAX_ATTEMPTS", 10),
    "IDEMPOTENCY_WAIT_SECONDS": env_int("JISHI_IDEMPOTENCY_WAIT_SECONDS", 10),
    # orders
    "ORDER_PAY_MINUTES": env_int("JISHI_ORDER_PAY_MINUTES", 30),
    "ORDER_AUTO_COMPLETE_DAYS": env_int("JISHI_ORDER_AUTO_COMPLETE_DAYS", 7),
    "AFTER_SALE_DAYS": env_int("JISHI_AFTER_SALE_DAYS", 7),
    "SHIPPING_FEE": env_int("JISHI_SHIPPING_FEE", 1000),
    "LOW_STOCK_THRESHOLD": env_int("JISHI_LOW_STOCK_THRESHOLD", 10),  # console: SKUs at or below this many available
    "CONSOLE_EXPORT_MAX_ROWS": env_int("JISHI_CONSOLE_EXPORT_MAX_ROWS", 20000),
    "CONSOLE_IMPORT_MAX_ROWS": env_int("JISHI_CONSOLE_IMPORT_MAX_ROWS", 2000),
    "CONSOLE_IMPORT_MAX_BYTES": env_int("JISHI_CONSOLE_IMPORT_MAX_BYTES", 1_048_576),
    "FREE_SHIPPING_THRESHOLD": env_int("JISHI_FREE_SHIPPING_THRESHOLD", 0),  # 0: never free
    "MAX_LINE_QUANTITY": env_int("JISHI_MAX_LINE_QUANTITY", 999),
    "CART_MAX_LINES": env_int("JISHI_CART_MAX_LINES", 100),
    # payments
    "PAYMENT_RECONCILE_AFTER_SECONDS": env_int("JISHI_PAYMENT_RECONCILE_AFTER_SECONDS", 120),
    # A payment still pending this long after its order closed is given up at the provider.
    "PAYMENT_ABANDON_AFTER_DAYS": env_int("JISHI_PAYMENT_ABANDON_AFTER_DAYS", 2),
    # A refund left requested this long (crash, outage) is retried by the resume job.
    "REFUND_RESUME_AFTER_SECONDS": env_int("JISHI_REFUND_RESUME_AFTER_SECONDS", 60),
    "PUBLIC_URL": env("JISHI_PUBLIC_URL", ""),
    # shopping-guide rebate (导购返佣)
    "REBATE_BUYER_BP": env_int("JISHI_REBATE_BUYER_BP", 5000),  # 自购: 50% of the net commission
    "REBATE_PROMOTER_BP": env_int("JISHI_REBATE_PROMOTER_BP", 2000),  # 分享: 20%
    "REBATE_CREDENTIAL_KEY": env("JISHI_REBATE_CREDENTIAL_KEY", ""),  # empty: derived from SECRET_KEY
    "REBATE_SYNC_OVERLAP_MINUTES": env_int("JISHI_REBATE_SYNC_OVERLAP_MINUTES", 10),
    "REBATE_SYNC_LAG_MINUTES": env_int("JISHI_REBATE_SYNC_LAG_MINUTES", 3),
    "REBATE_SYNC_BACKFILL_DAYS": env_int("JISHI_REBATE_SYNC_BACKFILL_DAYS", 30),
}

# Payment providers (jishi.payments.providers): the sandbox (anyone can "pay" with it) is off
# unless asked for or in the demo; Alipay and WeChat Pay switch on when their ids are set.
JISHI_PAYMENTS: dict[str, Any] = {
    "SANDBOX": {"ENABLED": env_bool("JISHI_SANDBOX_PAYMENTS", JISHI_DEMO)},
    "ALIPAY": {
        "APP_ID": env("JISHI_ALIPAY_APP_ID"),
        "APP_PRIVATE_KEY": env("JISHI_ALIPAY_APP_PRIVATE_KEY"),
        "ALIPAY_PUBLIC_KEY": env("JISHI_ALIPAY_PUBLIC_KEY"),
        "GATEWAY": env("JISHI_ALIPAY_GATEWAY", "https://openapi.alipay.com/gateway.do"),
    },
    "WECHATPAY": {
        "MCH_ID": env("JISHI_WECHATPAY_MCH_ID"),
        "APP_ID": env("JISHI_WECHATPAY_APP_ID"),
        "MCH_PRIVATE_KEY": env("JISHI_WECHATPAY_MCH_PRIVATE_KEY"),
        "MCH_CERT_SERIAL_NO": env("JISHI_WECHATPAY_MCH_CERT_SERIAL_NO"),
        "APIV3_KEY": env("JISHI_WECHATPAY_APIV3_KEY"),
        "PUBLIC_KEY": env("JISHI_WECHATPAY_PUBLIC_KEY"),
        "PUBLIC_KEY_ID": env("JISHI_WECHATPAY_PUBLIC_KEY_ID"),
    },
}

# E-mail: Django's mail API. SMTP by default; a vendor through django-anymail with e.g.
# EMAIL_BACKEND=anymail.backends.mailgun.EmailBackend and ANYMAIL_MAILGUN_API_KEY=…,
# ANYMAIL_MAILGUN_WEBHOOK_SIGNING_KEY=…, ANYMAIL_WEBHOOK_SECRET=user:password (every ANYMAIL_*
# variable becomes a key of ANYMAIL). Receipts: /notify/receipts/email/<vendor>/.
EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "集市 <noreply@jishi.local>")
ANYMAIL = {name.removeprefix("ANYMAIL_"): value for name, value in os.environ.items() if name.startswith("ANYMAIL_")}
