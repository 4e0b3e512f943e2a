"""Channel backends: one interface (``ChannelBackend``), chosen per channel in settings."""

from __future__ import annotations

from functools import cache

from django.utils.module_loading import import_string

from .. import conf
from .base import ChannelBackend, Outcome, Send

__all__ = ["ChannelBackend", "Outcome", "Send", "backend_for", "forget_backends"]


@cache
def backend_for(channel: str) -> ChannelBackend:
    """The configured backend of ``channel`` (console log by default), built once per process."""
    path = conf.notify_setting("BACKENDS")[channel]
    backend: ChannelBackend = import_string(path)()
    return backend


def forget_backends() -> None:
    backend_for.cache_clear()
