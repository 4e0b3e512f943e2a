"""Review: loyalty's money paths stay exact when an event or a credit is applied a second time."""

from __future__ import annotations

import pytest

from jishi.core.ledger import check_ledger
from jishi.core.models import OutboxEvent
from jishi.loyalty import handlers, points
from jishi.loyalty.models import Member, OrderPoints
from jishi.testing.shop import Shopper

from .conftest import complete, pay, place, points_of, refund, set_rules

pytestmark = pytest.mark.django_db


def test_a_refund_event_handled_twice_reverses_once(rich: Shopper) -> None:
    set_rules(first_order_points=0)
    order = complete(pay(rich, place(rich, 3000, quantities=(3,))))  # 10000 paid → 100 points, 100 growth
    refund(order, 2999, quantity=1)
    before = (points_of(rich.user), Member.objects.get(user=rich.user).growth)
    assert before == (100 - 29, 100 - 29)

    event = OutboxEvent.objects.filter(name="order.refunded").get()
    handlers.on_order_refunded(event)  # at-least-once delivery: a second, separate application

    row = OrderPoints.objects.get(order=order)
    assert (row.refunded, row.earned_clawed, row.growth_removed) == (2999, 29, 29)
    assert (points_of(rich.user), Member.objects.get(user=rich.user).growth) == before
    refund(order, 3000, quantity=1)  # the next refund still reverses exactly its cumulative share
    assert points_of(rich.user) == 100 - 59
    assert check_ledger() == []


def test_a_replayed_credit_does_not_settle_a_later_debt(rich: Shopper) -> None:
    user_id = rich.user.pk
    assert points.credit(user_id, 100, kind="points_adjust", key="review:credit") == 100
    points.debit(user_id, 100, kind="points_mall", key="review:spend")
    assert points.claw_back(user_id, 40, key="review:claw") == points.Clawback(0, 40)

    assert points.credit(user_id, 100, kind="points_adjust", key="review:credit") == 0  # a replay

    assert Member.objects.get(user_id=user_id).points_debt == 40
    assert points_of(rich.user) == 0
    assert check_ledger() == []
