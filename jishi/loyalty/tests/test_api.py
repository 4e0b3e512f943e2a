"""The loyalty REST API: pinned shapes, operator endpoints, object-level authorisation."""

from __future__ import annotations

import pytest

from conftest import Api
from jishi.core.models import AuditLog
from jishi.loyalty import points
from jishi.loyalty.conf import loyalty_settings
from jishi.testing.shop import Shopper

from .conftest import make_level, pay, place

pytestmark = pytest.mark.django_db


def test_me_reports_points_level_and_the_next_threshold(rich: Shopper) -> None:
    make_level("普通会员", 0)
    make_level("银卡", 500)
    pay(rich, place(rich, 9000))  # growth 100
    points.credit(rich.user.pk, 42, kind="points_adjust", key="x")
    body = Api(rich.token).get("loyalty/me").json()
    assert body == {"points": 42, "level": "普通会员", "growth": 100, "next_level_growth": 500}


def test_history_is_newest_first_with_labels(buyer_api: Api) -> None:
    buyer_api.post("loyalty/sign-in")
    body = buyer_api.get("loyalty/points/history").json()
    assert [(i["amount"], i["label"]) for i in body["items"]] == [(5, "每日签到")]
    assert buyer_api.get("loyalty/points/history?limit=0").status_code == 422


def test_calendar(buyer_api: Api) -> None:
    buyer_api.post("loyalty/sign-in")
    body = buyer_api.get("loyalty/sign-in/calendar").json()
    assert (len(body["signed_days"]), body["streak"], body["signed_today"]) == (1, 1, True)
    assert buyer_api.get("loyalty/sign-in/calendar?month=13").status_code == 422


def test_anonymous_is_401(api: Api) -> None:
    assert api.get("loyalty/me").status_code == 401
    assert api.post("loyalty/sign-in").status_code == 401


def test_operator_edits_settings_and_levels(operator_api: Api, buyer_api: Api) -> None:
    changed = operator_api.put(
        "admin/loyalty/settings", {"redeem_points_per_yuan": 50, "sign_in_tiers": [{"day": 1, "points": 7}]}
    )
    assert changed.status_code == 200
    assert (changed.json()["redeem_points_per_yuan"], changed.json()["sign_in_tiers"]) == (
        50,
        [{"day": 1, "points": 7}],
    )
    assert loyalty_settings().redeem_points_per_yuan == 50
    assert operator_api.put("admin/loyalty/settings", {"sign_in_reset": "daily"}).status_code == 422
    assert buyer_api.post("loyalty/sign-in").json()["points_awarded"] == 7

    level = operator_api.post("admin/loyalty/levels", {"name": "黑卡", "threshold": 0, "discount_bp": 800})
    assert level.status_code == 201
    duplicate = operator_api.post("admin/loyalty/levels", {"name": "另一个", "threshold": 0})
    assert (duplicate.status_code, duplicate.json()["error"]["code"]) == (422, "duplicate_threshold")
    assert buyer_api.get("loyalty/me").json()["level"] == "黑卡"
    assert AuditLog.objects.filter(action="loyalty.settings").count() == 1


def test_operator_adjusts_points_never_below_zero(operator_api: Api, buyer) -> None:
    added = operator_api.post(
        "admin/loyalty/points/adjustments", {"user_id": buyer.pk, "amount": 300, "reason": "补偿"}
    )
    assert added.status_code == 201
    assert added.json()["balance"] == 300
    over = operator_api.post(
        "admin/loyalty/points/adjustments", {"user_id": buyer.pk, "amount": -301, "reason": "扣减"}
    )
    assert (over.status_code, over.json()["error"]["code"]) == (409, "insufficient_points")
    assert points.balance(buyer.pk) == 300


def test_idempotency_key_replays_a_sign_in(buyer_api: Api) -> None:
    first = buyer_api.post("loyalty/sign-in", headers={"Idempotency-Key": "k1"})
    second = buyer_api.post("loyalty/sign-in", headers={"Idempotency-Key": "k1"})
    assert first.status_code == second.status_code == 200
    assert second.headers.get("Idempotent-Replayed") == "true"


def test_liability_api(operator_api: Api, buyer) -> None:
    points.credit(buyer.pk, 1000, kind="points_adjust", key="x")
    body = operator_api.get("admin/loyalty/liability").json()
    assert (body["outstanding"], body["value"], body["holders"]) == (1000, 1000, 1)
