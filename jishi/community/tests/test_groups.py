"""Groups: creating, joining by every mode, rules acknowledgement, roles, mute, remove, leave."""

from __future__ import annotations

import pytest

from conftest import Api
from jishi.accounts.services import issue_token
from jishi.community import groups
from jishi.community.models import Group, Invitation, Membership, MemberStatus, Role, RulesAcknowledgement
from jishi.distribution.models import Binding, Promoter, PromoterStatus
from jishi.testing.factories import OperatorFactory, UserFactory

from .conftest import RULES, make_group, member

pytestmark = pytest.mark.django_db


def test_operator_creates_a_group(operator_api: Api) -> None:
    res = operator_api.post(
        "admin/community/groups", {"name": "茶友会", "theme": "一起喝好茶", "rules": RULES, "join_mode": "open"}
    )
    assert res.status_code == 201
    body = res.json()
    group = Group.objects.get(pk=body["id"])
    assert (body["name"], body["join_mode"], body["member_count"], body["rules_version"]) == ("茶友会", "open", 0, 1)
    assert (group.theme, group.capacity) == ("一起喝好茶", 500)


def test_buyers_cannot_create_groups(buyer_api: Api) -> None:
    res = buyer_api.post("admin/community/groups", {"name": "x", "theme": "y", "rules": "z"})
    assert res.status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "", "theme": "y", "rules": "z"}, "name"),
        ({"name": "x", "theme": "y", "rules": "z", "join_mode": "secret"}, "join_mode"),
        ({"name": "x", "theme": "y", "rules": "z", "capacity": 0}, "capacity"),
        ({"name": "x", "theme": "y", "rules": "z", "join_mode": "level"}, "required_level_id"),
        ({"name": "x", "theme": "y", "rules": "z", "join_mode": "buyers"}, "required_product_id"),
        ({"name": "x", "theme": "y", "rules": "z", "owner_id": 2**62}, "owner_id"),
    ],
)
def test_bad_group_input_is_422(operator_api: Api, body: dict, field: str) -> None:
    res = operator_api.post("admin/community/groups", body)
    assert res.status_code == 422
    assert field in res.json()["error"]["fields"]
    assert Group.objects.count() == 0


def test_join_an_open_group_shows_the_rules(buyer_api: Api, buyer) -> None:
    group = make_group()
    res = buyer_api.post(f"community/groups/{group.pk}/join")
    assert res.status_code == 200
    assert res.json() == {"status": "joined", "rules": RULES, "rules_version": 1, "group_id": group.pk}
    group.refresh_from_db()
    assert group.member_count == 1
    again = buyer_api.post(f"community/groups/{group.pk}/join")
    assert again.json()["status"] == "joined"
    group.refresh_from_db()
    assert group.member_count == 1


def test_approval_group_queues_then_the_owner_approves(buyer_api: Api, buyer) -> None:
    owner = UserFactory()
    group = make_group(join_mode="approval", owner_id=owner.pk)
    res = buyer_api.post(f"community/groups/{group.pk}/join")
    assert res.json()["status"] == "pending"
    group.refresh_from_db()
    assert group.member_count == 1  # the owner only
    owner_api = Api(issue_token(owner))
    assert owner_api.get(f"community/groups/{group.pk}/members?status=pending").json()[0]["user_id"] == buyer.pk
    res = owner_api.post(f"community/groups/{group.pk}/members/{buyer.pk}/review", {"approve": True})
    assert res.status_code == 200
    assert res.json()["status"] == "active"
    group.refresh_from_db()
    assert group.member_count == 2
    again = owner_api.post(f"community/groups/{group.pk}/members/{buyer.pk}/review", {"approve": True})
    assert again.json()["error"]["code"] == "request_not_pending"


def test_plain_members_cannot_review_requests(buyer_api: Api, buyer) -> None:
    group = make_group(join_mode="approval")
    buyer_api.post(f"community/groups/{group.pk}/join")
    other = member(group)
    res = Api(issue_token(other)).post(f"community/groups/{group.pk}/members/{buyer.pk}/review", {"approve": True})
    assert res.status_code == 403
    assert res.json()["error"]["code"] == "not_group_manager"


def test_invite_only_group_needs_a_link(buyer_api: Api) -> None:
    group = make_group(join_mode="invite")
    res = buyer_api.post(f"community/groups/{group.pk}/join")
    assert res.status_code == 403
    assert res.json()["error"]["code"] == "invite_required"


def test_invite_link_admits_and_credits_the_inviter(buyer_api: Api, buyer) -> None:
    group = make_group(join_mode="invite")
    inviter = member(group)
    code = Membership.objects.get(user=inviter).invite_code
    assert buyer_api.get(f"community/invites/{code}").json()["group"]["id"] == group.pk
    res = buyer_api.post(f"community/invites/{code}/join")
    assert res.status_code == 200
    assert res.json()["status"] == "joined"
    joined = Membership.objects.get(group=group, user=buyer)
    assert (joined.status, joined.invited_by_id) == (MemberStatus.ACTIVE, inviter.pk)
    assert list(Invitation.objects.values_list("inviter_id", "invitee_id")) == [(inviter.pk, buyer.pk)]
    assert not Binding.objects.filter(buyer=buyer).exists()  # the inviter is no promoter


def test_invite_from_a_promoter_binds_the_newcomer(buyer_api: Api, buyer) -> None:
    group = make_group(join_mode="invite")
    inviter = member(group)
    Promoter.objects.create(user=inviter, code="TEAINV", status=PromoterStatus.ACTIVE)
    code = Membership.objects.get(user=inviter).invite_code
    assert buyer_api.post(f"community/invites/{code}/join").status_code == 200
    binding = Binding.objects.get(buyer=buyer)
    assert (binding.promoter_id, binding.source) == (inviter.pk, "link")


def test_own_and_unknown_invite_links(buyer_api: Api, buyer) -> None:
    group = make_group()
    member(group, buyer)
    code = Membership.objects.get(user=buyer).invite_code
    assert buyer_api.post(f"community/invites/{code}/join").json()["error"]["code"] == "own_invite"
    assert buyer_api.post("community/invites/NOPE/join").json()["error"]["code"] == "invalid_invite"


def test_level_group_refuses_members_below_the_level(buyer_api: Api) -> None:
    from jishi.loyalty.models import MemberLevel

    gold = MemberLevel.objects.create(name="金卡", threshold=1000)
    group = make_group(join_mode="level", required_level_id=gold.pk)
    res = buyer_api.post(f"community/groups/{group.pk}/join")
    assert res.status_code == 403
    assert res.json()["error"]["code"] == "level_required"


def test_buyers_group_admits_only_buyers_of_the_product() -> None:
    from jishi.orders import services as orders
    from jishi.payments.services import pay_with_wallet
    from jishi.testing.shop import shopper, skus

    (sku,) = skus(1500)
    group = make_group(join_mode="buyers", required_product_id=sku.product_id)
    s = shopper(wallet=10_000)
    api = Api(s.token)
    assert api.post(f"community/groups/{group.pk}/join").json()["error"]["code"] == "purchase_required"
    order = orders.place_order(s.user, [(sku.pk, 1)], s.address.pk, {})
    pay_with_wallet(s.user, order.pk)
    assert api.post(f"community/groups/{group.pk}/join").json()["status"] == "joined"


def test_a_full_group_takes_no_one_more(buyer_api: Api) -> None:
    group = make_group(capacity=1)
    member(group)
    res = buyer_api.post(f"community/groups/{group.pk}/join")
    assert res.status_code == 409
    assert res.json()["error"]["code"] == "group_full"
    assert Membership.objects.filter(group=group).count() == 1


def test_rules_acknowledgement_is_recorded_per_version(buyer_api: Api, buyer, operator_api: Api) -> None:
    group = make_group()
    buyer_api.post(f"community/groups/{group.pk}/join")
    assert buyer_api.get(f"community/groups/{group.pk}").json()["me"]["rules_acknowledged"] is False
    res = buyer_api.post(f"community/groups/{group.pk}/rules/ack")
    assert res.json()["rules_acknowledged"] is True
    operator_api.call("patch", f"admin/community/groups/{group.pk}", {"rules": "新群规"})
    assert buyer_api.get(f"community/groups/{group.pk}").json()["me"]["rules_acknowledged"] is False
    buyer_api.post(f"community/groups/{group.pk}/rules/ack")
    buyer_api.post(f"community/groups/{group.pk}/rules/ack")
    assert list(RulesAcknowledgement.objects.order_by("version").values_list("version", "rules")) == [
        (1, RULES),
        (2, "新群规"),
    ]


def test_non_members_cannot_acknowledge(buyer_api: Api) -> None:
    group = make_group()
    res = buyer_api.post(f"community/groups/{group.pk}/rules/ack")
    assert (res.status_code, res.json()["error"]["code"]) == (403, "not_member")


def test_posting_needs_acknowledged_rules_and_no_mute(buyer) -> None:
    group = make_group()
    member(group, buyer, ack=False)
    with pytest.raises(groups.RulesNotAcknowledged):
        groups.require_poster(buyer.pk, group.pk)
    groups.ack_rules(buyer, group.pk)
    assert groups.require_poster(buyer.pk, group.pk).user_id == buyer.pk


def test_admin_mutes_and_removes_a_member(buyer, buyer_api: Api) -> None:
    owner = UserFactory()
    group = make_group(owner_id=owner.pk)
    admin = member(group)
    groups.set_role(OperatorFactory(), group.pk, admin.pk, Role.ADMIN)
    member(group, buyer)
    admin_api = Api(issue_token(admin))
    res = admin_api.post(f"community/groups/{group.pk}/members/{buyer.pk}/mute", {"minutes": 60})
    assert res.status_code == 200
    with pytest.raises(groups.Muted):
        groups.require_poster(buyer.pk, group.pk)
    assert admin_api.post(f"community/groups/{group.pk}/members/{owner.pk}/remove").status_code == 403
    res = admin_api.post(f"community/groups/{group.pk}/members/{buyer.pk}/remove")
    assert res.json()["status"] == "removed"
    group.refresh_from_db()
    assert group.member_count == 2
    again = buyer_api.post(f"community/groups/{group.pk}/join")
    assert (again.status_code, again.json()["error"]["code"]) == (403, "removed_from_group")


def test_leave_frees_the_seat_and_rejoining_takes_it_again(buyer, buyer_api: Api) -> None:
    group = make_group(capacity=2)
    member(group, buyer)
    res = buyer_api.post(f"community/groups/{group.pk}/leave")
    assert res.json()["status"] == "left"
    group.refresh_from_db()
    assert group.member_count == 0
    assert buyer_api.post(f"community/groups/{group.pk}/leave").json()["error"]["code"] == "not_member"
    assert buyer_api.post(f"community/groups/{group.pk}/join").json()["status"] == "joined"
    group.refresh_from_db()
    assert group.member_count == 1


def test_the_owner_cannot_leave(buyer, buyer_api: Api) -> None:
    group = make_group(owner_id=buyer.pk)
    res = buyer_api.post(f"community/groups/{group.pk}/leave")
    assert (res.status_code, res.json()["error"]["code"]) == (409, "owner_cannot_leave")


def test_member_list_is_for_members(buyer_api: Api) -> None:
    group = make_group()
    member(group)
    assert buyer_api.get(f"community/groups/{group.pk}/members").status_code == 403
