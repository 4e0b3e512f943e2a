"""Property test: random sequences of paying, refunding in parts, cancelling and rejecting cases,
withdrawing, unfreezing, 拼团 and failing-then-redelivered event handlers, over a 3-level
promoter chain. After every step the domain-wide ledger check is clean and every balance equals
what the orders, cases and withdrawals say it should be."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from jishi.commission import services as commission
from jishi.commission.models import Commission, Withdrawal, WithdrawalStatus
from jishi.core import ledger, local_cache
from jishi.core.errors import Conflict, InvalidInput
from jishi.core.events import deliver_pending
from jishi.core.models import AccountKind, OutboxEvent
from jishi.distribution import services as distribution
from jishi.marketing import groups
from jishi.marketing.models import GroupBuyCampaign
from jishi.orders import services as orders
from jishi.orders.models import AfterSale, AfterSaleStatus, Order, OrderStatus
from jishi.payments.services import pay_with_wallet
from jishi.testing.factories import OperatorFactory
from jishi.testing.shop import shopper, skus

from .helpers import chain, configure

WALLET = 10_000_000
LATER = timedelta(days=30)


class MoneyBook(RuleBasedStateMachine):
    @initialize()
    def setup(self) -> None:
        # Each example runs in a transaction rolled back at teardown, so a replayed (shrunk)
        # example meets exactly the database it met the first time.
        self._example = transaction.atomic()
        self._example.__enter__()
        local_cache.clear_all()
        configure(levels=3, rates_bp=[1000, 500, 200], withdrawal_min=100)
        self.people = chain(4, wallet=WALLET)  # A ← B ← C ← buyer
        self.promoters, self.buyer = self.people[:3], self.people[3]
        self.friend = shopper(wallet=WALLET)
        distribution.bind(self.friend.user, distribution.apply(self.promoters[2].user).code)
        self.skus = skus(3_000, 12_345, 50_000, stock=10_000)
        now = timezone.now()
        self.campaign = GroupBuyCampaign.objects.create(
            name="二人团",
            sku=self.skus[1],
            group_price=9_900,
            group_size=2,
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(days=365),
            commission=True,
        )
        self.orders: list[int] = []
        self.operator = OperatorFactory()
        self.failing = False

    def teardown(self) -> None:
        if hasattr(self, "_example"):
            transaction.set_rollback(True)
            self._example.__exit__(None, None, None)
        local_cache.clear_all()

    # -- helpers -------------------------------------------------------------------------

    def deliver(self) -> None:
        if not self.failing:
            deliver_pending()
            return
        real = distribution.settle_paid_order

        def flaky(payload: dict[str, Any]) -> int:
            raise RuntimeError("transient failure")

        distribution.settle_paid_order = flaky  # type: ignore[assignment]
        try:
            deliver_pending()
        finally:
            distribution.settle_paid_order = real  # type: ignore[assignment]
            self.failing = False

    def my_orders(self, *statuses: str) -> list[Order]:
        return list(Order.objects.filter(pk__in=self.orders, status__in=statuses).order_by("pk"))

    # -- rules ---------------------------------------------------------------------------

    @rule(sku=st.integers(0, 2), quantity=st.integers(1, 3))
    def buy(self, sku: int, quantity: int) -> None:
        order = orders.place_order(self.buyer.user, [(self.skus[sku].pk, quantity)], self.buyer.address.pk)
        pay_with_wallet(self.buyer.user, order.pk)
        self.orders.append(order.pk)
        self.deliver()

    @rule(fill=st.booleans())
    def group_buy(self, fill: bool) -> None:
        group, order = groups.open_group(self.buyer.user, self.campaign.pk)
        pay_with_wallet(self.buyer.user, order.pk)
        self.orders.append(order.pk)
        self.deliver()
        group.refresh_from_db()
        if fill:
            _g, joined = groups.join_group(self.friend.user, group.pk)
            pay_with_wallet(self.friend.user, joined.pk)
            self.orders.append(joined.pk)
        else:
            groups.expire_groups(now=(group.expires_at or timezone.now()) + timedelta(seconds=1))
        self.deliver()

    @rule()
    def next_delivery_fails(self) -> None:
        self.failing = True

    @rule()
    def redeliver(self) -> None:
        deliver_pending()

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def ship_and_complete(self, data: st.DataObject) -> None:
        candidates = self.my_orders(OrderStatus.PAID, OrderStatus.SHIPPED)
        if not candidates:
            return
        order = data.draw(st.sampled_from(candidates))
        try:
            if order.status == OrderStatus.PAID:
                orders.ship_order(self.operator, order.pk, "SF", "SF1")
                order.refresh_from_db()
            orders.complete_order(order)
        except Conflict:
            return  # on hold (group forming)
        self.deliver()

    @precondition(lambda self: self.orders)
    @rule(data=st.data(), part=st.integers(1, 100))
    def ask_refund(self, data: st.DataObject, part: int) -> None:
        candidates = self.my_orders(OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.COMPLETED)
        if not candidates:
            return
        order = data.draw(st.sampled_from(candidates))
        line = order.lines.get()
        left = line.quantity - line.refunded_quantity
        if left <= 0:
            return
        quantity = data.draw(st.integers(1, left))
        room = orders.max_refundable(order, {line.pk: quantity})
        if room <= 0:
            return
        try:
            orders.request_after_sale(
                order.user, order.pk, [(line.pk, quantity)], max(1, room * part // 100), "state machine"
            )
        except (Conflict, InvalidInput):
            return  # past the after-sales window

    @precondition(lambda self: AfterSale.objects.filter(status=AfterSaleStatus.PENDING).exists())
    @rule(data=st.data(), decision=st.sampled_from(["approve", "reject", "cancel"]))
    def decide_case(self, data: st.DataObject, decision: str) -> None:
        case = data.draw(st.sampled_from(list(AfterSale.objects.filter(status=AfterSaleStatus.PENDING))))
        if decision == "approve":
            orders.approve_after_sale(self.operator, case.pk)
        elif decision == "reject":
            orders.reject_after_sale(self.operator, case.pk, "不符合")
        else:
            orders.cancel_after_sale(case.user, case.pk)
        self.deliver()

    @rule()
    def unfreeze(self) -> None:
        commission.unfreeze_due(now=timezone.now() + LATER)

    @rule(who=st.integers(0, 2), share=st.integers(1, 100), channel=st.sampled_from(["wallet", "bank"]))
    def withdraw(self, who: int, share: int, channel: str) -> None:
        user = self.promoters[who].user
        available = ledger.balance_of(user.pk, AccountKind.COMMISSION_AVAILABLE)
        amount = available * share // 100
        if amount < 100:
            return
        commission.request_withdrawal(user, amount, channel, "6222 0000", minimum=100, fee_bp=50)

    @precondition(lambda self: Withdrawal.objects.filter(status=WithdrawalStatus.PENDING).exists())
    @rule(data=st.data(), approve=st.booleans())
    def review_withdrawal(self, data: st.DataObject, approve: bool) -> None:
        w = data.draw(st.sampled_from(list(Withdrawal.objects.filter(status=WithdrawalStatus.PENDING))))
        if approve:
            commission.approve_withdrawal(self.operator, w.pk, "TXN1")
        else:
            commission.reject_withdrawal(self.operator, w.pk, "信息有误")

    # -- what must hold after every step ---------------------------------------------------

    @invariant()
    def books_agree(self) -> None:
        if not hasattr(self, "buyer"):
            return
        assert ledger.check_ledger() == []
        for s in (self.buyer, self.friend):
            mine = Order.objects.filter(user=s.user).exclude(
                status__in=[OrderStatus.PENDING_PAYMENT, OrderStatus.CLOSED]
            )
            totals = mine.aggregate(paid=Sum("paid_amount", default=0), refunded=Sum("refunded_amount", default=0))
            assert ledger.balance_of(s.user.pk, AccountKind.WALLET) == WALLET - totals["paid"] + totals["refunded"]
        for order in Order.objects.filter(pk__in=self.orders, status=OrderStatus.REFUNDED):
            assert order.lines.filter(refunded_quantity=F("quantity")).count() == order.lines.count()
            assert Commission.objects.filter(order_id=order.pk).exclude(reversed_amount=F("amount")).count() == 0
        # Commission only ever shrinks by reversal, and only on orders with refunds.
        untouched = Order.objects.filter(pk__in=self.orders, refunded_amount=0).values("pk")
        assert not Commission.objects.filter(order_id__in=untouched, reversed_amount__gt=0).exists()
        if not self.failing and not OutboxEvent.objects.filter(dispatched_at__isnull=True).exists():
            # Everything delivered: each promoter's grant is exactly the rate of what each line paid.
            rates = {1: 1000, 2: 500, 3: 200}
            for row in Commission.objects.filter(order_id__in=self.orders, source="distribution"):
                assert (
                    row.amount == row.base_amount * rates[row.level] // 10_000
                    or abs(row.amount - row.base_amount * rates[row.level] / 10_000) <= 1
                )


@pytest.mark.django_db
def test_money_book_state_machine() -> None:
    machine = MoneyBook.TestCase
    machine.settings = settings(
        max_examples=10, stateful_step_count=15, deadline=None, suppress_health_check=list(HealthCheck)
    )
    machine().runTest()
