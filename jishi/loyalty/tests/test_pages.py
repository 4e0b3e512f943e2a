"""Storefront loyalty pages and the ops console pages, through Django's test client."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from jishi.core.models import AuditLog
from jishi.loyalty import points, red_packets
from jishi.loyalty.conf import loyalty_settings
from jishi.loyalty.models import MallItem, PointsAdjustment, RedPacketStatus
from jishi.orders.models import Order
from jishi.testing.factories import AdminFactory
from jishi.testing.shop import shopper, skus

from .conftest import make_level, points_of, set_rules, wallet_of

pytestmark = [pytest.mark.django_db, pytest.mark.urls("jishi.loyalty.tests.urls")]


@pytest.fixture
def member():
    s = shopper()
    return s


@pytest.fixture
def browser(member) -> Client:
    client = Client()
    client.force_login(member.user)
    return client


def text(response) -> str:
    return response.content.decode()


@pytest.mark.parametrize(
    "url", ["/loyalty/", "/loyalty/level/", "/loyalty/sign-in/", "/loyalty/mall/", "/loyalty/red-packets/"]
)
def test_pages_need_login(client: Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_sign_in_page_signs_in_and_shows_the_streak(browser: Client, member) -> None:
    page = browser.get("/loyalty/sign-in/")
    assert "签到 +5" in text(page)

    done = browser.post("/loyalty/sign-in/")
    assert done.status_code == 302
    page = text(browser.get("/loyalty/sign-in/"))
    assert "今日已签到" in page
    assert "已连续签到 1 天" in page
    assert re.search(r'id="points-balance">5<', page)
    assert points_of(member.user) == 5
    assert browser.post("/loyalty/sign-in/").status_code == 302  # a second time: a message, no points
    assert points_of(member.user) == 5


def test_points_page_lists_history_and_expiring(browser: Client, member) -> None:
    set_rules(expiry_mode="year_end_next", expiry_notice_days=800)
    points.credit(member.user.pk, 120, kind="points_sign_in", key="a", memo="连续签到第 1 天")
    page = text(browser.get("/loyalty/"))
    assert "每日签到" in page and "+120" in page
    assert "即将过期" in page


def test_level_page_shows_progress(browser: Client, member) -> None:
    make_level("普通会员", 0)
    make_level("金卡", 1000, discount_bp=500, free_shipping=True, points_multiplier_bp=15000)
    page = text(browser.get("/loyalty/level/"))
    assert "再获得 1000 成长值升级为金卡" in page
    assert "购物立减 5%" in page and "1.5 倍积分" in page and "包邮" in page


def test_mall_redeem_from_the_page(browser: Client, member) -> None:
    (sku,) = skus(3000, stock=10)
    item = MallItem.objects.create(name="定制马克杯", sku=sku, points=300, stock=3)
    points.credit(member.user.pk, 500, kind="points_adjust", key="gift")
    assert "定制马克杯" in text(browser.get("/loyalty/mall/"))

    response = browser.post(f"/loyalty/mall/{item.pk}/", {"quantity": 1, "address_id": member.address.pk})

    order = Order.objects.get(user=member.user)
    assert response.status_code == 302
    assert response["Location"] == f"/loyalty/mall/redeemed/{order.pk}/"
    assert "已兑换「定制马克杯」" in text(browser.get(response["Location"]))
    assert points_of(member.user) == 200


def test_mall_refusal_is_shown_on_the_page(browser: Client, member) -> None:
    (sku,) = skus(3000, stock=10)
    item = MallItem.objects.create(name="定制马克杯", sku=sku, points=300, stock=3)
    response = browser.post(f"/loyalty/mall/{item.pk}/", {"quantity": 1})
    assert response.status_code == 409
    assert "积分不足" in text(response)


def test_claim_red_packet_from_the_page_and_others_are_404(browser: Client, member, operator) -> None:
    budget = red_packets.create_budget(operator, "b", "b")
    red_packets.fund_budget(operator, budget, 1000, key="f")
    mine = red_packets.grant_red_packet(member.user, 300, "b", "好评返现", key="m")
    theirs = red_packets.grant_red_packet(shopper().user, 300, "b", "x", key="t")
    assert "好评返现" in text(browser.get("/loyalty/red-packets/"))

    assert browser.post(f"/loyalty/red-packets/{theirs.pk}/claim/").status_code == 404
    assert browser.post(f"/loyalty/red-packets/{mine.pk}/claim/").status_code == 302
    mine.refresh_from_db()
    assert mine.status == RedPacketStatus.CLAIMED
    assert wallet_of(member.user) == 300


# --- ops console -------------------------------------------------------------------------


@pytest.fixture
def console() -> Client:
    client = Client()
    client.force_login(AdminFactory())
    return client


def test_console_pages_render(console: Client) -> None:
    for url in [
        "/console/loyalty/memberlevel/",
        "/console/loyalty/memberlevel/add/",
        "/console/loyalty/member/",
        "/console/loyalty/pointsadjustment/add/",
        "/console/loyalty/mallitem/add/",
        "/console/loyalty/redpacketbudget/add/",
        "/console/loyalty/redpacket/",
    ]:
        assert console.get(url).status_code == 200, url
    settings_page = console.get("/console/loyalty/loyaltysettings/", follow=True)
    assert settings_page.status_code == 200
    assert "积分负债报表" in text(settings_page)


def _settings_form(console: Client) -> tuple[str, dict[str, Any]]:
    page = console.get("/console/loyalty/loyaltysettings/", follow=True)
    form = page.context["adminform"].form
    data = {}
    for name in form.fields:
        if name == "sign_in_tiers":
            continue
        value = form[name].value()
        if value is not None and value is not False:
            data[name] = "on" if value is True else value
    return page.wsgi_request.path, data


def test_sign_in_tiers_are_a_table_in_the_console(console: Client) -> None:
    url, data = _settings_form(console)
    page = text(console.get(url))
    assert 'name="sign_in_tiers_0_day"' in page and 'name="sign_in_tiers_0_points"' in page
    assert "连续签到第几天" in page

    rows = {
        "sign_in_tiers_0_day": "1",
        "sign_in_tiers_0_points": "5",
        "sign_in_tiers_1_day": "7",
        "sign_in_tiers_1_points": "30",
        "sign_in_tiers_2_day": "",
        "sign_in_tiers_2_points": "",
    }
    saved = console.post(url, {**data, **rows})
    assert saved.status_code == 302, saved.content.decode()[:2000]
    assert loyalty_settings().sign_in_tiers == [{"day": 1, "points": 5}, {"day": 7, "points": 30}]

    refused = console.post(
        url,
        {
            **data,
            "sign_in_tiers_0_day": "3",
            "sign_in_tiers_0_points": "5",
            "sign_in_tiers_1_day": "3",
            "sign_in_tiers_1_points": "9",
        },
    )
    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors == {"sign_in_tiers": ["天数不能重复"]}
    assert "天数不能重复" in text(refused)
    assert loyalty_settings().sign_in_tiers == [{"day": 1, "points": 5}, {"day": 7, "points": 30}]


def test_points_adjustment_form_posts_to_the_ledger_and_audits(console: Client) -> None:
    s = shopper()
    response = console.post(
        "/console/loyalty/pointsadjustment/add/", {"phone": s.user.phone, "amount": 250, "reason": "客诉补偿"}
    )
    assert response.status_code == 302
    assert points_of(s.user) == 250
    adjustment = PointsAdjustment.objects.get()
    assert adjustment.transaction_id is not None
    assert AuditLog.objects.filter(action="loyalty.points.adjust", target=f"user:{s.user.pk}").count() == 1


def test_liability_report_counts_points_and_their_value(console: Client) -> None:
    set_rules(expiry_mode="year_end_next")
    for i in range(3):
        points.credit(shopper().user.pk, 1250, kind="points_adjust", key=f"l{i}")
    page = text(console.get("/console/loyalty/loyaltysettings/liability/"))
    assert re.search(r'id="outstanding">3750<', page)
    assert re.search(r'id="value">¥37.50<', page)
    assert "<svg" in page and "http" not in page.split("<svg", 1)[1].split("</svg>")[0].replace(
        "http://www.w3.org/2000/svg", ""
    )


def test_fund_budget_form(console: Client, operator) -> None:
    budget = red_packets.create_budget(operator, "fest", "节日红包")
    form = console.get(f"/console/loyalty/redpacketbudget/{budget.pk}/fund/")
    key = re.search(r'name="key" value="([0-9a-f]+)"', text(form)).group(1)
    console.post(f"/console/loyalty/redpacketbudget/{budget.pk}/fund/", {"amount": "88.00", "key": key})
    console.post(f"/console/loyalty/redpacketbudget/{budget.pk}/fund/", {"amount": "88.00", "key": key})  # resubmitted
    budget.refresh_from_db()
    assert (budget.funded, budget.remaining) == (8800, 8800)
