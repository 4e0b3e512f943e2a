"""拼团: open by paying, join by paying, complete when full, refund everyone when it fails."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from conftest import Api
from jishi.commission.models import Commission, CommissionSource
from jishi.core import ledger
from jishi.core.models import AccountKind
from jishi.marketing import groups
from jishi.marketing.models import Group, GroupMember, GroupStatus, MemberStatus
from jishi.orders import services as orders
from jishi.orders.models import Order, OrderStatus
from jishi.payments.services import pay_with_wallet
from jishi.testing.shop import Shopper, shopper

from .conftest import deliver

pytestmark = pytest.mark.django_db


def open_paid(campaign: Any, leader: Shopper) -> Group:
    group, order = groups.open_group(leader.user, campaign.pk)
    pay_with_wallet(leader.user, order.pk)
    deliver()
    return Group.objects.get(pk=group.pk)


def join_paid(group: Group, member: Shopper) -> Order:
    _group, order = groups.join_group(member.user, group.pk)
    pay_with_wallet(member.user, order.pk)
    deliver()
    return order


def test_opening_places_an_order_at_the_group_price(group_campaign: Any) -> None:
    campaign = group_campaign(group_price=3900)
    s = shopper()

    response = Api(s.token).post(f"group-buys/{campaign.pk}/groups", {})

    assert response.status_code == 201
    body = response.json()
    order = Order.objects.get(pk=body["order"]["id"])
    assert order.goods_amount == 3900
    assert order.meta["campaign"]["kind"] == "group"
    assert order.meta["campaign"]["group_id"] == body["group"]["id"]
    assert (body["group"]["status"], body["group"]["seats_taken"]) == ("pending", 1)


def test_the_leaders_payment_opens_the_group_for_the_time_limit(group_campaign: Any) -> None:
    campaign = group_campaign(time_limit_hours=24)
    leader = shopper(wallet=10_000)

    group = open_paid(campaign, leader)

    assert (group.status, group.paid_count) == (GroupStatus.OPEN, 1)
    member = GroupMember.objects.get(group=group)
    assert member.paid_at is not None
    assert group.expires_at == member.paid_at + timedelta(hours=24)


def test_a_full_group_completes_and_pays_the_leader_bonus(group_campaign: Any, settings: Any) -> None:
    settings.JISHI_MARKETING = {"GROUP_LEADER_BONUS": 300}
    campaign = group_campaign(size=3)
    leader = shopper(wallet=10_000)
    group = open_paid(campaign, leader)

    orders_paid = [join_paid(group, shopper(wallet=10_000)) for _ in range(2)]

    group.refresh_from_db()
    assert (group.status, group.paid_count) == (GroupStatus.COMPLETE, 3)
    assert all(Order.objects.get(pk=o.pk).status == OrderStatus.PAID for o in orders_paid)
    assert ledger.balance_of(leader.user.pk, AccountKind.WALLET) == 10_000 - 3900 - 1000
    # The bonus is earned like a commission on the leader's order: frozen until it can no longer be refunded.
    bonus = Commission.objects.get(source=CommissionSource.GROUP_LEADER)
    assert (bonus.beneficiary_id, bonus.amount, bonus.order_id) == (
        leader.user.pk,
        300,
        group.members.get(is_leader=True).order_id,
    )
    assert ledger.balance_of(leader.user.pk, AccountKind.COMMISSION_FROZEN) == 300
    assert ledger.check_ledger() == []


def test_an_expired_group_refunds_every_member(group_campaign: Any) -> None:
    campaign = group_campaign(size=3)
    leader = shopper(wallet=10_000)
    group = open_paid(campaign, leader)
    joiner = shopper(wallet=10_000)
    join_paid(group, joiner)

    result = groups.expire_groups(now=group.expires_at + timedelta(seconds=1))
    deliver()

    group.refresh_from_db()
    assert result == {"completed": 0, "failed": 1, "refunded": 2}
    assert group.status == GroupStatus.FAILED
    assert set(GroupMember.objects.filter(group=group).values_list("status", flat=True)) == {MemberStatus.REFUNDED}
    assert set(Order.objects.values_list("status", flat=True)) == {OrderStatus.REFUNDED}
    for s in (leader, joiner):
        assert ledger.balance_of(s.user.pk, AccountKind.WALLET) == 10_000
    assert ledger.check_ledger() == []


def test_expiry_is_idempotent(group_campaign: Any) -> None:
    campaign = group_campaign(size=2)
    group = open_paid(campaign, shopper(wallet=10_000))
    later = group.expires_at + timedelta(minutes=1)
    groups.expire_groups(now=later)

    assert groups.expire_groups(now=later) == {"completed": 0, "failed": 0, "refunded": 0}


def test_a_group_before_its_deadline_is_left_alone(group_campaign: Any) -> None:
    group = open_paid(group_campaign(size=2), shopper(wallet=10_000))

    assert groups.expire_groups(now=group.expires_at - timedelta(seconds=1)) == {
        "completed": 0,
        "failed": 0,
        "refunded": 0,
    }


def test_campaign_may_complete_a_group_that_is_full_enough_at_its_deadline(group_campaign: Any) -> None:
    campaign = group_campaign(size=4, complete_percent=50)
    group = open_paid(campaign, shopper(wallet=10_000))
    join_paid(group, shopper(wallet=10_000))

    result = groups.expire_groups(now=group.expires_at)

    assert result["completed"] == 1
    assert Group.objects.get(pk=group.pk).status == GroupStatus.COMPLETE
    assert not Order.objects.filter(status=OrderStatus.REFUNDED).exists()


def test_a_buyer_joins_a_group_once(group_campaign: Any) -> None:
    group = open_paid(group_campaign(), shopper(wallet=10_000))
    s = shopper(wallet=10_000)
    join_paid(group, s)

    response = Api(s.token).post(f"group-buys/groups/{group.pk}/join", {})

    assert (response.status_code, response.json()["error"]["code"]) == (409, "already_in_group")


def test_the_leader_cannot_join_their_own_group(group_campaign: Any) -> None:
    leader = shopper(wallet=10_000)
    group = open_paid(group_campaign(), leader)

    response = Api(leader.token).post(f"group-buys/groups/{group.pk}/join", {})

    assert response.json()["error"]["code"] == "already_in_group"


def test_a_group_whose_leader_has_not_paid_cannot_be_joined(group_campaign: Any) -> None:
    group, _order = groups.open_group(shopper().user, group_campaign().pk)

    response = Api(shopper().token).post(f"group-buys/groups/{group.pk}/join", {})

    assert (response.status_code, response.json()["error"]["code"]) == (409, "group_not_open")


def test_an_unpaid_seat_is_released_when_its_order_closes(group_campaign: Any) -> None:
    group = open_paid(group_campaign(size=2), shopper(wallet=10_000))
    s = shopper(wallet=10_000)
    _g, order = groups.join_group(s.user, group.pk)
    assert Api(shopper().token).post(f"group-buys/groups/{group.pk}/join", {}).json()["error"]["code"] == "group_full"

    orders.close_expired_orders(now=order.pay_deadline + timedelta(seconds=1))
    deliver()

    group.refresh_from_db()
    assert (group.seats_taken, group.paid_count, group.status) == (1, 1, GroupStatus.OPEN)
    assert GroupMember.objects.get(order_id=order.pk).status == MemberStatus.RELEASED
    join_paid(group, s)  # the seat is free again, for the same buyer too
    assert Group.objects.get(pk=group.pk).status == GroupStatus.COMPLETE


def test_a_leader_who_never_pays_cancels_the_group(group_campaign: Any) -> None:
    group, order = groups.open_group(shopper().user, group_campaign().pk)

    orders.close_order(order)
    deliver()

    assert Group.objects.get(pk=group.pk).status == GroupStatus.CANCELLED


def test_paying_into_a_failed_group_is_refunded_at_once(group_campaign: Any) -> None:
    group = open_paid(group_campaign(size=3), shopper(wallet=10_000))
    late = shopper(wallet=10_000)
    _g, order = groups.join_group(late.user, group.pk)
    Group.objects.filter(pk=group.pk).update(status=GroupStatus.FAILED)

    pay_with_wallet(late.user, order.pk)
    deliver()

    assert Order.objects.get(pk=order.pk).status == OrderStatus.REFUNDED
    assert ledger.balance_of(late.user.pk, AccountKind.WALLET) == 10_000


def test_listing_shows_running_campaigns_with_open_groups(group_campaign: Any) -> None:
    campaign = group_campaign()
    group = open_paid(campaign, shopper(wallet=10_000, nickname="小明"))
    groups.open_group(shopper().user, campaign.pk)  # unpaid: not shown

    body = Api(shopper().token).get("group-buys").json()

    (item,) = body["items"]
    assert item["id"] == campaign.pk
    assert [(g["id"], g["leader"], g["seats_left"]) for g in item["groups"]] == [(group.pk, "小**", 2)]
    assert item["groups"][0]["share_url"] == f"/group/{group.share_code}/"


def test_my_groups_lists_only_mine(group_campaign: Any) -> None:
    mine = shopper(wallet=10_000)
    open_paid(group_campaign(), mine)
    open_paid(group_campaign(), shopper(wallet=10_000))

    items = Api(mine.token).get("group-buys/mine").json()["items"]

    assert [(i["is_leader"], i["member_status"]) for i in items] == [(True, "paid")]


def test_campaign_flags_travel_on_the_order(group_campaign: Any) -> None:
    campaign = group_campaign(commission=True, points=False)

    _group, order = groups.open_group(shopper().user, campaign.pk)

    assert (order.meta["campaign"]["commission"], order.meta["campaign"]["points"]) == (True, False)
    assert order.meta["fulfilment_hold"] == "group_buy"


def test_group_orders_ship_only_once_the_group_forms(group_campaign: Any) -> None:
    from jishi.core.errors import Conflict
    from jishi.testing.factories import OperatorFactory

    campaign = group_campaign(size=2)
    leader, member = shopper(wallet=10_000), shopper(wallet=10_000)
    group = open_paid(campaign, leader)
    leader_order = Order.objects.get(pk=GroupMember.objects.get(group=group, user=leader.user).order_id)

    with pytest.raises(Conflict) as held:
        orders.ship_order(OperatorFactory(), leader_order.pk, "SF", "1")
    assert held.value.code == "fulfilment_on_hold"

    join_paid(group, member)

    assert Group.objects.get(pk=group.pk).status == GroupStatus.COMPLETE
    shipped = orders.ship_order(OperatorFactory(), leader_order.pk, "SF", "1")
    assert shipped.status == OrderStatus.SHIPPED


def test_a_member_refunded_while_the_group_forms_frees_the_seat(group_campaign: Any) -> None:
    from jishi.testing.factories import OperatorFactory

    campaign = group_campaign(size=3)
    leader, member = shopper(wallet=10_000), shopper(wallet=10_000)
    group = open_paid(campaign, leader)
    order = join_paid(group, member)
    order.refresh_from_db()
    line = order.lines.get()
    case = orders.request_after_sale(member.user, order.pk, [(line.pk, 1)], order.paid_amount, "不想等了")
    orders.approve_after_sale(OperatorFactory(), case.pk)
    deliver()

    group.refresh_from_db()
    assert (group.status, group.paid_count, group.seats_taken) == (GroupStatus.OPEN, 1, 1)
    assert GroupMember.objects.get(group=group, user=member.user).status == MemberStatus.REFUNDED
