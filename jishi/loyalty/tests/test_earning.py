"""Points and growth earned from orders, and their exact reversal on refunds."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from jishi.core.events import deliver_pending
from jishi.core.ledger import check_ledger
from jishi.core.models import OutboxEvent
from jishi.loyalty import earning, points
from jishi.loyalty.models import Member, OrderPoints, PointsDebtLog
from jishi.notify.models import Message
from jishi.testing.shop import Shopper

from .conftest import complete, make_level, pay, place, points_of, refund, set_rules

pytestmark = pytest.mark.django_db


def test_points_are_credited_on_completion_not_payment(rich: Shopper) -> None:
    order = pay(rich, place(rich, 12345))  # paid 12345 + 1000 shipping = 13345 → 133 points
    assert points_of(rich.user) == 0
    assert Member.objects.get(user=rich.user).growth == 133

    complete(order)

    assert points_of(rich.user) == 133 + 10  # plus the first order of the day
    row = OrderPoints.objects.get(order=order)
    assert (row.earned, row.earn_base) == (143, 13345)
    assert check_ledger() == []


def test_only_the_first_completed_order_paid_that_day_gets_the_bonus(rich: Shopper) -> None:
    first = pay(rich, place(rich, 1000))
    second = pay(rich, place(rich, 1000))
    complete(first)
    complete(second)
    assert points_of(rich.user) == 20 + 20 + 10


def test_refund_before_completion_lowers_the_points_base(rich: Shopper) -> None:
    order = pay(rich, place(rich, 10000))  # 11000 paid
    refund(order, 3050)
    complete(order)
    # (11000 − 3050) // 100 = 79, plus the bonus
    assert points_of(rich.user) == 79 + 10
    # growth: 110 added, 110 × 3050 // 11000 = 30 removed
    assert Member.objects.get(user=rich.user).growth == 80


def test_campaign_orders_that_earn_no_points_earn_none(rich: Shopper) -> None:
    order = pay(rich, place(rich, 10000))
    order.meta = {"campaign": {"kind": "flash", "id": 1, "points": False}}
    order.save(update_fields=["meta"])
    complete(order)
    assert points_of(rich.user) == 0
    assert Member.objects.get(user=rich.user).growth == 110  # growth is for paying, any order


def test_points_per_yuan_and_level_multiplier_are_settings(rich: Shopper) -> None:
    set_rules(points_per_yuan=2, first_order_points=0)
    make_level("金卡", 0, points_multiplier_bp=15000)
    complete(pay(rich, place(rich, 9999)))  # 10999 → 109 yuan × 2 × 1.5 = 327
    assert points_of(rich.user) == 327


def test_partial_refunds_after_completion_take_back_points_in_proportion(rich: Shopper) -> None:
    set_rules(first_order_points=0)
    order = complete(pay(rich, place(rich, 3000, quantities=(3,))))  # 10000 paid → 100 points
    assert points_of(rich.user) == 100
    refund(order, 2999, quantity=1)
    assert points_of(rich.user) == 100 - 29  # 100 × 2999 // 10000
    refund(order, 3000, quantity=1)
    assert points_of(rich.user) == 100 - 59  # 100 × 5999 // 10000, cumulatively
    refund(order)  # the last unit (3001); shipping is not refundable after completion
    # Every unit is back: the order earned nothing, even though the shipping fee was kept.
    assert points_of(rich.user) == 0
    assert OrderPoints.objects.get(order=order).earned_clawed == 100
    assert Member.objects.get(user=rich.user).growth == 0
    assert check_ledger() == []


def test_a_full_refund_takes_back_everything_earned(rich: Shopper) -> None:
    order = pay(rich, place(rich, 9000))
    order.meta = {}
    earning.on_completed(order.pk, rich.user.pk, order.paid_amount, 0, {})  # completed, then refunded in full
    assert points_of(rich.user) == 110
    earning.on_refunded(order.pk, rich.user.pk, 1, order.paid_amount, order.paid_amount, True)
    assert points_of(rich.user) == 0
    assert Member.objects.get(user=rich.user).growth == 0


def test_clawback_of_spent_points_becomes_debt_settled_by_later_earning(rich: Shopper) -> None:
    set_rules(first_order_points=0)
    order = complete(pay(rich, place(rich, 19000)))  # 20000 → 200 points
    points.debit(rich.user.pk, 150, kind="points_adjust", key="spend-test")
    refund(order)  # every unit back (19000 of 20000): takes back all 200, finds 50, 150 owed

    assert points_of(rich.user) == 0
    assert Member.objects.get(user=rich.user).points_debt == 150

    complete(pay(rich, place(rich, 9000)))  # earns 100: all of it settles debt
    assert points_of(rich.user) == 0
    assert Member.objects.get(user=rich.user).points_debt == 50
    complete(pay(rich, place(rich, 9000)))  # earns 100: 50 settles the rest
    assert points_of(rich.user) == 50
    assert Member.objects.get(user=rich.user).points_debt == 0
    assert sorted(PointsDebtLog.objects.values_list("amount", flat=True)) == [-100, -50, 150]
    assert points.open_lots_total(rich.user.pk) == 50
    assert check_ledger() == []


def test_growth_moves_levels_up_and_down_with_an_event_and_a_notice(rich: Shopper) -> None:
    make_level("普通会员", 0)
    silver = make_level("银卡", 100)
    order = pay(rich, place(rich, 9500))  # 10500 → growth 105
    member = Member.objects.get(user=rich.user)
    assert (member.growth, member.level_id) == (105, silver.pk)
    up = OutboxEvent.objects.filter(name="loyalty.level_changed").order_by("id")
    assert [e.payload["to_level"] for e in up] == ["银卡"]  # straight past the entry level
    deliver_pending()
    assert list(
        Message.objects.filter(user=rich.user, key__startswith="level_changed:").values_list("title", flat=True)
    ) == ["恭喜升级为银卡"]

    refund(order, 1050)  # growth 105 − 10 = 95
    member.refresh_from_db()
    assert member.growth == 95
    assert member.level.name == "普通会员"
    assert up.last().payload["direction"] == "down"


def test_handlers_apply_each_event_once(rich: Shopper) -> None:
    order = complete(pay(rich, place(rich, 9000)))
    before = points_of(rich.user)
    OutboxEvent.objects.filter(name__startswith="order.").update(dispatched_at=None)
    deliver_pending()
    earning.on_completed(order.pk, rich.user.pk, order.paid_amount, 0, {})  # and the service itself
    assert points_of(rich.user) == before
    assert Member.objects.get(user=rich.user).growth == 100


def test_content_and_invitation_awards_once_each_with_a_daily_limit(rich: Shopper) -> None:
    set_rules(content_points_daily_limit=2)
    now = timezone.now()
    assert earning.award_post_points(rich.user, 1, now=now) == 5
    assert earning.award_post_points(rich.user, 1, now=now) == 0  # same post
    assert earning.award_post_points(rich.user, 2, now=now) == 5
    assert earning.award_post_points(rich.user, 3, now=now) == 0  # daily limit
    assert earning.award_post_points(rich.user, 3, now=now + timedelta(days=1)) == 5
    assert earning.award_review_points(rich.user, 1, now=now) == 10
    assert earning.award_invitation_points(rich.user, 999, now=now) == 50
    assert earning.award_invitation_points(rich.user, 999, now=now) == 0
    assert earning.award_invitation_points(rich.user, rich.user.pk, now=now) == 0
    assert points_of(rich.user) == 5 + 5 + 5 + 10 + 50
