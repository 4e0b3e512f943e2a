"""The default backend of every channel: writes the send to the log (demo and tests need no account)."""

from __future__ import annotations

import logging

from .base import Outcome, Send

log = logging.getLogger("jishi.notify.console")


class ConsoleBackend:
    def send(self, message: Send) -> Outcome:
        log.info("[%s → %s] %s: %s %s", message.channel, message.address, message.title, message.body, message.link)
        return Outcome(ok=True, vendor_id=f"console-{message.delivery_id}", delivered=True)
