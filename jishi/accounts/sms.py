"""SMS backends: pluggable by setting; the console backend prints and keeps an outbox for tests."""

from __future__ import annotations

import logging
from typing import Protocol

from django.utils.module_loading import import_string

from jishi.core.conf import setting

log = logging.getLogger("jishi.sms")


class SmsBackend(Protocol):
    def send(self, phone: str, text: str) -> None: ...


class ConsoleSmsBackend:
    """Prints the message (and keeps the last ones in memory, for tests and the demo)."""

    outbox: list[tuple[str, str]] = []

    def send(self, phone: str, text: str) -> None:
        ConsoleSmsBackend.outbox.append((phone, text))
        del ConsoleSmsBackend.outbox[:-200]
        print(f"[SMS] {phone}: {text}", flush=True)


def get_backend() -> SmsBackend:
    backend: SmsBackend = import_string(setting("SMS_BACKEND"))()
    return backend
