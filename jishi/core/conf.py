"""Jishi's business settings: ``setting("FREEZE_DAYS")`` reads ``settings.JISHI``."""

from __future__ import annotations

from typing import Any

from django.conf import settings


def setting(name: str) -> Any:
    return settings.JISHI[name]
