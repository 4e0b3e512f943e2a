"""Review defects in 拼团 and flash-sale money and stock paths, each reproduced and held fixed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from jishi.commission import services as commission
from jishi.commission.models import Commission, CommissionSource, CommissionStatus
from jishi.core import ledger
from jishi.core.errors import Conflict
from jishi.core.models import AccountKind
from jishi.inventory.models import StockItem
from jishi.inventory.services import OutOfStock
from jishi.marketing import flash, groups
from jishi.marketing.models import FlashItem, Group, GroupMember, GroupStatus, MemberStatus
from jishi.orders import services as orders
from jishi.orders.models import Order, OrderStatus
from jishi.payments.services import pay_with_wallet
from jishi.testing.factories import OperatorFactory
from jishi.testing.shop import Shopper, shopper

from .conftest import deliver
from .test_groups import join_paid, open_paid

pytestmark = pytest.mark.django_db


def refund_case(order: Order, amount: int | None = None) -> Any:
    order.refresh_from_db()
    line = order.lines.get()
    room = orders.max_refundable(order, {line.pk: line.quantity})
    return orders.request_after_sale(order.user, order.pk, [(line.pk, line.quantity)], amount or room, "x")


# --- 拼团 ---------------------------------------------------------------------------------


def test_a_failed_group_member_with_an_open_case_is_refunded_once_the_case_ends(group_campaign: Any) -> None:
    """Defect 3: the member was marked refunded while the buyer's case was open, then never refunded."""
    campaign = group_campaign(size=3)
    leader = shopper(wallet=10_000)
    group = open_paid(campaign, leader)
    leader_order = Order.objects.get(pk=GroupMember.objects.get(group=group, is_leader=True).order_id)
    case = refund_case(leader_order, 100)

    groups.expire_groups(now=group.expires_at + timedelta(seconds=1))
    assert GroupMember.objects.get(group=group).status == MemberStatus.PAID  # not refunded, not forgotten

    orders.cancel_after_sale(leader.user, case.pk)  # back to paid, still on hold
    result = groups.expire_groups(now=group.expires_at + timedelta(minutes=2))
    deliver()

    assert result["refunded"] == 1
    assert GroupMember.objects.get(group=group).status == MemberStatus.REFUNDED
    assert Order.objects.get(pk=leader_order.pk).status == OrderStatus.REFUNDED
    assert ledger.balance_of(leader.user.pk, AccountKind.WALLET) == 10_000
    assert ledger.check_ledger() == []


def test_a_payment_arriving_after_the_group_completed_at_x_percent_ships(group_campaign: Any) -> None:
    """Defect 4: a late order.paid into a group completed at X% full left its order on hold forever."""
    campaign = group_campaign(size=4, complete_percent=50)
    group = open_paid(campaign, shopper(wallet=10_000))
    join_paid(group, shopper(wallet=10_000))
    late = shopper(wallet=10_000)
    _g, late_order = groups.join_group(late.user, group.pk)
    pay_with_wallet(late.user, late_order.pk)  # paid; its order.paid not yet delivered
    groups.expire_groups(now=group.expires_at)  # completes at 2 of 4 paid
    assert Group.objects.get(pk=group.pk).status == GroupStatus.COMPLETE

    deliver()  # the late order.paid reaches the complete group

    late_order.refresh_from_db()
    assert late_order.status == OrderStatus.PAID
    assert "fulfilment_hold" not in late_order.meta
    shipped = orders.ship_order(OperatorFactory(), late_order.pk, "SF", "SF9")
    assert shipped.status == OrderStatus.SHIPPED


def test_one_bad_group_does_not_stop_the_expiry_of_the_others(
    group_campaign: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaign = group_campaign(size=3)
    first = open_paid(campaign, shopper(wallet=10_000))
    second = open_paid(campaign, shopper(wallet=10_000))
    real = groups._settle_expired

    def broken(group: Group, now: Any) -> Any:
        if group.pk == first.pk:
            raise Conflict(code="order_changed")
        return real(group, now)

    monkeypatch.setattr(groups, "_settle_expired", broken)
    later = max(first.expires_at, second.expires_at) + timedelta(seconds=1)
    result = groups.expire_groups(now=later)

    assert result["failed"] == 1
    assert Group.objects.get(pk=second.pk).status == GroupStatus.FAILED
    assert Group.objects.get(pk=first.pk).status == GroupStatus.OPEN  # retried next run
    monkeypatch.setattr(groups, "_settle_expired", real)
    assert groups.expire_groups(now=later)["failed"] == 1


def test_the_leader_bonus_is_taken_back_when_the_leaders_order_is_refunded(group_campaign: Any, settings: Any) -> None:
    settings.JISHI_MARKETING = {"GROUP_LEADER_BONUS": 300}
    campaign = group_campaign(size=2)
    leader = shopper(wallet=10_000)
    group = open_paid(campaign, leader)
    join_paid(group, shopper(wallet=10_000))
    leader_order = Order.objects.get(pk=GroupMember.objects.get(group=group, is_leader=True).order_id)
    assert ledger.balance_of(leader.user.pk, AccountKind.COMMISSION_FROZEN) == 300

    orders.approve_after_sale(None, refund_case(leader_order).pk)
    deliver()

    bonus = Commission.objects.get(source=CommissionSource.GROUP_LEADER)
    assert (bonus.status, bonus.reversed_amount) == (CommissionStatus.REVERSED, 300)
    assert ledger.balance_of(leader.user.pk, AccountKind.COMMISSION_FROZEN) == 0
    assert commission.unfreeze_due(now=timezone.now() + timedelta(days=30)) == 0
    assert ledger.check_ledger() == []


# --- flash sales and warehouse stock ---------------------------------------------------------


def stock_of(item: FlashItem) -> StockItem:
    return StockItem.objects.get(sku_id=item.sku_id)


def test_a_flash_quota_is_set_aside_from_warehouse_stock(flash_item: Any) -> None:
    """Defect 7: 5 flash units plus 5 regular units shipped from on_hand = 5."""
    item = flash_item(stock=5)
    StockItem.objects.filter(sku_id=item.sku_id).update(on_hand=5)  # only 5 on the shelf, all set aside
    regular = shopper(wallet=100_000)

    with pytest.raises(OutOfStock):
        orders.place_order(regular.user, [(item.sku_id, 1)], regular.address.pk)
    assert (stock_of(item).on_hand, stock_of(item).reserved) == (5, 5)


def test_flash_quota_cannot_be_set_aside_beyond_the_shelf(flash_item: Any) -> None:
    with pytest.raises(Exception) as refused:
        flash_item(stock=51)  # the fixture's SKU has 50 on hand
    assert getattr(refused.value, "code", "") == "insufficient_stock"
    assert FlashItem.objects.count() == 0


def shipped_flash_order(item: FlashItem) -> tuple[Shopper, Order]:
    buyer = shopper(wallet=100_000)
    order = flash.buy(buyer.user, item.pk, 1, now=timezone.now())
    pay_with_wallet(buyer.user, order.pk)
    deliver()
    orders.ship_order(OperatorFactory(), order.pk, "SF", "SF1")
    return buyer, Order.objects.get(pk=order.pk)


def test_a_shipped_flash_unit_leaves_the_shelf(flash_item: Any) -> None:
    item = flash_item(stock=5)
    shipped_flash_order(item)
    assert (stock_of(item).on_hand, stock_of(item).reserved) == (49, 4)
    assert FlashItem.objects.get(pk=item.pk).stock_left == 4


def test_a_refund_only_after_shipping_does_not_refill_the_flash_quota(flash_item: Any) -> None:
    item = flash_item(stock=5)
    _buyer, order = shipped_flash_order(item)

    orders.approve_after_sale(None, refund_case(order).pk)  # the buyer keeps the goods
    deliver()

    assert FlashItem.objects.get(pk=item.pk).stock_left == 4
    assert (stock_of(item).on_hand, stock_of(item).reserved) == (49, 4)


def test_goods_returned_after_shipping_go_back_to_the_shelf_not_the_quota(flash_item: Any) -> None:
    item = flash_item(stock=5)
    _buyer, order = shipped_flash_order(item)

    orders.approve_after_sale(None, refund_case(order).pk, restock=True)
    deliver()

    assert FlashItem.objects.get(pk=item.pk).stock_left == 4
    assert (stock_of(item).on_hand, stock_of(item).reserved) == (50, 4)


def test_what_a_flash_sale_did_not_sell_goes_back_when_it_ends(flash_item: Any) -> None:
    item = flash_item(stock=5)
    shipped_flash_order(item)

    assert flash.release_ended_items(now=timezone.now() + timedelta(hours=2)) == 1
    assert flash.release_ended_items(now=timezone.now() + timedelta(hours=3)) == 0

    assert (stock_of(item).on_hand, stock_of(item).reserved) == (49, 0)
    assert FlashItem.objects.get(pk=item.pk).released_at is not None
