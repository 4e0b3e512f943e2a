"""Segments in SQL and campaigns: lifecycle, once per member, opt-outs, A/B, gifts, pause and cancel."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from jishi.accounts.models import User
from jishi.core import ledger
from jishi.core.errors import Conflict, InvalidInput
from jishi.core.models import AccountKind
from jishi.distribution.models import Promoter
from jishi.loyalty.models import Member, MemberLevel
from jishi.marketing.models import Coupon
from jishi.notify import campaigns, segments
from jishi.notify.models import Campaign, Delivery, MemberChannels, MemberTag, Message
from jishi.orders import services as orders
from jishi.payments.services import pay_with_wallet
from jishi.testing.factories import OperatorFactory, UserFactory
from jishi.testing.shop import shopper, skus

pytestmark = pytest.mark.django_db


def ids(rules: Any) -> set[int]:
    return set(segments.audience(rules).values_list("pk", flat=True))


def buy(s: Any, price: int = 5000) -> Any:
    sku = skus(price, stock=10)[0]
    order = orders.place_order(s.user, [(sku.pk, 1)], s.address.pk, {})
    pay_with_wallet(s.user, order.pk)
    return order, sku


# --- segments ------------------------------------------------------------------------------------


def test_segment_conditions_select_in_sql() -> None:
    gold = MemberLevel.objects.create(name="黄金", threshold=100)
    a, b, c = shopper(wallet=100_000), shopper(wallet=100_000), shopper()
    Member.objects.create(user=a.user, level=gold)
    tag = MemberTag.objects.create(name="宝妈")
    tag.members.add(b.user)
    _order, sku = buy(a, 5000)
    buy(b, 20000)
    Promoter.objects.create(user=c.user, code="P1", status="active")
    OperatorFactory()  # staff are never members of a segment

    assert ids({"conditions": [{"field": "level", "in": [gold.pk]}]}) == {a.user.pk}
    assert ids({"conditions": [{"field": "tags", "any": [tag.pk]}]}) == {b.user.pk}
    assert ids({"conditions": [{"field": "lifetime_spend", "min": 10_000}]}) == {b.user.pk}
    assert ids({"conditions": [{"field": "last_purchase_days", "within": 1}]}) == {a.user.pk, b.user.pk}
    assert ids({"conditions": [{"field": "last_purchase_days", "not_within": 1}]}) == {c.user.pk}
    assert ids({"conditions": [{"field": "bought_product", "any": [sku.product_id]}]}) == {a.user.pk}
    assert ids({"conditions": [{"field": "bought_category", "any": [sku.product.category_id]}]}) == {a.user.pk}
    assert ids({"conditions": [{"field": "promoter", "is": True}]}) == {c.user.pk}
    assert ids({"conditions": [{"field": "points", "max": 0}]}) == {a.user.pk, b.user.pk, c.user.pk}
    today = timezone.localdate().isoformat()
    assert ids({"conditions": [{"field": "registered", "after": today}]}) == {a.user.pk, b.user.pk, c.user.pk}


def test_segment_and_or_nesting() -> None:
    a, b, c = shopper(wallet=100_000), shopper(wallet=100_000), shopper()
    tag = MemberTag.objects.create(name="老客")
    tag.members.add(a.user, c.user)
    buy(a)
    buy(b)
    bought = {"field": "last_purchase_days", "within": 30}
    tagged = {"field": "tags", "any": [tag.pk]}

    assert ids({"op": "and", "conditions": [bought, tagged]}) == {a.user.pk}
    assert ids({"op": "or", "conditions": [bought, tagged]}) == {a.user.pk, b.user.pk, c.user.pk}
    nested = {
        "op": "and",
        "conditions": [tagged, {"op": "or", "conditions": [bought, {"field": "promoter", "is": True}]}],
    }
    assert ids(nested) == {a.user.pk}
    assert segments.count({}) == 3


def test_segment_by_group_membership_counts_active_members_only() -> None:
    from jishi.community import groups

    owner, a, b, c = OperatorFactory(), shopper(), shopper(), shopper()
    tea = groups.create_group(owner, {"name": "茶友会", "theme": "喝茶", "rules": "友善", "join_mode": "open"})
    moms = groups.create_group(owner, {"name": "宝妈团", "theme": "育儿", "rules": "友善", "join_mode": "open"})
    groups.join(a.user, tea.pk)
    groups.join(b.user, tea.pk)
    groups.join(c.user, moms.pk)
    groups.leave(b.user, tea.pk)  # left: no longer in the segment

    assert ids({"conditions": [{"field": "group", "any": [tea.pk]}]}) == {a.user.pk}
    assert ids({"conditions": [{"field": "group", "any": [tea.pk, moms.pk]}]}) == {a.user.pk, c.user.pk}


def test_segment_by_distance_to_a_store_is_great_circle_in_sql(django_assert_num_queries: Any) -> None:
    from jishi.retail.testing import make_store, point_from

    store = make_store(radius_m=3000)
    near, edge, far, nowhere = shopper(), shopper(), shopper(), shopper()
    for s, metres in ((near, 1200), (edge, 3000), (far, 3400)):
        lat, lng = point_from(store, metres, bearing=60)
        type(s.address).objects.filter(pk=s.address.pk).update(latitude=lat, longitude=lng)
    # a second address near the store counts too; one without coordinates never does
    lat, lng = point_from(store, 500, bearing=200)
    far.user.addresses.create(
        contact="x",
        phone="13800000000",
        province="浙江",
        city="杭州",
        district="西湖",
        detail="二号",
        latitude=lat,
        longitude=lng,
    )

    rules = {"conditions": [{"field": "store_distance", "store": store.pk}]}
    assert ids(rules) == {near.user.pk, edge.user.pk, far.user.pk}  # exactly at the radius is inside
    assert ids({"conditions": [{"field": "store_distance", "store": store.pk, "within_m": 2000}]}) == {
        near.user.pk,
        far.user.pk,
    }
    assert nowhere.user.pk not in ids(rules)
    with django_assert_num_queries(2):  # the store's point, then the count
        segments.count(rules)


@pytest.mark.parametrize(
    "rules",
    [
        {"conditions": [{"field": "group", "any": []}]},
        {"conditions": [{"field": "store_distance"}]},
        {"conditions": [{"field": "store_distance", "store": 999_999}]},
        {"conditions": [{"field": "store_distance", "store": 1, "within_m": 0}]},
        {"conditions": [{"field": "colour"}]},
        {"conditions": [{"field": "level", "in": []}]},
        {"conditions": [{"field": "level", "in": ["x"]}]},
        {"conditions": [{"field": "points"}]},
        {"conditions": [{"field": "points", "min": -1}]},
        {"conditions": [{"field": "promoter", "is": "yes"}]},
        {"conditions": [{"field": "registered", "after": "yesterday"}]},
        {"op": "xor", "conditions": []},
        {"conditions": "all"},
        [],
    ],
)
def test_bad_segment_rules_are_refused(rules: Any) -> None:
    with pytest.raises(InvalidInput) as caught:
        campaigns.save_segment(None, "坏规则", rules)
    assert caught.value.code == "invalid"
    assert caught.value.fields


def test_segment_count_is_one_query(django_assert_num_queries: Any) -> None:
    shopper()
    rules = {"op": "or", "conditions": [{"field": "lifetime_spend", "min": 1}, {"field": "points", "min": 1}]}
    with django_assert_num_queries(1):
        segments.count(rules)


# --- campaigns --------------------------------------------------------------------------------------


def make_campaign(rules: Any = None, **kw: Any) -> Campaign:
    segment = campaigns.save_segment(None, "全部会员", rules or {})
    data = {
        "name": "双十二",
        "segment_id": segment.pk,
        "title": "{name}，双十二来啦",
        "body": "送你 {coupon}",
        "link": "/p/1/",
        "channel_content": {"sms": {"body": "【集市】{name}，双十二全场满减"}},
        **kw,
    }
    return campaigns.create_campaign(OperatorFactory(), data)


def started(campaign: Campaign) -> Campaign:
    campaigns.schedule(None, campaign.pk, timezone.now() - timedelta(seconds=1))
    assert campaigns.start_due() == 1
    campaign.refresh_from_db()
    return campaign


def test_a_campaign_reaches_every_member_once_in_batches() -> None:
    users = [UserFactory(nickname=f"会员{n}") for n in range(7)]
    campaign = started(make_campaign())

    assert campaigns.write_all(campaign.pk, size=3) == 7
    assert campaigns.write_all(campaign.pk, size=3) == 0

    messages = Message.objects.filter(campaign=campaign)
    assert messages.count() == 7
    first = messages.get(user=users[0])
    assert (first.title, first.body, first.category, first.link) == (
        "会员0，双十二来啦",
        "送你 ",
        "promotion",
        f"/notify/c/{campaign.pk}/",
    )
    assert Delivery.objects.filter(campaign=campaign, channel="inbox", status="delivered").count() == 7
    assert Delivery.objects.filter(campaign=campaign, channel="sms", status="queued", marketing=True).count() == 7
    campaign.refresh_from_db()
    assert (campaign.targeted, campaign.cursor) == (7, users[-1].pk)


def test_replaying_a_batch_writes_nothing_twice() -> None:
    UserFactory.create_batch(4)
    campaign = started(make_campaign())
    campaigns.write_all(campaign.pk, size=2)
    Campaign.objects.filter(pk=campaign.pk).update(cursor=0)  # a worker that lost its progress

    campaigns.write_all(campaign.pk, size=2)

    assert Message.objects.filter(campaign=campaign).count() == 4
    assert Delivery.objects.filter(campaign=campaign).count() == 8


def test_marketing_opt_out_keeps_the_inbox_but_skips_the_channel() -> None:
    stays, leaves = UserFactory(), UserFactory()
    MemberChannels.objects.create(user=leaves, sms_marketing=False)
    campaign = started(make_campaign())

    campaigns.write_all(campaign.pk)

    assert set(Delivery.objects.filter(campaign=campaign, channel="sms").values_list("user_id", flat=True)) == {
        stays.pk
    }
    assert Message.objects.filter(campaign=campaign, user=leaves).count() == 1


def test_a_run_sends_the_channel_and_finishes() -> None:
    UserFactory.create_batch(3)
    campaign = started(make_campaign())

    campaigns.run(campaign.pk)

    campaign.refresh_from_db()
    assert campaign.status == "finished"
    assert campaign.finished_at is not None
    assert set(Delivery.objects.filter(campaign=campaign, channel="sms").values_list("status", flat=True)) == {
        "delivered"
    }


def test_channel_content_is_rendered_per_member(caplog: Any) -> None:
    UserFactory(nickname="小王")
    campaign = started(make_campaign())
    with caplog.at_level("INFO", logger="jishi.notify.console"):
        campaigns.run(campaign.pk)
    assert "【集市】小王，双十二全场满减" in caplog.text


def test_ab_split_is_stable_and_uses_variant_b() -> None:
    UserFactory.create_batch(40)
    campaign = started(make_campaign(b_percent=50, b_title="B：{name} 专享", b_body="B 正文"))

    campaigns.write_all(campaign.pk)

    variants = list(Message.objects.filter(campaign=campaign).values_list("variant", "title"))
    b = [title for v, title in variants if v == "B"]
    a = [title for v, title in variants if v == "A"]
    assert len(a) + len(b) == 40
    assert 0 < len(b) < 40
    assert all(t.startswith("B：") for t in b) and all(t.endswith("双十二来啦") for t in a)


def test_gifts_are_granted_once_on_delivery(make_template: Any) -> None:
    template = make_template(name="满100减10", total_quantity=100)
    users = UserFactory.create_batch(3)
    campaign = started(make_campaign(coupon_template_id=template.pk, gift_points=50))

    campaigns.write_all(campaign.pk, size=2)
    Campaign.objects.filter(pk=campaign.pk).update(cursor=0)
    campaigns.write_all(campaign.pk, size=2)

    assert Coupon.objects.filter(template=template).count() == 3
    assert [ledger.balance_of(u.pk, AccountKind.POINTS) for u in users] == [50, 50, 50]
    assert Message.objects.filter(campaign=campaign).first().body == "送你 满100减10"  # type: ignore[union-attr]
    assert ledger.check_ledger() == []


def test_pause_stops_between_batches_and_resume_continues() -> None:
    UserFactory.create_batch(5)
    campaign = started(make_campaign())
    campaigns.write_batch(campaign.pk, size=2)

    campaigns.pause(None, campaign.pk)
    assert campaigns.write_batch(campaign.pk, size=2) == 0
    campaigns.resume(None, campaign.pk)
    campaigns.write_all(campaign.pk, size=2)

    assert Message.objects.filter(campaign=campaign).count() == 5


def test_cancel_fails_what_was_queued() -> None:
    UserFactory.create_batch(2)
    campaign = started(make_campaign())
    campaigns.write_all(campaign.pk)

    campaigns.cancel(None, campaign.pk)

    assert set(Delivery.objects.filter(campaign=campaign, channel="sms").values_list("status", "reason")) == {
        ("failed", "cancelled")
    }
    with pytest.raises(Conflict):
        campaigns.resume(None, campaign.pk)


@pytest.mark.parametrize(
    ("moves", "code"),
    [
        (["pause"], "invalid_transition"),
        (["schedule", "schedule"], "invalid_transition"),
        (["cancel", "schedule"], "invalid_transition"),
    ],
)
def test_invalid_transitions_are_refused(moves: list[str], code: str) -> None:
    campaign = make_campaign()
    with pytest.raises(Conflict) as caught:
        for move in moves:
            getattr(campaigns, move)(None, campaign.pk)
    assert caught.value.code == code


def test_a_started_campaign_cannot_be_edited() -> None:
    campaign = started(make_campaign())
    with pytest.raises(Conflict) as caught:
        campaigns.update_campaign(None, campaign.pk, {"title": "改"})
    assert caught.value.code == "campaign_not_editable"


@pytest.mark.parametrize(
    "change",
    [
        {"channel_content": {"fax": {"body": "x"}}},
        {"channel_content": {"sms": {"body": ""}}},
        {"throttle": {"sms": 0}},
        {"link": "https://evil.example/"},
        {"b_percent": 30},
        {"colour": "red"},
    ],
)
def test_bad_campaign_input_is_refused(change: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        make_campaign(**change)
    assert Campaign.objects.count() == 0


def test_members_added_to_the_segment_later_are_reached_on_the_next_run() -> None:
    UserFactory()
    campaign = started(make_campaign())
    campaigns.write_all(campaign.pk)
    late = UserFactory()

    campaigns.write_all(campaign.pk)

    assert Message.objects.filter(campaign=campaign, user=late).count() == 1
    assert User.objects.count() == Message.objects.filter(campaign=campaign).count() + 1  # the operator
