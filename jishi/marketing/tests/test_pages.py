"""Campaign pages render for guests and buyers, and their buttons do what they say."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from jishi.marketing import bargains, groups
from jishi.marketing.models import Coupon, GroupMember
from jishi.orders.models import Order
from jishi.payments.services import pay_with_wallet
from jishi.testing.shop import shopper

from .conftest import deliver

pytestmark = [pytest.mark.django_db, pytest.mark.urls("jishi.marketing.tests.urls")]


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("url", ["/coupons/", "/flash/", "/groups/", "/bargains/"])
def test_campaign_pages_render_for_guests(url: str) -> None:
    assert Client().get(url).status_code == 200


def test_coupon_centre_claim_button_claims(make_template: Any) -> None:
    template = make_template(name="满减券")
    s = shopper()
    client = signed_in(s.user)

    page = client.get("/coupons/").content.decode()
    response = client.post(f"/coupons/{template.pk}/claim/")

    assert "满减券" in page and "立即领取" in page
    assert response.status_code == 302
    assert Coupon.objects.filter(user=s.user, template=template).count() == 1
    assert "满减券" in client.get("/coupons/mine/").content.decode()


def test_flash_page_shows_the_live_session_with_a_countdown(flash_item: Any, gate_backend: str) -> None:
    item = flash_item(stock=3)

    html = Client().get("/flash/").content.decode()

    assert f'data-flash-item="{item.pk}"' in html
    assert "data-ends=" in html and "¥19.90" in html


def test_flash_buy_button_goes_to_payment(flash_item: Any, gate_backend: str) -> None:
    item = flash_item(stock=3)
    s = shopper()

    response = signed_in(s.user).post(f"/flash/{item.pk}/buy/", {"quantity": "1"})

    order = Order.objects.get(user=s.user)
    assert response["Location"] == f"/orders/{order.pk}/pay/"


def test_share_page_joins_the_group(group_campaign: Any) -> None:
    leader = shopper(wallet=10_000)
    group, order = groups.open_group(leader.user, group_campaign().pk)
    pay_with_wallet(leader.user, order.pk)
    deliver()
    s = shopper()
    client = signed_in(s.user)

    assert "参与拼团" in client.get(f"/group/{group.share_code}/").content.decode()
    response = client.post(f"/group/{group.share_code}/join/")

    member = GroupMember.objects.get(group=group, user=s.user)
    assert response["Location"] == f"/orders/{member.order_id}/pay/"


def test_unknown_share_code_is_a_404() -> None:
    assert Client().get("/group/nope/").status_code == 404


def test_bargain_page_lets_a_friend_help(bargain_campaign: Any) -> None:
    bargain = bargains.start(shopper().user, bargain_campaign().pk)
    friend = signed_in(shopper().user)

    assert "帮 TA 砍一刀" in friend.get(f"/bargains/{bargain.pk}/").content.decode()
    friend.post(f"/bargains/{bargain.pk}/help/")

    assert bargain.helps.count() == 1


def test_new_member_sees_the_gift_in_my_coupons(make_template: Any, now: Any) -> None:
    make_template(name="新人礼包", auto_issue_new_member=True, claimable=False, valid_until=now + timedelta(days=3))

    html = signed_in(shopper().user).get("/coupons/mine/").content.decode()

    assert "新人礼包" in html
