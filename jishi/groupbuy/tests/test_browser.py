"""Community group-buy pages in headless Chromium: a buyer chooses the nearest leader and orders
from today's batch; the leader verifies the buyer's code in the leader app. Screenshots of every
page go to /tmp/shots-groupbuy/."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client

# Playwright's sync API runs an event loop in this thread; the ORM calls here are deliberate.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import Browser, Page, expect, sync_playwright

from jishi.core.events import deliver_pending
from jishi.groupbuy import pickup
from jishi.groupbuy.models import PickupOrder, PickupStatus
from jishi.orders.models import Order, OrderStatus
from jishi.testing.factories import AdminFactory
from jishi.testing.shop import shopper

from .conftest import HOME, make_batch, make_leader, offset, to_points

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path("/tmp/shots-groupbuy")

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        yield browser
        browser.close()


def signed_in_page(browser: Browser, live_server: Any, user: Any, phone: bool = True) -> Page:
    client = Client()
    client.force_login(user)
    viewport = {"width": 390, "height": 844} if phone else {"width": 1440, "height": 900}
    context = browser.new_context(locale="zh-CN", viewport=viewport, is_mobile=phone)  # type: ignore[arg-type]
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


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_buyer_chooses_a_leader_orders_and_the_leader_verifies(live_server: Any, browser: Browser) -> None:
    near = make_leader("王姐", offset(north_m=600))
    make_leader("李哥", offset(east_m=1800))
    batch, (eggs, milk) = make_batch(prices=(1590, 2990), group_prices=(990, 2490))
    s = shopper(wallet=100_000)
    page = signed_in_page(browser, live_server, s.user)

    page.goto(f"{live_server.url}/groupbuy/leaders/?lat={HOME[0]}&lng={HOME[1]}")
    rows = page.locator("#leader-list li")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("王姐的自提点")
    expect(rows.first).to_contain_text("600 m")
    shot(page, "leaders")
    rows.first.get_by_role("button", name="选他").click()
    page.wait_for_url("**/groupbuy/")
    expect(page.locator("#my-leader")).to_contain_text("王姐的自提点")

    page.fill(f"#qty-{eggs.sku_id}", "2")
    page.fill(f"#qty-{milk.sku_id}", "1")
    shot(page, "batch")
    page.get_by_role("button", name="提交订单").click()
    page.wait_for_url("**/orders/*/pay/")
    page.get_by_role("button", name="确认支付").click()
    page.wait_for_url("**/orders/*/")
    order = Order.objects.get(user=s.user)
    assert (order.status, order.paid_amount) == (OrderStatus.PAID, 2 * 990 + 2490)
    assert order.meta["groupbuy"]["leader_id"] == near.pk
    deliver_pending()

    to_points(batch)
    pickup.receive_delivery(None, batch.pk, near.pk)
    code = PickupOrder.objects.get(order=order).code
    page.goto(f"{live_server.url}/groupbuy/pickups/")
    expect(page.locator(".gb-code")).to_have_text(code)
    expect(page.locator(".gb-qr svg")).to_be_visible()
    shot(page, "pickups")

    leader_page = signed_in_page(browser, live_server, near.user)
    leader_page.goto(f"{live_server.url}/groupbuy/leader/")
    expect(leader_page.locator("#ready-list")).to_contain_text(code)
    shot(leader_page, "leader")
    leader_page.fill("#verify-code", code)
    leader_page.get_by_role("button", name="核销", exact=True).click()
    expect(leader_page.locator("body")).to_contain_text(f"核销成功：{code}")
    expect(leader_page.locator("#earn-frozen")).to_have_text("¥4.47")
    shot(leader_page, "leader-verified")

    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert PickupOrder.objects.get(order=order).status == PickupStatus.COLLECTED

    for path, name in (("pick-list/", "pick-list"), ("members/", "members"), ("poster/", "poster")):
        leader_page.goto(f"{live_server.url}/groupbuy/leader/{path}")
        shot(leader_page, name)
    expect(leader_page.locator("#poster")).to_contain_text("王姐的自提点")

    console = signed_in_page(browser, live_server, AdminFactory(), phone=False)
    for url, name in (
        (f"/console/groupbuy/batch/{batch.pk}/pick-lists/", "console-pick-lists"),
        (f"/console/groupbuy/batch/{batch.pk}/supply/", "console-supply"),
        (f"/console/groupbuy/batch/{batch.pk}/sales/", "console-sales"),
        (f"/console/groupbuy/pickuppoint/?lat={HOME[0]}&lng={HOME[1]}", "console-points"),
        ("/console/groupbuy/leader/", "console-leaders"),
        ("/console/groupbuy/batch/", "console-batches"),
    ):
        console.goto(f"{live_server.url}{url}")
        shot(console, name)
    expect(console.locator("body")).to_contain_text("今日团")


def test_a_leader_cannot_verify_another_points_code_on_the_page(live_server: Any, browser: Browser) -> None:
    mine, theirs = make_leader("A"), make_leader("B")
    batch, (item,) = make_batch()
    from .conftest import buy_paid

    order = buy_paid(shopper(), batch, theirs, [(item, 1)])
    to_points(batch)
    pickup.receive_delivery(None, batch.pk, theirs.pk)
    page = signed_in_page(browser, live_server, mine.user)

    page.goto(f"{live_server.url}/groupbuy/leader/")
    page.fill("#verify-code", order.gb_pickup.code)
    page.get_by_role("button", name="核销", exact=True).click()

    expect(page.locator("body")).to_contain_text("这不是你的自提点的提货码")
    assert PickupOrder.objects.get(order=order).status == PickupStatus.READY
