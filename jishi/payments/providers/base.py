"""The contract every payment provider adapter fulfils, and the money/header helpers they share.

Adapters talk to the outside world only; they hold no database state. The payments service
decides what a verified ``Notice`` means for an order, stores it, and answers the provider
with ``ack()``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from jishi.core.errors import RemoteUnavailable


@dataclass(frozen=True)
class PaymentRequest:
    """What Jishi asks a provider to collect. ``amount`` is integer fen."""

    payment_no: str
    amount: int
    subject: str
    notify_url: str
    return_url: str = ""
    currency: str = "CNY"
    payer_openid: str = ""


@dataclass(frozen=True)
class PaymentStart:
    """What the client needs to pay: a URL to open (or render as QR) and/or SDK parameters."""

    pay_url: str = ""
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Notice:
    """A provider's verified statement about one payment (from a notify or a query)."""

    payment_no: str
    provider_txn_id: str
    amount: int
    currency: str
    paid: bool
    raw: dict[str, Any]


REFUND_SUCCEEDED = "succeeded"  # the money is back with the buyer
REFUND_PROCESSING = "processing"  # accepted, not finished: ask again with ``query_refund``
REFUND_REFUSED = "refused"  # the provider will not (or could not) refund: nothing moved


@dataclass(frozen=True)
class RefundResult:
    """The provider's answer about one refund (to the request, or to a later query)."""

    refund_no: str
    state: str
    provider_refund_id: str = ""
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def accepted(self) -> bool:
        """The money goes back (now, or once the provider finishes)."""
        return self.state in (REFUND_SUCCEEDED, REFUND_PROCESSING)


class InvalidNotify(Exception):
    """A notify that must not be trusted: bad/missing signature, undecryptable or malformed."""


class ProviderError(RemoteUnavailable):
    """The provider could not be reached or answered in a way we cannot trust or understand.

    The outcome of the call is unknown; callers retry (queries and refunds are idempotent on
    ``payment_no`` / ``refund_no`` at every provider).
    """


class PaymentProvider(Protocol):
    name: str

    def start(self, req: PaymentRequest) -> PaymentStart: ...

    def parse_notify(self, body: bytes, headers: Mapping[str, str]) -> Notice:
        """Verify and decode an asynchronous notify; raise ``InvalidNotify`` if untrusted."""
        ...

    def ack(self, ok: bool) -> tuple[int, str, str]:
        """(HTTP status, content type, body) the provider expects in reply to a notify."""
        ...

    def query(self, payment_no: str) -> Notice | None:
        """The provider's view of a payment, or None if it has never heard of it."""
        ...

    def refund(self, *, payment_no: str, refund_no: str, amount: int, total: int, reason: str = "") -> RefundResult:
        """Ask for a refund; idempotent on ``refund_no`` (a retry is the same refund)."""
        ...

    def query_refund(self, *, payment_no: str, refund_no: str) -> RefundResult | None:
        """Where a refund stands at the provider; None if it has never heard of it."""
        ...

    def close(self, payment_no: str) -> bool:
        """Close an unpaid trade so it can no longer be paid. False when it was paid meanwhile
        (the caller then queries and settles it); raises ProviderError when unreachable."""
        ...


_YUAN_RE = re.compile(r"\A(0|[1-9][0-9]*)(\.[0-9]{1,2})?\Z")


def fen_to_yuan(fen: int) -> str:
    """19900 -> "199.00": the two-decimal yuan string Alipay expects."""
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise TypeError("amount must be an int number of fen")
    if fen < 0:
        raise ValueError("amount must not be negative")
    return f"{fen // 100}.{fen % 100:02d}"


def yuan_to_fen(value: str) -> int:
    """ "199.00" -> 19900, exactly. Anything that is not a plain non-negative decimal with at
    most two places (exponents, signs, NaN, "1.005") raises ValueError instead of rounding."""
    if not isinstance(value, str) or not _YUAN_RE.match(value):
        raise ValueError(f"not a yuan amount: {value!r}")
    return int(Decimal(value) * 100)


def header_value(headers: Mapping[str, str], name: str) -> str:
    """Case-insensitive header lookup accepting ``request.headers``, plain dicts and WSGI
    ``request.META`` (``HTTP_X_FOO``) alike; "" when absent."""
    meta_key = "HTTP_" + name.upper().replace("-", "_")
    for key in (name, meta_key):
        value = headers.get(key)
        if value is not None:
            return value
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return ""
