"""Daily sign-in: streak tiers, reset modes, once a day (also under parallel requests)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from conftest import Api
from jishi.core.ledger import check_ledger
from jishi.loyalty import signin
from jishi.loyalty.models import SignIn
from jishi.testing.factories import UserFactory
from jishi.testing.shop import shopper

from .conftest import points_of, set_rules

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 3, 2, 9, tzinfo=SHANGHAI)


@pytest.mark.django_db
def test_sign_in_api_awards_points_and_a_second_call_is_409(buyer_api: Api, buyer) -> None:
    first = buyer_api.post("loyalty/sign-in")
    second = buyer_api.post("loyalty/sign-in")

    assert first.status_code == 200
    assert first.json() == {"points_awarded": 5, "streak": 1}
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "already_signed_in"
    assert points_of(buyer) == 5
    assert buyer_api.get("loyalty/me").json() == {"points": 5, "level": "", "growth": 0, "next_level_growth": None}


@pytest.mark.django_db
def test_streak_tiers_over_a_week() -> None:
    user = UserFactory()
    awarded = [signin.sign_in(user, now=MONDAY + timedelta(days=d)).points for d in range(8)]
    assert awarded == [5, 5, 10, 10, 10, 10, 20, 20]
    assert points_of(user) == 90


@pytest.mark.django_db
def test_a_missed_day_breaks_the_streak() -> None:
    user = UserFactory()
    signin.sign_in(user, now=MONDAY)
    signin.sign_in(user, now=MONDAY + timedelta(days=1))
    row = signin.sign_in(user, now=MONDAY + timedelta(days=3))
    assert row.streak == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("mode", "start", "streak_after_boundary"),
    [
        ("weekly", datetime(2026, 3, 1, 9, tzinfo=SHANGHAI), 1),  # Sunday → Monday
        ("monthly", datetime(2026, 2, 28, 9, tzinfo=SHANGHAI), 1),  # 28 Feb → 1 Mar
        ("never", datetime(2026, 2, 28, 9, tzinfo=SHANGHAI), 2),
    ],
)
def test_reset_modes(mode: str, start: datetime, streak_after_boundary: int) -> None:
    set_rules(sign_in_reset=mode)
    user = UserFactory()
    signin.sign_in(user, now=start)
    assert signin.sign_in(user, now=start + timedelta(days=1)).streak == streak_after_boundary


@pytest.mark.django_db
def test_the_day_is_the_shop_day() -> None:
    user = UserFactory()
    signin.sign_in(user, now=datetime(2026, 3, 2, 15, 59, tzinfo=ZoneInfo("UTC")))  # 23:59 in Shanghai
    row = signin.sign_in(user, now=datetime(2026, 3, 2, 16, 1, tzinfo=ZoneInfo("UTC")))  # 00:01 next day
    assert (row.day.isoformat(), row.streak) == ("2026-03-03", 2)


@pytest.mark.django_db
def test_calendar_marks_signed_days() -> None:
    user = UserFactory()
    for d in (0, 1, 2):
        signin.sign_in(user, now=MONDAY + timedelta(days=d))
    cal = signin.month_calendar(user.pk, 2026, 3, now=MONDAY + timedelta(days=2))
    signed = [d["day"].day for week in cal["weeks"] for d in week if d["signed"]]
    assert signed == [2, 3, 4]
    assert (cal["streak"], cal["signed_today"], cal["next_points"]) == (3, True, 10)


@pytest.mark.django_db(transaction=True)
def test_parallel_sign_ins_award_once() -> None:
    from jishi.loyalty.tests.test_concurrency import race

    s = shopper()

    def go(i: int) -> int:
        return Api(s.token).post("loyalty/sign-in").status_code

    assert Counter(race(8, go)) == {200: 1, 409: 7}
    assert SignIn.objects.filter(user=s.user).count() == 1
    assert points_of(s.user) == 5
    assert check_ledger() == []
