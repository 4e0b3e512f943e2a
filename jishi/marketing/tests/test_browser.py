"""Campaign pages in headless Chromium: claim a coupon and check out with it; join a 拼团 from its share link."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client

# Playwright's sync API runs an event loop in this thread; the ORM calls here are deliberate.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import Browser, Page, expect, sync_playwright

from jishi.marketing import groups
from jishi.marketing.models import Coupon, CouponStatus, Group, GroupStatus
from jishi.orders.models import Order, OrderStatus
from jishi.payments.services import pay_with_wallet
from jishi.testing.shop import shopper, skus

CHROMIUM = "/usr/bin/chromium"

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("jishi.marketing.tests.urls")]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        yield browser
        browser.close()


def signed_in_page(browser: Browser, live_server: Any, user: Any) -> Page:
    """A phone-sized page holding the buyer's session (logged in through Django's test client)."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True)
    context.add_cookies(
        [
            {
                "name": django_settings.SESSION_COOKIE_NAME,
                "value": client.cookies[django_settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def test_claim_a_coupon_and_check_out_with_it(live_server: Any, browser: Browser, make_template: Any) -> None:
    template = make_template(name="新春立减", amount=800)
    (sku,) = skus(5000)
    s = shopper(wallet=100_000)
    page = signed_in_page(browser, live_server, s.user)

    page.goto(f"{live_server.url}/coupons/")
    card = page.locator(f"[data-template='{template.pk}']")
    card.get_by_role("button", name="立即领取").click()
    expect(card.get_by_role("button", name="已领取")).to_be_visible()

    # The storefront checkout (a colleague's page) picks the best coupon by itself.
    page.goto(f"{live_server.url}/checkout/?sku={sku.pk}&qty=1")
    expect(page.locator("body")).to_contain_text("优惠券：新春立减")
    page.get_by_role("button", name="提交订单").click()
    page.wait_for_url("**/orders/*/pay/")

    order = Order.objects.get(user=s.user)
    coupon = Coupon.objects.get(user=s.user)
    assert (order.discount_amount, order.meta["coupons"][0]["id"]) == (800, coupon.pk)
    assert (coupon.status, coupon.order_id) == (CouponStatus.USED, order.pk)
    page.goto(f"{live_server.url}/coupons/mine/?status=used")
    expect(page.locator(f"[data-coupon='{coupon.pk}']")).to_contain_text("已使用")
    page.context.close()


def test_join_a_group_from_its_share_link(live_server: Any, browser: Browser, group_campaign: Any) -> None:
    campaign = group_campaign(size=2, group_price=3900)
    leader = shopper(wallet=100_000, nickname="阿强")
    group, order = groups.open_group(leader.user, campaign.pk)
    pay_with_wallet(leader.user, order.pk)
    assert Group.objects.get(pk=group.pk).status == GroupStatus.OPEN
    friend = shopper(wallet=100_000)
    page = signed_in_page(browser, live_server, friend.user)

    page.goto(f"{live_server.url}/group/{group.share_code}/")
    expect(page.locator("[data-group-status]")).to_contain_text("还差 1 人成团")
    page.get_by_role("button", name="参与拼团 ¥39.00").click()
    page.wait_for_url("**/orders/*/pay/")
    page.get_by_role("button", name="确认支付").click()
    page.wait_for_url("**/orders/*/")

    joined = Order.objects.get(user=friend.user)
    assert joined.status == OrderStatus.PAID
    assert Group.objects.get(pk=group.pk).status == GroupStatus.COMPLETE
    page.goto(f"{live_server.url}/group/{group.share_code}/")
    expect(page.locator("[data-group-status]")).to_contain_text("拼团成功")
    page.context.close()


def test_the_console_lists_banners_with_their_previews(live_server: Any, browser: Browser) -> None:
    from pathlib import Path

    from jishi.demo.images import banner_image
    from jishi.marketing import banners
    from jishi.testing.factories import OperatorFactory

    for sort, (title, link) in enumerate([("限时秒杀 每两小时一场", "/flash/"), ("邻里拼团 越拼越省", "/groups/")]):
        banners.create_banner(
            {"title": title, "link": link, "sort": sort}, banner_image(sort + 1, title, "满99减10", "活动")
        )
    page = signed_in_page(browser, live_server, OperatorFactory(is_staff=True, is_superuser=True))
    page.set_viewport_size({"width": 1440, "height": 900})

    page.goto(f"{live_server.url}/console/marketing/banner/")
    expect(page.locator("#result_list tbody tr")).to_have_count(2)
    expect(page.locator("#result_list")).to_contain_text("展示中")
    page.wait_for_function("() => [...document.querySelectorAll('#result_list img')].every(i => i.complete)")
    widths = page.eval_on_selector_all("#result_list img.jishi-thumb", "imgs => imgs.map(i => i.naturalWidth)")
    assert len(widths) == 2 and all(w > 0 for w in widths)
    folder = os.environ.get("JISHI_SCREENSHOT_DIR")
    if folder:
        page.screenshot(path=str(Path(folder) / "console_banners.png"))
