"""check-ledger holds the book against the domain rows: each kind of disagreement is reported."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import F
from django.utils import timezone

from jishi.commission import services as commission
from jishi.commission.models import Commission, Withdrawal
from jishi.core import ledger
from jishi.core.events import deliver_pending
from jishi.core.models import OutboxEvent
from jishi.distribution import services as distribution
from jishi.loyalty import points
from jishi.loyalty.models import PointsLot, RedPacketBudget
from jishi.loyalty.red_packets import create_budget, fund_budget
from jishi.orders import services as orders
from jishi.orders.models import AfterSale, Order
from jishi.payments.models import Payment, Refund
from jishi.payments.services import pay_with_wallet
from jishi.testing.factories import OperatorFactory
from jishi.testing.shop import shopper, skus

pytestmark = pytest.mark.django_db


@pytest.fixture
def book() -> dict[str, Any]:
    """A small, sound book: a promoter's commission (part withdrawn), a partial refund, points, a budget."""
    promoter, buyer = shopper(), shopper(wallet=100_000)
    distribution.apply(promoter.user)
    distribution.bind(buyer.user, distribution.apply(promoter.user).code)
    (sku,) = skus(30_000, stock=10)
    order = orders.place_order(buyer.user, [(sku.pk, 2)], buyer.address.pk)
    pay_with_wallet(buyer.user, order.pk)
    deliver_pending()
    orders.ship_order(OperatorFactory(), order.pk, "SF", "SF1")
    order.refresh_from_db()
    orders.complete_order(order)
    deliver_pending()
    commission.unfreeze_due(now=timezone.now() + timedelta(days=30))
    commission.request_withdrawal(promoter.user, 2_000, "wallet", minimum=1_000, fee_bp=0)
    line = order.lines.get()
    case = orders.request_after_sale(buyer.user, order.pk, [(line.pk, 1)], 30_000, "一件坏了")
    orders.approve_after_sale(None, case.pk)
    deliver_pending()
    points.credit(buyer.user.pk, 500, kind="points_adjust", key="gift")
    create_budget(OperatorFactory(), "ops", "运营红包")
    fund_budget(OperatorFactory(), "ops", 10_000, key="ops-1")
    assert ledger.check_ledger() == []
    return {"order": order, "promoter": promoter, "buyer": buyer}


CORRUPTIONS: dict[str, Callable[[dict[str, Any]], None]] = {
    "payment refunded": lambda b: Payment.objects.update(refunded_amount=F("refunded_amount") + 1),
    "refund amount": lambda b: Refund.objects.update(amount=F("amount") - 1),
    "order paid": lambda b: Order.objects.filter(pk=b["order"].pk).update(paid_amount=F("paid_amount") + 1),
    "order refunded": lambda b: Order.objects.filter(pk=b["order"].pk).update(refunded_amount=F("refunded_amount") - 1),
    "case amount": lambda b: AfterSale.objects.update(amount=F("amount") + 1),
    "commission amount": lambda b: Commission.objects.update(amount=F("amount") + 1),
    "commission reversed": lambda b: Commission.objects.update(reversed_amount=F("reversed_amount") - 1),
    "withdrawal": lambda b: Withdrawal.objects.update(amount=F("amount") + 1),
    "points lot": lambda b: PointsLot.objects.filter(user=b["buyer"].user).update(remaining=F("remaining") - 1),
    "budget": lambda b: RedPacketBudget.objects.update(remaining=F("remaining") - 1),
    "dead event": lambda b: OutboxEvent.objects.filter(pk=OutboxEvent.objects.last().pk).update(
        dead=True, dispatched_at=None
    ),
}


@pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
def test_every_disagreement_between_book_and_domain_is_reported(book: dict[str, Any], corruption: str) -> None:
    CORRUPTIONS[corruption](book)

    problems = ledger.check_ledger()

    assert problems, corruption
    with pytest.raises(CommandError, match="ledger check failed"):
        call_command("check_ledger")
