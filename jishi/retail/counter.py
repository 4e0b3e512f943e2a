"""Cash and card taken at a store's counter, as payment providers: the money is in the till.

Registered with payments so an offline sale is paid, booked (platform cash per tender →
revenue) and refunded (revenue → cash, handed back at the counter) exactly like any payment.
"""

from __future__ import annotations

from collections.abc import Mapping

from jishi.payments.providers import (
    InvalidNotify,
    Notice,
    PaymentRequest,
    PaymentStart,
    RefundResult,
    register_provider,
)
from jishi.payments.providers.base import REFUND_SUCCEEDED

TENDERS = ("cash", "card")


class CounterProvider:
    """No remote side: the clerk took the money; a refund is handed back from the till."""

    def __init__(self, name: str) -> None:
        self.name = name

    def start(self, req: PaymentRequest) -> PaymentStart:
        return PaymentStart()

    def parse_notify(self, body: bytes, headers: Mapping[str, str]) -> Notice:
        raise InvalidNotify("counter tenders receive no notifies")

    def ack(self, ok: bool) -> tuple[int, str, str]:
        return 404, "text/plain", "no notifies"

    def query(self, payment_no: str) -> Notice | None:
        return None

    def refund(self, *, payment_no: str, refund_no: str, amount: int, total: int, reason: str = "") -> RefundResult:
        return RefundResult(refund_no=refund_no, state=REFUND_SUCCEEDED, provider_refund_id=f"counter:{refund_no}")

    def query_refund(self, *, payment_no: str, refund_no: str) -> RefundResult | None:
        return None  # nothing remote to ask: a refund is settled the moment it is handed back

    def close(self, payment_no: str) -> bool:
        return True  # nothing was opened anywhere


def register() -> None:
    for name in TENDERS:
        register_provider(name, lambda config, name=name: CounterProvider(name))  # type: ignore[misc]
