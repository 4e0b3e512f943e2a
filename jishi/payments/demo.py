"""Demo wallets for every demo buyer and an order history for the seeded ones (never the fresh ones).

Wallets are topped up once per buyer under a fixed ledger key, so a re-run posts nothing; fresh
buyers get the same ¥2,000 (and nothing else), so the wallet can be tried from zero.
Each history order is one scenario with a stable code kept in ``Order.meta["demo_order"]``;
a scenario whose code exists is skipped, and each runs in one transaction, so an interrupted
seed resumes where it stopped. Orders go through the real services (place, pay, ship,
confirm, after-sales); only their timestamps are moved back afterwards so the history
spreads over the last weeks.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from jishi.accounts.models import Address, User
from jishi.catalog.models import ProductStatus, Sku
from jishi.core import audit, ledger
from jishi.core.ledger import InsufficientBalance
from jishi.core.models import AccountKind, Transaction
from jishi.demo.seed import ADMIN_USERNAME, Progress, demo_buyers
from jishi.inventory import services as inventory
from jishi.orders import services as orders
from jishi.orders.models import AfterSale, AfterSaleKind, Order
from jishi.payments import services as payments
from jishi.payments.models import Payment, Refund

TOPUP_AMOUNT = 200_000  # ¥2,000 per demo buyer
MARKER = "demo_order"
# Cheap enough that two or three orders never exhaust a ¥2,000 wallet.
MAX_UNIT_PRICE = 30_000
MIN_SELLABLE = 30  # leave the scarce SKUs to visitors
CARRIERS = ("顺丰速运", "中通快递", "圆通速递", "京东物流")


def topup_key(phone: str) -> str:
    return f"demo-topup:{phone}"


def _operator() -> User | None:
    return User.objects.filter(username=ADMIN_USERNAME).first()


def seed_wallets(progress: Progress) -> int:
    """¥2,000 into every demo buyer's wallet (fresh ones too), once: the posting an operator top-up makes."""
    buyers = demo_buyers(include_fresh=True)
    operator = _operator()
    created = 0
    for done, buyer in enumerate(buyers, 1):
        with transaction.atomic():
            posting = ledger.transfer(
                kind="wallet_topup",
                key=topup_key(buyer.phone or buyer.username),
                reference=f"user:{buyer.pk}",
                memo="演示充值",
                source=ledger.platform_account(AccountKind.PLATFORM_TOPUP),
                target=ledger.user_account(buyer.pk, AccountKind.WALLET),
                amount=TOPUP_AMOUNT,
            )
            if posting.created:
                audit.record(operator, "wallet.top_up", f"user:{buyer.pk}", amount=TOPUP_AMOUNT, note="demo")
                created += 1
        progress.update(done, len(buyers))
    return created


# --- order history ------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """One historic order: who, how long ago, how many lines, and where it ends up."""

    code: str
    buyer: int  # index into demo_buyers()
    days_ago: float
    lines: int
    outcome: str  # pending | closed | paid | shipped | completed | partial_refund | after_sale_pending
    remark: str = ""


def _scenarios() -> list[Scenario]:
    outcomes = (
        ["completed"] * 12
        + ["shipped"] * 7
        + ["paid"] * 5
        + ["pending"] * 2
        + ["closed", "partial_refund", "after_sale_pending"]
    )
    remarks = ("", "", "", "请尽快发货", "", "周末送货", "", "不要放快递柜", "", "")
    rng = random.Random(20240601)
    out = []
    for index, outcome in enumerate(outcomes):
        days = {
            "completed": 8 + rng.random() * 20,
            "partial_refund": 5.5,
            "shipped": 1.5 + rng.random() * 4,
            "after_sale_pending": 3.5,
            "paid": 0.1 + rng.random() * 1.5,
            "closed": 2.2,
            "pending": 0.0,
        }[outcome]
        out.append(
            Scenario(
                code=f"o{index + 1:02d}",
                buyer=index,
                days_ago=days,
                lines=1 + rng.randrange(3),
                outcome=outcome,
                remark=remarks[index % len(remarks)],
            )
        )
    return out


SCENARIOS = _scenarios()


def _candidate_skus() -> list[tuple[int, int]]:
    """(sku id, price) of published, affordable SKUs with stock to spare, in id order."""
    rows = list(
        Sku.objects.filter(
            is_active=True, product__status=ProductStatus.PUBLISHED, price__gt=0, price__lte=MAX_UNIT_PRICE
        )
        .order_by("pk")
        .values_list("pk", "price")
    )
    stock = inventory.sellable([pk for pk, _p in rows])
    return [(pk, price) for pk, price in rows if stock.get(pk, 0) >= MIN_SELLABLE]


def _backdate(order: Order, scenario: Scenario, now: datetime) -> None:
    """Move the order's timeline back to ``days_ago`` (the services stamp "now")."""
    if scenario.outcome == "pending":
        return  # its payment deadline must stay in the future
    created = now - timedelta(days=scenario.days_ago)
    paid = created + timedelta(minutes=3)
    shipped = created + timedelta(hours=20)
    completed = created + timedelta(days=min(4.0, scenario.days_ago - 1))
    order.refresh_from_db()
    fields: dict[str, datetime | None] = {
        "created_at": created,
        "pay_deadline": created + timedelta(minutes=30),
    }
    if order.paid_at:
        fields["paid_at"] = paid
    if order.shipped_at:
        fields["shipped_at"] = shipped
    if order.completed_at:
        fields["completed_at"] = completed
    if order.closed_at:
        fields["closed_at"] = created + timedelta(minutes=12)
    Order.objects.filter(pk=order.pk).update(**fields)
    Payment.objects.filter(order=order).update(created_at=paid, paid_at=paid)
    Transaction.objects.filter(reference=f"order:{order.pk}", kind="order_payment").update(created_at=paid)
    after_sale_at = (completed if order.completed_at else shipped) + timedelta(days=1)
    AfterSale.objects.filter(order=order).update(created_at=after_sale_at)
    Refund.objects.filter(payment__order=order).update(created_at=after_sale_at + timedelta(hours=3))
    Transaction.objects.filter(reference=f"order:{order.pk}", kind="order_refund").update(
        created_at=after_sale_at + timedelta(hours=3)
    )


def _play(scenario: Scenario, buyer: User, address_id: int, lines: list[tuple[int, int]], operator: User) -> Order:
    """Drive one order through the services to its outcome."""
    order = orders.place_order(buyer, lines, address_id, {}, scenario.remark)
    if scenario.outcome == "pending":
        return order
    if scenario.outcome == "closed":
        orders.cancel_order(buyer, order.pk)
        return order
    payments.pay_with_wallet(buyer, order.pk)
    if scenario.outcome == "paid":
        return order
    tracking = f"SF{order.number[-10:]}"
    orders.ship_order(operator, order.pk, CARRIERS[int(scenario.code[1:]) % len(CARRIERS)], tracking)
    if scenario.outcome == "shipped":
        return order
    if scenario.outcome == "after_sale_pending":
        line = order.lines.order_by("pk").first()
        assert line is not None
        orders.request_after_sale(
            buyer,
            order.pk,
            [(line.pk, 1)],
            line.paid_amount // line.quantity,
            "收到时外包装破损",
            AfterSaleKind.RETURN_REFUND,
        )
        return order
    orders.confirm_receipt(buyer, order.pk)
    if scenario.outcome == "partial_refund":
        line = order.lines.order_by("pk").first()
        assert line is not None
        case = orders.request_after_sale(
            buyer, order.pk, [(line.pk, 1)], line.paid_amount // line.quantity, "尺码不合适，退一件"
        )
        orders.approve_after_sale(operator, case.pk)
    return order


def _lines_for(scenario: Scenario, candidates: list[tuple[int, int]]) -> list[tuple[int, int]]:
    rng = random.Random(scenario.code)
    count = min(scenario.lines, len(candidates))
    picked = rng.sample(candidates, count)
    # Partial refunds take one unit of the first line: give it two so the order stays partly kept.
    return [
        (sku_id, 2 if i == 0 and scenario.outcome == "partial_refund" else 1)
        for i, (sku_id, _price) in enumerate(sorted(picked))
    ]


def seed_order_history(progress: Progress) -> int:
    """About thirty orders across every status for the non-fresh buyers, placed once."""
    buyers = demo_buyers()
    operator = _operator()
    if not buyers or operator is None:
        return 0
    done_codes = set(
        Order.objects.filter(user__in=buyers, meta__has_key=MARKER).values_list(f"meta__{MARKER}", flat=True)
    )
    addresses: dict[int, int] = {}
    for user_id, address_id in Address.objects.filter(user__in=buyers).values_list("user_id", "pk"):
        addresses.setdefault(user_id, address_id)  # the model orders default addresses first
    candidates = _candidate_skus()
    if not candidates:
        return 0
    now = timezone.now()
    created = 0
    for done, scenario in enumerate(SCENARIOS, 1):
        buyer = buyers[scenario.buyer % len(buyers)]
        address = addresses.get(buyer.pk)
        if scenario.code not in done_codes and address is not None:
            try:
                with transaction.atomic():
                    order = _play(scenario, buyer, address, _lines_for(scenario, candidates), operator)
                    Order.objects.filter(pk=order.pk).update(meta={**order.meta, MARKER: scenario.code})
                    _backdate(order, scenario, now)
                created += 1
            except InsufficientBalance:
                pass  # a visitor spent this buyer's wallet: the history simply has one order fewer
        progress.update(done, len(SCENARIOS))
    return created


STEPS: list[tuple[str, Callable[[Progress], int]]] = [
    ("wallets", seed_wallets),
    ("order history", seed_order_history),
]
