"""Transactional notices: each event of the owning apps puts one message in the right inbox, once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from jishi.commission import services as commission
from jishi.content import services as content
from jishi.core.events import deliver_event, deliver_pending, publish
from jishi.core.models import HandlerRun, OutboxEvent
from jishi.loyalty.models import PointsLot
from jishi.loyalty.red_packets import create_budget, fund_budget, grant_red_packet
from jishi.marketing import bargains, groups
from jishi.marketing.models import Group
from jishi.notify import reminders
from jishi.notify.models import Message
from jishi.orders import services as orders
from jishi.payments.services import pay_with_wallet
from jishi.testing.factories import OperatorFactory
from jishi.testing.shop import Shopper, shopper, skus

from .conftest import inbox

pytestmark = pytest.mark.django_db


def paid_order(s: Shopper, price: int = 5000) -> Any:
    sku = skus(price, stock=20)[0]
    order = orders.place_order(s.user, [(sku.pk, 1)], s.address.pk, {})
    pay_with_wallet(s.user, order.pk)
    return order


def test_a_paid_order_puts_one_order_message_in_the_inbox_through_the_worker(
    django_capture_on_commit_callbacks: Any,
) -> None:
    buyer = shopper(wallet=100_000)
    sku = skus(5000, stock=20)[0]
    order = orders.place_order(buyer.user, [(sku.pk, 1)], buyer.address.pk, {})
    deliver_pending()

    # The payment commits; its commit kicks the worker's delivery task (Huey runs it at once here).
    with django_capture_on_commit_callbacks(execute=True):
        pay_with_wallet(buyer.user, order.pk)

    messages = list(Message.objects.filter(user=buyer.user))
    assert [(m.category, m.title, m.link) for m in messages] == [("order", "订单已支付", f"/orders/{order.pk}/")]
    assert messages[0].body == f"订单 {order.number} 已支付 ¥60.00，我们会尽快为你发货。"
    event = OutboxEvent.objects.get(name="order.paid")
    assert event.dispatched_at is not None


def test_redelivering_the_paid_event_sends_nothing_twice() -> None:
    buyer = shopper(wallet=100_000)
    paid_order(buyer)
    deliver_pending()
    event = OutboxEvent.objects.get(name="order.paid")

    # A consumer that died after applying but before marking the event dispatched delivers it again…
    OutboxEvent.objects.filter(pk=event.pk).update(dispatched_at=None)
    deliver_pending()
    # …and even with the handler's once-record gone (a second event for the same payment).
    HandlerRun.objects.filter(event=event).delete()
    deliver_event(OutboxEvent.objects.get(pk=event.pk))
    publish("order.paid", event.payload)
    deliver_pending()

    assert inbox(buyer.user.pk) == [("order", "订单已支付")]


def test_shipping_tells_the_carrier_and_tracking_number() -> None:
    buyer = shopper(wallet=100_000)
    order = paid_order(buyer)

    orders.ship_order(OperatorFactory(), order.pk, "顺丰", "SF1234567")
    deliver_pending()

    message = Message.objects.get(user=buyer.user, category="order", title="订单已发货")
    assert message.body == "你的订单已由 顺丰 发出，运单号 SF1234567。"


def _case(order: Any) -> Any:
    lines = [(line.pk, line.quantity) for line in order.lines.all()]
    order.refresh_from_db()
    return orders.request_after_sale(order.user, order.pk, lines, order.paid_amount, "不想要了")


def test_an_approved_after_sale_tells_the_refund_arrived() -> None:
    buyer = shopper(wallet=100_000)
    order = paid_order(buyer)
    case = _case(order)

    orders.approve_after_sale(OperatorFactory(), case.pk)
    deliver_pending()

    message = Message.objects.get(user=buyer.user, category="after_sale")
    assert (message.title, message.body) == ("退款已到账", f"订单 {order.number} 的退款 ¥60.00 已原路退回。")


def test_an_approved_provider_refund_tells_approval_then_arrival(alipay: Any) -> None:
    from jishi.payments.tests.test_refund_intent import paid_with_alipay

    buyer = shopper()
    order = paid_with_alipay(buyer, alipay)
    case = _case(order)

    orders.approve_after_sale(OperatorFactory(), case.pk)
    deliver_pending()
    deliver_pending()  # redelivery writes nothing twice

    assert [m.title for m in Message.objects.filter(user=buyer.user, category="after_sale").order_by("id")] == [
        "售后申请已同意",
        "退款已到账",
    ]


def test_a_rejected_after_sale_tells_the_reason() -> None:
    buyer = shopper(wallet=100_000)
    order = paid_order(buyer)
    case = _case(order)

    orders.reject_after_sale(OperatorFactory(), case.pk, "商品已使用")
    deliver_pending()
    deliver_pending()

    assert [(m.title, m.body) for m in Message.objects.filter(user=buyer.user, category="after_sale")] == [
        ("售后申请未通过", "原因：商品已使用")
    ]


def _commission(user_id: int, order_id: int = 1, amount: int = 1234) -> None:
    commission.grant(
        "distribution",
        order_id=order_id,
        order_number=f"N{order_id}",
        buyer_id=user_id,
        shares=[commission.Share(user_id, 1, None, None, 10_000, amount)],
        freeze_days=7,
    )


def test_commission_frozen_then_available() -> None:
    promoter = shopper()
    _commission(promoter.user.pk)
    _commission(promoter.user.pk)  # a replay of the same grant
    commission.schedule_unfreeze(1, timezone.now() - timedelta(days=8))
    commission.unfreeze_due()
    deliver_pending()

    assert inbox(promoter.user.pk) == [("system", "你有一笔新佣金"), ("system", "佣金已可提现")]
    assert Message.objects.filter(title="佣金已可提现").get().body == "订单 N1 的佣金 ¥12.34 已解冻，可以提现了。"


@pytest.mark.parametrize(("decide", "title"), [("approve", "提现已到账"), ("reject", "提现申请未通过")])
def test_a_withdrawal_decision_is_told(decide: str, title: str) -> None:
    promoter = shopper()
    _commission(promoter.user.pk, amount=5000)
    commission.schedule_unfreeze(1, timezone.now() - timedelta(days=8))
    commission.unfreeze_due()
    w = commission.request_withdrawal(promoter.user, 5000, "wallet", minimum=100, fee_bp=0)
    if decide == "approve":
        commission.approve_withdrawal(OperatorFactory(), w.pk)
    else:
        commission.reject_withdrawal(OperatorFactory(), w.pk, "信息不符")
    deliver_pending()

    assert inbox(promoter.user.pk)[-1] == ("system", title)


def test_a_red_packet_is_told_once() -> None:
    op = OperatorFactory()
    create_budget(op, "notify-test", "测试")
    fund_budget(op, "notify-test", 10_000, key="notify-test-fund")
    member = shopper()

    grant_red_packet(member.user, 888, "notify-test", "签到奖励", key="rp-1")
    grant_red_packet(member.user, 888, "notify-test", "签到奖励", key="rp-1")  # replay
    deliver_pending()

    message = Message.objects.get(user=member.user)
    assert (message.title, message.body, message.link) == ("你收到一个 ¥8.88 红包", "签到奖励", "/loyalty/red-packets/")


def test_a_formed_group_tells_every_paid_member(group_campaign: Any) -> None:
    campaign = group_campaign(size=2)
    leader, joiner = shopper(wallet=100_000), shopper(wallet=100_000)
    group, order = groups.open_group(leader.user, campaign.pk)
    pay_with_wallet(leader.user, order.pk)
    deliver_pending()
    _g, order2 = groups.join_group(joiner.user, group.pk)
    pay_with_wallet(joiner.user, order2.pk)
    deliver_pending()

    for s in (leader, joiner):
        assert ("promotion", "拼团成功") in inbox(s.user.pk)


def test_a_failed_group_tells_its_members(group_campaign: Any) -> None:
    campaign = group_campaign(size=3)
    leader = shopper(wallet=100_000)
    group, order = groups.open_group(leader.user, campaign.pk)
    pay_with_wallet(leader.user, order.pk)
    deliver_pending()
    expires = Group.objects.get(pk=group.pk).expires_at

    groups.expire_groups(now=expires + timedelta(seconds=1))
    deliver_pending()

    assert inbox(leader.user.pk, "promotion") == [("promotion", "拼团未成功")]


def test_a_bargain_at_its_floor_is_told(bargain_campaign: Any) -> None:
    campaign = bargain_campaign(price=10000, floor=990, helpers=2)
    starter = shopper()
    bargain = bargains.start(starter.user, campaign.pk)
    for _ in range(2):
        bargains.help_cut(shopper().user, bargain.pk)
    deliver_pending()

    message = Message.objects.get(user=starter.user)
    assert (message.title, message.body, message.link) == (
        "砍价成功",
        "已砍到底价 ¥9.90，快去下单吧。",
        f"/bargains/{bargain.pk}/",
    )


def test_moderation_tells_the_author() -> None:
    author, moderator = shopper(), OperatorFactory()
    data = {"form": "kol", "title": "好物分享", "body": "推荐", "product_ids": []}
    rejected = content.create_post(author.user, content.PostInput(**data))
    approved = content.create_post(author.user, content.PostInput(**data))

    content.reject_post(moderator, rejected.pk, "图片模糊")
    content.approve_post(moderator, approved.pk)
    deliver_pending()

    assert inbox(author.user.pk) == [("community", "笔记未通过审核"), ("community", "笔记已发布")]
    assert Message.objects.get(title="笔记未通过审核").body == "原因：图片模糊"


def test_a_rewarded_post_is_told() -> None:
    author = shopper()
    publish(
        "post.rewarded", {"grant_id": 7, "post_id": 3, "author_id": author.user.pk, "red_packet": 500, "points": 20}
    )
    deliver_pending()

    message = Message.objects.get(user=author.user)
    assert (message.title, message.body) == ("笔记获得奖励", "你的笔记互动达标，获得 红包 ¥5.00、20 积分。")


def test_expiring_points_are_told_once_per_expiry_day() -> None:
    member, other = shopper(), shopper()
    now = timezone.now()
    PointsLot.objects.create(
        user=member.user, amount=300, remaining=300, kind="t", earned_at=now, expires_at=now + timedelta(days=3)
    )
    PointsLot.objects.create(
        user=member.user, amount=200, remaining=200, kind="t", earned_at=now, expires_at=now + timedelta(days=5)
    )
    PointsLot.objects.create(
        user=other.user, amount=100, remaining=100, kind="t", earned_at=now, expires_at=now + timedelta(days=300)
    )

    assert reminders.remind_expiring_points(now) == 1
    reminders.remind_expiring_points(now)

    message = Message.objects.get(user=member.user)
    assert message.title == "积分即将过期"
    assert message.body.startswith("你有 500 积分将在 ")
    assert not Message.objects.filter(user=other.user).exists()
