"""Refusing to serve a real shop with demo settings: the sandbox provider or the known secret key."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register
from django.core.exceptions import ImproperlyConfigured


@register(Tags.security, deploy=True)
def production_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """What makes these settings unsafe for a shop that takes money (nothing with JISHI_DEBUG on)."""
    if settings.DEBUG:
        return []
    problems: list[CheckMessage] = []
    if not settings.SECRET_KEY or settings.SECRET_KEY == settings.DEV_SECRET_KEY:
        problems.append(
            Error(
                "SECRET_KEY is the development key, which everyone knows: sessions, tokens and "
                "payment notifies could be forged.",
                hint='Set SECRET_KEY to a long random value, e.g. python3 -c "import secrets; '
                'print(secrets.token_urlsafe(48))".',
                id="jishi.E001",
            )
        )
    sandbox = (getattr(settings, "JISHI_PAYMENTS", None) or {}).get("SANDBOX") or {}
    if sandbox.get("ENABLED", True) and not settings.JISHI_DEMO:
        problems.append(
            Error(
                "The sandbox payment provider is on: any buyer could mark an order paid without paying.",
                hint="Unset JISHI_SANDBOX_PAYMENTS (it is off by default); a demo install sets JISHI_DEMO=1.",
                id="jishi.E002",
            )
        )
    return problems


def refuse_unsafe_production() -> None:
    """Raise ImproperlyConfigured, naming every problem, when the settings are unsafe to serve.

    Called where a server or worker starts (WSGI application, ``jishi serve``, ``jishi worker``).
    """
    problems = production_settings()
    if problems:
        lines = [f"{p.id}: {p.msg} {p.hint}" for p in problems]
        raise ImproperlyConfigured("Jishi refuses to start with debug off and these settings:\n  " + "\n  ".join(lines))
