"""Each network's order status codes mapped to the rebate life cycle, as data."""

from __future__ import annotations

from .models import Network, OrderStatus

# Taobao ``tk_status``: 12 paid, 13 closed/invalid, 14 confirmed receipt, 3 settled.
TAOBAO = {
    "12": OrderStatus.PAID,
    "13": OrderStatus.INVALID,
    "14": OrderStatus.CONFIRMED,
    "3": OrderStatus.SETTLED,
}

# Pinduoduo ``order_status``.
PDD = {
    "-1": OrderStatus.PENDING_PAYMENT,
    "0": OrderStatus.PAID,
    "1": OrderStatus.PAID,  # grouped (成团)
    "2": OrderStatus.CONFIRMED,  # received
    "3": OrderStatus.CONFIRMED,  # audit passed
    "4": OrderStatus.INVALID,  # audit failed
    "5": OrderStatus.SETTLED,
    "8": OrderStatus.INVALID,  # no commission
    "10": OrderStatus.PENALISED,
}

# JD ``validCode``: 15 pending payment, 16 paid, 17 completed, 24 deposit paid; 2–14 and 19–28 invalid.
JD: dict[str, OrderStatus] = {
    **{str(code): OrderStatus.INVALID for code in (*range(2, 15), *range(19, 29))},
    "15": OrderStatus.PENDING_PAYMENT,
    "16": OrderStatus.PAID,
    "17": OrderStatus.CONFIRMED,  # settled once the row carries a ``payMonth``
    "24": OrderStatus.PAID,  # deposit paid (预售定金)
}

TABLES: dict[str, dict[str, OrderStatus]] = {Network.TAOBAO: TAOBAO, Network.PDD: PDD, Network.JD: JD}

# How far along the life cycle a status is: a report never moves an order back down this scale.
RANK = {
    OrderStatus.UNKNOWN: -1,
    OrderStatus.PENDING_PAYMENT: 0,
    OrderStatus.PAID: 1,
    OrderStatus.CONFIRMED: 2,
    OrderStatus.SETTLED: 3,
    OrderStatus.INVALID: 9,
    OrderStatus.REFUNDED: 9,
    OrderStatus.PENALISED: 9,
}
TERMINAL = {OrderStatus.INVALID, OrderStatus.REFUNDED, OrderStatus.PENALISED}
EARNING = {OrderStatus.PAID, OrderStatus.CONFIRMED, OrderStatus.SETTLED}


def map_status(network: str, code: object) -> OrderStatus:
    return TABLES[network].get(str(code).strip(), OrderStatus.UNKNOWN)
