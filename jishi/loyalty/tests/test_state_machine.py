"""Property test: any sequence of earn / spend / refund / expire keeps the books exact."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from jishi.core.ledger import check_ledger
from jishi.loyalty import earning, points
from jishi.loyalty.models import Member
from jishi.testing.factories import UserFactory

from .conftest import points_of, set_rules

START = datetime(2025, 3, 1, 12, tzinfo=ZoneInfo("Asia/Shanghai"))


class PointsBook(RuleBasedStateMachine):
    """A buyer earns (orders, awards), spends at checkout, gets refunds and sees points expire."""

    @initialize()
    def setup(self) -> None:
        set_rules(expiry_mode="year_end_next", first_order_points=0)
        self.user = UserFactory()
        self.now = START
        self.n = 0
        self.orders: list[dict] = []  # earned orders: {"id", "paid", "refunded"}
        self.spends: list[dict] = []  # {"key", "used", "returned"}

    def key(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}:{self.user.pk}:{self.n}"

    @rule(amount=st.integers(1, 5000))
    def earn(self, amount: int) -> None:
        points.credit(self.user.pk, amount, kind="points_adjust", key=self.key("earn"), now=self.now)

    @rule(paid=st.integers(100, 50_000))
    def earn_from_order(self, paid: int) -> None:
        # an order row is not needed by the earning maths: the loyalty record stands alone
        from jishi.loyalty.models import OrderPoints
        from jishi.orders.models import Order

        order = Order.objects.create(number=self.key("N")[-20:], user=self.user, paid_amount=paid, payable=paid)
        OrderPoints.objects.create(order=order, user=self.user)
        earning.on_completed(order.pk, self.user.pk, paid, 0, {}, now=self.now)
        self.orders.append({"id": order.pk, "paid": paid, "refunded": 0, "case": 0})

    @rule(amount=st.integers(1, 3000))
    def spend(self, amount: int) -> None:
        key = self.key("spend")
        before = points_of(self.user)
        try:
            taken = points.debit(self.user.pk, amount, kind="points_checkout", key=key)
        except points.InsufficientPoints:
            assert amount > before
            return
        assert taken == amount
        self.spends.append({"key": key, "used": amount, "returned": 0})

    @precondition(lambda self: self.spends)
    @rule(data=st.data())
    def return_spent(self, data: st.DataObject) -> None:
        spend = data.draw(st.sampled_from(self.spends))
        amount = data.draw(st.integers(1, spend["used"]))
        given = points.restore(self.user.pk, spend["key"], amount, key=self.key("back"))
        assert given == min(amount, spend["used"] - spend["returned"])
        spend["returned"] += given

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def refund_order(self, data: st.DataObject) -> None:
        order = data.draw(st.sampled_from(self.orders))
        left = order["paid"] - order["refunded"]
        if left <= 0:
            return
        amount = data.draw(st.integers(1, left))
        order["case"] += 1
        order["refunded"] += amount
        earning.on_refunded(
            order["id"], self.user.pk, order["case"], amount, order["paid"], order["refunded"] == order["paid"]
        )

    @rule(days=st.integers(1, 400))
    def time_passes_and_points_expire(self, days: int) -> None:
        self.now += timedelta(days=days)
        points.expire_due_points(now=self.now)

    @invariant()
    def books_are_exact(self) -> None:
        if not hasattr(self, "user"):
            return
        balance = points_of(self.user)
        assert balance >= 0
        assert points.open_lots_total(self.user.pk) == balance
        member = Member.objects.filter(user=self.user).first()
        assert member is None or member.points_debt >= 0
        assert check_ledger() == []


@pytest.mark.django_db
def test_points_book_state_machine() -> None:
    machine = PointsBook.TestCase
    machine.settings = settings(
        max_examples=25, stateful_step_count=15, deadline=None, suppress_health_check=list(HealthCheck)
    )
    machine().runTest()
