"""Leaders: applying, review, the nearest-leader search, levels and rates, member binding."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from conftest import Api
from jishi.accounts.models import Role
from jishi.accounts.services import has_role, issue_token
from jishi.core import geo
from jishi.distribution import services as distribution
from jishi.groupbuy import leaders
from jishi.groupbuy.models import Leader, MemberBinding, ProductRate
from jishi.testing.factories import OperatorFactory, ProductFactory, UserFactory

from .conftest import HOME, application, make_leader, offset

pytestmark = pytest.mark.django_db


def test_apply_then_operator_approves(buyer_api: Api, operator_api: Api) -> None:
    lat, lng = offset(north_m=500)

    applied = buyer_api.post("groupbuy/leaders/apply", application("李娟", lat, lng, type="mom"))
    leader_id = applied.json()["id"]
    approved = operator_api.post(f"admin/groupbuy/leaders/{leader_id}/approve")

    assert applied.status_code == 201
    assert applied.json()["status"] == "pending"
    assert applied.json()["pickup_point"]["type"] == "mom"
    assert approved.status_code == 200
    assert approved.json()["status"] == "approved"
    assert has_role(Leader.objects.get(pk=leader_id).user, Role.LEADER)


def test_application_twice_is_refused(buyer_api: Api) -> None:
    buyer_api.post("groupbuy/leaders/apply", application("李娟", *HOME))

    again = buyer_api.post("groupbuy/leaders/apply", application("李娟", *HOME))

    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_applied"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"id_number": "12345"}, "id_number"),
        ({"pickup_point": {"type": "bank"}}, "pickup_point.type"),
        ({"pickup_point": {"latitude": 91}}, "pickup_point.latitude"),
        ({"phone": "123"}, "phone"),
    ],
)
def test_bad_application_is_422_and_writes_nothing(buyer_api: Api, change: dict[str, Any], field: str) -> None:
    body = application("李娟", *HOME)
    for key, value in change.items():
        body[key] = {**body[key], **value} if isinstance(value, dict) else value

    response = buyer_api.post("groupbuy/leaders/apply", body)

    assert response.status_code == 422
    assert field in response.json()["error"]["fields"]
    assert Leader.objects.count() == 0


def test_id_number_masked_unless_operator_has_permission(buyer_api: Api, operator: Any) -> None:
    leader_id = buyer_api.post("groupbuy/leaders/apply", application("李娟", *HOME)).json()["id"]
    allowed = OperatorFactory()
    allowed.user_permissions.add(Permission.objects.get(codename="view_leader_id_number"))

    masked = Api(issue_token(operator)).get(f"admin/groupbuy/leaders/{leader_id}").json()
    full = Api(issue_token(allowed)).get(f"admin/groupbuy/leaders/{leader_id}").json()

    assert masked["id_number"] == "330***********1234"
    assert full["id_number"] == "330106199001011234"


def test_reject_needs_a_reason_and_the_applicant_may_apply_again(buyer_api: Api, operator_api: Api) -> None:
    leader_id = buyer_api.post("groupbuy/leaders/apply", application("李娟", *HOME)).json()["id"]

    no_reason = operator_api.post(f"admin/groupbuy/leaders/{leader_id}/reject", {"reason": ""})
    rejected = operator_api.post(f"admin/groupbuy/leaders/{leader_id}/reject", {"reason": "地址不清楚"})
    mine = buyer_api.get("groupbuy/leaders/application").json()
    again = buyer_api.post("groupbuy/leaders/apply", application("李娟", *HOME))

    assert no_reason.status_code == 422
    assert no_reason.json()["error"]["code"] == "reason_required"
    assert rejected.json()["status"] == "rejected"
    assert mine["reason"] == "地址不清楚"
    assert again.status_code == 201
    assert again.json()["id"] == leader_id
    assert again.json()["status"] == "pending"


def test_buyer_cannot_approve(buyer_api: Api) -> None:
    leader = make_leader()

    response = buyer_api.post(f"admin/groupbuy/leaders/{leader.pk}/approve")

    assert response.status_code == 403


def test_nearest_first_within_the_radius(api: Api) -> None:
    a = make_leader("A", offset(north_m=1200))
    b = make_leader("B", offset(east_m=2500))
    make_leader("C", offset(north_m=-3500))

    response = api.get(f"groupbuy/leaders?lat={HOME[0]}&lng={HOME[1]}")

    items = response.json()["items"]
    assert response.status_code == 200
    assert [i["id"] for i in items] == [a.pk, b.pk]
    assert [i["distance_m"] for i in items] == [1200, 2500]
    assert items[0]["pickup_point"]["hours"] == "08:00-21:00"


def test_pending_and_suspended_leaders_are_not_shown(api: Api) -> None:
    shown = make_leader("A", offset(north_m=100))
    suspended = make_leader("B", offset(north_m=200))
    leaders.review(None, suspended.pk, "suspend", "投诉核实中")
    leaders.apply(UserFactory(), application("C", *offset(north_m=300)))

    items = api.get(f"groupbuy/leaders?lat={HOME[0]}&lng={HOME[1]}").json()["items"]

    assert [i["id"] for i in items] == [shown.pk]
    assert not has_role(Leader.objects.get(pk=suspended.pk).user, Role.LEADER)


def test_radius_is_a_setting(api: Api, settings: Any) -> None:
    settings.JISHI_GROUPBUY = {"RADIUS_M": 5000}
    c = make_leader("C", offset(north_m=-3500))

    items = api.get(f"groupbuy/leaders?lat={HOME[0]}&lng={HOME[1]}").json()["items"]

    assert [i["id"] for i in items] == [c.pk]


@pytest.mark.parametrize("query", ["lat=91&lng=120", "lat=30&lng=181", "lat=abc&lng=1", "lng=120"])
def test_bad_coordinates_are_422(api: Api, query: str) -> None:
    assert api.get(f"groupbuy/leaders?{query}").status_code == 422


def test_sql_distance_matches_python_haversine() -> None:
    leader = make_leader("A", offset(north_m=1700, east_m=-900))

    (found,) = leaders.nearest(*HOME)

    expected = geo.distance_m(*HOME, leader.point.latitude, leader.point.longitude)
    assert found.distance_m == round(expected)
    assert round(expected) == 1924


def test_radius_edge_is_the_same_in_sql_and_python() -> None:
    """One implementation (core.geo) for both the SQL search and the distance shown: a leader whose
    rounded distance is the radius is listed, one a metre beyond is not."""
    edge = make_leader("边", geo.destination(*HOME, 90, 3000))
    beyond = make_leader("外", geo.destination(*HOME, 0, 3001))

    found = leaders.nearest(*HOME, radius_m=3000)

    assert [(n.leader.pk, n.distance_m) for n in found] == [(edge.pk, 3000)]
    assert leaders.distance_to(beyond, *HOME) == 3001


def test_bounding_box_holds_the_circle() -> None:
    box = geo.bounding_box(*HOME, 3000)
    north = offset(north_m=2999)
    east = offset(east_m=2999)

    assert box.min_lat < HOME[0] < north[0] < box.max_lat
    assert box.min_lng < HOME[1] < east[1] < box.max_lng


# --- binding ------------------------------------------------------------------------


def test_member_binds_and_changes_only_after_cool_down(buyer_api: Api, buyer: Any) -> None:
    a, b = make_leader("A"), make_leader("B")

    first = buyer_api.post("groupbuy/me/leader", {"leader_id": a.pk})
    too_soon = buyer_api.post("groupbuy/me/leader", {"leader_id": b.pk})
    MemberBinding.objects.filter(member=buyer).update(bound_at=timezone.now() - timedelta(days=7, seconds=1))
    later = buyer_api.post("groupbuy/me/leader", {"leader_id": b.pk})

    assert first.json()["changed"] is True
    assert too_soon.status_code == 409
    assert too_soon.json()["error"]["code"] == "rebind_cool_down"
    assert later.json()["leader_id"] == b.pk
    assert buyer_api.get("groupbuy/me/leader").json()["leader_id"] == b.pk


def test_share_link_binds(buyer_api: Api) -> None:
    leader = make_leader("A")

    response = buyer_api.post("groupbuy/me/leader", {"share_code": leader.share_code.lower()})

    assert response.json()["leader_id"] == leader.pk
    assert response.json()["source"] == "share"


def test_binding_to_a_suspended_leader_is_refused(buyer_api: Api) -> None:
    leader = make_leader("A")
    leaders.review(None, leader.pk, "suspend", "暂停营业")

    response = buyer_api.post("groupbuy/me/leader", {"leader_id": leader.pk})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "leader_unavailable"


# --- rates --------------------------------------------------------------------------


def test_rate_default_level_and_product_override(operator_api: Api) -> None:
    leader = make_leader()
    product = ProductFactory()
    level = operator_api.post("admin/groupbuy/levels", {"name": "金牌团长", "rank": 1, "rate_bp": 1200}).json()

    default = leaders.rate_for(leader, product.pk)
    operator_api.put(f"admin/groupbuy/leaders/{leader.pk}/level", {"level_id": level["id"]})
    leader.refresh_from_db()
    by_level = leaders.rate_for(leader, product.pk)
    operator_api.put(f"admin/groupbuy/product-rates/{product.pk}", {"rate_bp": 800})
    by_product = leaders.rate_for(leader, product.pk)

    assert (default, by_level, by_product) == (1000, 1200, 800)


def test_product_rate_summing_above_the_cap_is_refused(operator_api: Api) -> None:
    distribution.update_settings(None, {"levels": 2, "rates_bp": [1000, 500]})
    product = ProductFactory()

    over = operator_api.put(f"admin/groupbuy/product-rates/{product.pk}", {"rate_bp": 1600})
    at_cap = operator_api.put(f"admin/groupbuy/product-rates/{product.pk}", {"rate_bp": 1500})

    assert over.status_code == 422
    assert over.json()["error"]["code"] == "commission_above_cap"
    assert at_cap.status_code == 200
    assert ProductRate.objects.get(product_id=product.pk).rate_bp == 1500
