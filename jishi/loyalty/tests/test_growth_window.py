"""Member levels count the growth of the last N days: a member who stops buying moves down."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from jishi.core.events import deliver_pending
from jishi.core.models import OutboxEvent
from jishi.loyalty import levels
from jishi.loyalty.models import Member
from jishi.notify.models import Message
from jishi.testing.factories import UserFactory

from .conftest import make_level, set_rules

pytestmark = pytest.mark.django_db


def test_growth_older_than_the_window_stops_counting_and_the_level_follows() -> None:
    set_rules(growth_window_days=365)
    gold = make_level("金卡", 1000)
    silver = make_level("银卡", 300)
    user = UserFactory()
    now = timezone.now()
    levels.change_growth(user.pk, 800, "order:1", now=now - timedelta(days=400))
    levels.change_growth(user.pk, 400, "order:2", now=now - timedelta(days=10))
    assert Member.objects.get(user=user).level_id == gold.pk

    assert levels.expire_growth(now=now) == 1
    assert levels.expire_growth(now=now) == 0  # nothing more to take off

    member = Member.objects.get(user=user)
    assert (member.growth, member.level_id) == (400, silver.pk)
    changed = OutboxEvent.objects.filter(name="loyalty.level_changed").last()
    assert changed is not None
    assert (changed.payload["direction"], changed.payload["reason"]) == ("down", "growth_expired")
    deliver_pending()
    titles = Message.objects.filter(user_id=user.pk, key__startswith="level_changed:").order_by("id")
    assert [m.title for m in titles] == ["恭喜升级为银卡", "恭喜升级为金卡", "会员等级调整为银卡"]  # up, up, down
    deliver_pending()  # redelivery writes nothing twice
    assert titles.count() == 3


def test_a_window_of_zero_keeps_growth_for_ever() -> None:
    set_rules(growth_window_days=0)
    user = UserFactory()
    levels.change_growth(user.pk, 800, "order:1", now=timezone.now() - timedelta(days=4000))
    assert levels.expire_growth() == 0
    assert Member.objects.get(user=user).growth == 800


def test_a_refund_inside_the_window_of_growth_earned_before_it_never_goes_below_zero() -> None:
    set_rules(growth_window_days=30)
    user = UserFactory()
    now = timezone.now()
    levels.change_growth(user.pk, 500, "order:1", now=now - timedelta(days=40))
    levels.change_growth(user.pk, -200, "refund:1", now=now - timedelta(days=5))
    assert levels.expire_growth(now=now) == 1
    assert Member.objects.get(user=user).growth == 0
