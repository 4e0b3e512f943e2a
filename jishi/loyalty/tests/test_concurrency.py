"""Races on real databases: mall stock and limits, red-packet budgets, points spends."""

from __future__ import annotations

from collections import Counter

import pytest

from conftest import Api
from jishi.core import ledger
from jishi.core.ledger import check_ledger
from jishi.loyalty import points, red_packets
from jishi.loyalty.models import MallItem, MallRedemption, RedPacket, RedPacketBudget
from jishi.orders.models import Order
from jishi.testing.concurrency import race
from jishi.testing.factories import OperatorFactory, UserFactory
from jishi.testing.shop import shopper, skus

from .conftest import points_of

pytestmark = pytest.mark.django_db(transaction=True)


def test_twenty_buyers_race_for_five_mall_items() -> None:
    (sku,) = skus(5000, stock=100)
    item = MallItem.objects.create(name="保温杯", sku=sku, points=500, stock=5)
    buyers = [shopper() for _ in range(20)]
    for b in buyers:
        points.credit(b.user.pk, 500, kind="points_adjust", key=f"seed:{b.user.pk}")

    def redeem(i: int) -> int:
        return Api(buyers[i].token).post(f"loyalty/mall/{item.pk}/redeem", {}).status_code

    assert Counter(race(20, redeem)) == {201: 5, 409: 15}
    item.refresh_from_db()
    assert (item.stock, item.redeemed) == (0, 5)
    assert MallRedemption.objects.count() == 5
    assert sum(points_of(b.user) for b in buyers) == 15 * 500
    assert check_ledger() == []


def test_one_buyer_double_clicks_past_the_per_person_limit() -> None:
    (sku,) = skus(5000, stock=100)
    item = MallItem.objects.create(name="帆布袋", sku=sku, points=100, stock=50, per_person_limit=2)
    s = shopper()
    points.credit(s.user.pk, 10_000, kind="points_adjust", key="seed")

    def redeem(i: int) -> int:
        return Api(s.token).post(f"loyalty/mall/{item.pk}/redeem", {}).status_code

    assert Counter(race(6, redeem)) == {201: 2, 409: 4}
    assert Order.objects.filter(user=s.user).count() == 2
    assert points_of(s.user) == 10_000 - 200


def test_budget_is_never_overspent() -> None:
    budget = red_packets.create_budget(OperatorFactory(), "newyear", "新年红包")
    red_packets.fund_budget(None, budget, 1000, key="fund-1")
    users = [UserFactory() for _ in range(15)]

    def grant(i: int) -> str:
        try:
            red_packets.grant_red_packet(users[i], 100, "newyear", "新年快乐", key=f"ny:{i}")
            return "ok"
        except red_packets.BudgetExhausted:
            return "exhausted"

    assert Counter(race(15, grant)) == {"ok": 10, "exhausted": 5}
    budget = RedPacketBudget.objects.get(pk=budget.pk)
    assert budget.remaining == 0
    assert RedPacket.objects.count() == 10
    assert ledger.balance(red_packets.budget_account(budget)) == 0
    assert check_ledger() == []


def test_parallel_spends_of_one_balance_never_overdraw() -> None:
    user = UserFactory()
    points.credit(user.pk, 1000, kind="points_adjust", key="seed")

    def spend(i: int) -> str:
        try:
            points.debit(user.pk, 300, kind="points_adjust", key=f"spend:{i}")
            return "ok"
        except points.InsufficientPoints:
            return "short"

    assert Counter(race(6, spend)) == {"ok": 3, "short": 3}
    assert points_of(user) == 100
    assert points.open_lots_total(user.pk) == 100
    assert check_ledger() == []
