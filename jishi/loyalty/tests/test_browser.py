"""Loyalty pages in headless Chromium against a live server: log in, sign in, redeem in the points mall."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import Browser, Page, expect, sync_playwright

from jishi.loyalty import points
from jishi.loyalty.models import MallItem
from jishi.orders.models import Order, OrderStatus
from jishi.testing.factories import DEFAULT_PASSWORD
from jishi.testing.shop import shopper, skus

CHROMIUM = "/usr/bin/chromium"

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.urls("jishi.loyalty.tests.urls"),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def test_sign_in_then_redeem_a_mall_item(live_server: Any, page: Page) -> None:
    s = shopper()
    points.credit(s.user.pk, 295, kind="points_adjust", key="welcome")
    (sku,) = skus(2900, stock=5)
    item = MallItem.objects.create(name="帆布购物袋", sku=sku, points=300, stock=2)

    page.goto(f"{live_server.url}/login/?next=/loyalty/sign-in/")
    page.fill("input[name=phone] >> nth=0", s.user.phone)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("button[value=login]")
    page.wait_for_url("**/loyalty/sign-in/")
    expect(page.locator("#points-balance")).to_have_text("295")

    page.click("#sign-in-button")
    expect(page.locator("#points-balance")).to_have_text("300")
    expect(page.locator("#sign-in-button")).to_have_text("今日已签到")
    expect(page.locator(".loy-calendar td.signed")).to_have_count(1)

    page.goto(f"{live_server.url}/loyalty/mall/")
    page.locator("a.loy-mall-card", has_text="帆布购物袋").click()
    page.wait_for_url(f"**/loyalty/mall/{item.pk}/")
    page.click("#redeem-button")
    page.wait_for_url("**/loyalty/mall/redeemed/*/")
    expect(page.locator("#redeemed-title")).to_have_text("已兑换「帆布购物袋」")
    expect(page.locator("#points-balance")).to_have_text("0")

    order = Order.objects.get(user=s.user)
    assert order.status == OrderStatus.PAID
    item.refresh_from_db()
    assert item.stock == 1
