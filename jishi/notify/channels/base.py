"""What every channel backend takes and answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Send:
    """One send: ``delivery_id`` is the fixed idempotency number the vendor is given (out id)."""

    delivery_id: int
    channel: str
    address: str  # phone, openid or e-mail
    category: str
    title: str
    body: str
    link: str
    marketing: bool = False
    wechat_kind: str = "miniprogram"
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """``ok``: the vendor took it (``vendor_id`` finds its receipt later). Otherwise ``reason``;
    ``permanent`` failures (number invalid, user refused) are never retried."""

    ok: bool
    vendor_id: str = ""
    reason: str = ""
    permanent: bool = False
    delivered: bool = False  # the vendor answered with final delivery already (console, e-mail)


class ChannelBackend(Protocol):
    def send(self, message: Send) -> Outcome: ...
