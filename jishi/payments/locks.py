"""Row locks of payments, taken after the order is held (``jishi.orders.locks`` names the order:
order, case, payment, refund)."""

from __future__ import annotations

from .models import Payment, Refund


def lock_payment(payment_id: int) -> Payment:
    return Payment.objects.select_for_update().get(pk=payment_id)


def lock_refund(refund_id: int) -> Refund:
    return Refund.objects.select_for_update().select_related("payment").get(pk=refund_id)
