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
    page.evaluate("window.scrollTo(0, 0)")  # the sticky top bar stays on top of a full-page shot
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

    for path, name in (
        ("pick-list/", "pick-list"),
        ("members/", "members"),
        ("withdraw/", "withdraw"),
        ("deliveries/", "deliveries-done"),
        ("poster/", "poster"),
    ):
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


def test_buyer_applies_on_the_form_and_follows_the_review(live_server: Any, browser: Browser, tmp_path: Path) -> None:
    from PIL import Image

    from jishi.accounts.models import Address
    from jishi.groupbuy import leaders
    from jishi.groupbuy.models import Leader, LeaderStatus
    from jishi.testing.factories import UserFactory

    user = UserFactory()
    Address.objects.create(
        user=user,
        contact="陈静",
        phone="13900001111",
        province="浙江省",
        city="杭州市",
        district="西湖区",
        detail="文三路 90 号东部软件园 1 幢",
        latitude=HOME[0],
        longitude=HOME[1],
        is_default=True,
    )
    photo = tmp_path / "door.png"
    Image.new("RGB", (640, 480), (250, 180, 60)).save(photo)
    page = signed_in_page(browser, live_server, user)

    page.goto(f"{live_server.url}/groupbuy/")
    page.locator("#apply-link").click()
    page.wait_for_url("**/groupbuy/apply/")
    page.fill("[name=name]", "陈静")
    page.fill("[name=phone]", "13900001111")
    page.fill("[name=id_number]", "33010619900101123x")
    page.fill("[name=point_name]", "文三路便利店")
    page.locator(".gb-type", has_text="便利店").click()
    page.select_option("#from-address", label="西湖区 文三路 90 号东部软件园 1 幢")
    page.fill("[name=hours]", "07:30-21:30")
    page.fill("[name=daily_capacity]", "150")
    page.set_input_files("#photos", str(photo))
    expect(page.locator("[name=latitude]")).to_have_value(f"{HOME[0]:.6f}")
    shot(page, "apply-form")
    page.locator("#apply-submit").click()

    expect(page.locator("#application-status")).to_contain_text("申请审核中")
    leader = Leader.objects.select_related("point").get(user=user)
    assert (leader.status, leader.id_number, leader.point.type) == (
        LeaderStatus.PENDING,
        "33010619900101123X",
        "convenience",
    )
    assert (leader.point.latitude, leader.point.longitude, leader.point.daily_capacity) == (*HOME, 150)
    assert leader.point.address == "浙江省杭州市西湖区文三路 90 号东部软件园 1 幢"
    assert len(leader.point.photos) == 1
    expect(page.locator(".gb-photos img")).to_have_count(1)
    expect(page.locator(".gb-facts")).to_contain_text("330***********123X")
    shot(page, "apply-pending")

    leaders.review(None, leader.pk, "reject", "门头照片看不清店名")
    page.reload()
    expect(page.locator("#application-status")).to_contain_text("申请未通过")
    expect(page.locator(".gb-reason")).to_contain_text("门头照片看不清店名")
    shot(page, "apply-rejected")


def test_bad_application_shows_the_fields_and_writes_nothing(live_server: Any, browser: Browser) -> None:
    from jishi.groupbuy.models import Leader
    from jishi.testing.factories import UserFactory

    user = UserFactory()
    page = signed_in_page(browser, live_server, user)
    page.goto(f"{live_server.url}/groupbuy/apply/")
    page.fill("[name=name]", "陈静")
    page.fill("[name=phone]", "123")
    page.fill("[name=id_number]", "3301")
    page.fill("[name=latitude]", "95")
    page.locator("#apply-submit").click()

    expect(page.locator(".field-error")).to_contain_text(["请填写 11 位手机号", "请填写 18 位身份证号"])
    expect(page.locator(".field.invalid [name=latitude]")).to_be_visible()
    assert not Leader.objects.filter(user=user).exists()


def test_leader_confirms_delivery_with_a_shortage_refunded(live_server: Any, browser: Browser) -> None:
    from jishi.groupbuy.models import Shortage

    from .conftest import buy_paid

    leader = make_leader("王姐", offset(north_m=600))
    batch, (eggs, milk) = make_batch(prices=(1590, 2990), group_prices=(990, 2490))
    first = buy_paid(shopper(), batch, leader, [(eggs, 2), (milk, 1)])
    last = buy_paid(shopper(), batch, leader, [(eggs, 1)])
    to_points(batch)
    page = signed_in_page(browser, live_server, leader.user)

    page.goto(f"{live_server.url}/groupbuy/leader/")
    page.get_by_role("link", name="到货签收").click()
    expect(page.locator("#coming-list")).to_contain_text("今日团")
    shot(page, "deliveries")
    page.get_by_role("link", name="确认到货").click()
    page.fill(f"#short-{eggs.sku_id}", "1")
    shot(page, "delivery-form")
    page.locator("#receive").click()

    expect(page.locator("body")).to_contain_text("已签收，缺货部分已自动退款")
    expect(page.locator(f"#delivery-record [data-sku='{eggs.sku_id}']")).to_contain_text("缺 1")
    expect(page.locator("#refunded-total")).to_have_text("¥9.90")
    shot(page, "delivery-received")
    first.refresh_from_db()
    last.refresh_from_db()
    assert (first.refunded_amount, last.refunded_amount) == (0, 990)
    assert Shortage.objects.get(sku_id=eggs.sku_id).refunded_amount == 990
    statuses = dict(PickupOrder.objects.filter(batch=batch).values_list("order_id", "status"))
    assert statuses == {first.pk: PickupStatus.READY, last.pk: PickupStatus.REFUNDED}  # nothing left to collect
