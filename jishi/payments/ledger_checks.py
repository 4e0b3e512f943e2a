"""The book held against payments, refunds and orders (part of ``jishi check-ledger``)."""

from __future__ import annotations

from django.db.models import Sum

from jishi.core import ledger
from jishi.orders.models import AfterSale, AfterSaleStatus, Order, OrderStatus

from .models import Payment, PaymentStatus, Refund, RefundStatus

MONEY_IN = (PaymentStatus.PAID, PaymentStatus.REFUNDED_LATE)
PAID_ORDER_STATUSES = (
    OrderStatus.PAID,
    OrderStatus.SHIPPED,
    OrderStatus.COMPLETED,
    OrderStatus.REFUNDING,
    OrderStatus.REFUNDED,
)


@ledger.register_check("payments")
def check_payments() -> list[str]:
    problems: list[str] = []
    posted = ledger.posted_amounts("order_payment")
    for payment_no, status, amount in Payment.objects.values_list("payment_no", "status", "amount"):
        key = f"pay:{payment_no}"
        booked = posted.pop(key, 0)
        if status in MONEY_IN and booked != amount and amount:
            problems.append(f"payment {payment_no} is {status} for {amount} but the book has {booked}")
        elif status not in MONEY_IN and booked:
            problems.append(f"payment {payment_no} is {status} but the book has {booked} paid in")
    problems.extend(f"posting {key} pays {amount} for no payment" for key, amount in posted.items())

    refunds = ledger.posted_amounts("order_refund")
    succeeded: dict[int, int] = {}
    for refund_no, status, amount, payment_id in Refund.objects.values_list(
        "refund_no", "status", "amount", "payment_id"
    ):
        booked = refunds.pop(f"refund:{refund_no}", 0)
        if status == RefundStatus.SUCCEEDED:
            succeeded[payment_id] = succeeded.get(payment_id, 0) + amount
            if booked != amount:
                problems.append(f"refund {refund_no} succeeded for {amount} but the book has {booked}")
        elif booked:
            problems.append(f"refund {refund_no} is {status} but the book has {booked} refunded")
    problems.extend(f"posting {key} refunds {amount} for no refund" for key, amount in refunds.items())
    for pk, payment_no, refunded in Payment.objects.values_list("pk", "payment_no", "refunded_amount"):
        if refunded != succeeded.get(pk, 0):
            problems.append(f"payment {payment_no} says {refunded} refunded, its refunds {succeeded.get(pk, 0)}")
    return problems


@ledger.register_check("orders")
def check_orders() -> list[str]:
    problems: list[str] = []
    paid = {
        order_id: (amount, refunded)
        for order_id, amount, refunded in Payment.objects.filter(status=PaymentStatus.PAID).values_list(
            "order_id", "amount", "refunded_amount"
        )
    }
    cases = dict(
        AfterSale.objects.filter(status=AfterSaleStatus.REFUNDED)
        .values("order_id")
        .annotate(total=Sum("amount"))
        .values_list("order_id", "total")
    )
    rows = Order.objects.filter(status__in=PAID_ORDER_STATUSES).values_list(
        "pk", "number", "paid_amount", "refunded_amount"
    )
    for pk, number, paid_amount, refunded_amount in rows:
        payment_amount, payment_refunded = paid.get(pk, (0, 0))
        if paid_amount and payment_amount != paid_amount:
            problems.append(f"order {number} paid {paid_amount}, its paid payment {payment_amount}")
        if refunded_amount != payment_refunded:
            problems.append(f"order {number} refunded {refunded_amount}, its payment {payment_refunded}")
        if refunded_amount != int(cases.get(pk) or 0):
            problems.append(f"order {number} refunded {refunded_amount}, its refunded cases {cases.get(pk) or 0}")
        if refunded_amount > paid_amount:
            problems.append(f"order {number} refunded {refunded_amount} of {paid_amount} paid")
    return problems
