"""Retail pages in headless Chromium: delivery vs pickup at checkout, a POS sale, the store
locator and the member code (screenshots into JISHI_SCREENSHOT_DIR when set)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import Browser, Page, expect, sync_playwright

from jishi.inventory import services as inventory
from jishi.orders.models import Order, OrderStatus
from jishi.retail import stores
from jishi.retail.models import Fulfilment
from jishi.retail.testing import clerk_of, make_store, point_from
from jishi.testing.factories import DEFAULT_PASSWORD, AddressFactory, SkuFactory, UserFactory

CHROMIUM = "/usr/bin/chromium"
pytestmark = [pytest.mark.django_db(transaction=True)]


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
        locale="zh-CN", viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


def shot(page: Page, name: str) -> None:
    folder = os.environ.get("JISHI_SCREENSHOT_DIR")
    if folder:
        page.screenshot(path=str(Path(folder) / name), full_page=True)


def login(page: Page, base: str, phone: str, next_url: str) -> None:
    page.goto(f"{base}/login/?next={next_url}")
    page.fill("input[name=phone]", phone)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("button[value=login]")
    page.wait_for_url(f"**{next_url}")


@pytest.fixture
def shop() -> dict[str, Any]:
    sku = SkuFactory(price=3000, stock=5, product__name="鲜榨橙汁", barcode="6901234567890")
    store = make_store("西湖文三店", stock={sku.pk: 8})
    from datetime import time

    stores.set_hours(store, [(d, time(0), time(23, 59)) for d in range(7)])
    return {"sku": sku, "store": store}


def test_choose_delivery_then_pickup_at_checkout(live_server: Any, page: Page, shop: dict[str, Any]) -> None:
    sku, store = shop["sku"], shop["store"]
    buyer = UserFactory()
    lat, lng = point_from(store, 1500)
    AddressFactory(user=buyer, latitude=lat, longitude=lng)
    login(page, live_server.url, buyer.phone, "/me/")
    page.goto(f"{live_server.url}/checkout/?sku={sku.pk}&qty=2")
    delivery = page.locator(f".fulfil-option[data-mode=delivery][data-store='{store.pk}']")
    expect(delivery).to_contain_text("配送费 ¥5.00")
    delivery.click()
    page.wait_for_url("**mode=delivery**")
    expect(page.locator("[data-step=shipping] dd")).to_have_text("+¥5.00")
    expect(page.locator("[data-amount=payable]")).to_have_text("¥65.00")
    shot(page, "sf_checkout_delivery.png")
    page.locator(f".fulfil-option[data-mode=pickup][data-store='{store.pk}']").click()
    page.wait_for_url("**mode=pickup**")
    expect(page.locator("[data-step=shipping] dd")).to_have_text("免运费")
    shot(page, "sf_checkout_pickup.png")
    page.click(".submitbar button[type=submit]")
    page.wait_for_url("**/pay/**")
    order = Order.objects.get(user=buyer)
    assert (order.location_id, order.shipping_fee, order.payable) == (store.location_id, 0, 6000)
    assert Fulfilment.objects.get(order=order).mode == "pickup"
    assert inventory.sellable([sku.pk])[sku.pk] == 5 + 8 - 2


def test_a_new_address_at_checkout_is_geocoded_and_offered_delivery(
    live_server: Any, page: Page, shop: dict[str, Any], amap: Any
) -> None:
    sku, store = shop["sku"], shop["store"]
    amap.places["浙江省杭州市西湖区文三路88号"] = point_from(store, 2000)
    buyer = UserFactory()
    login(page, live_server.url, buyer.phone, "/me/")
    page.goto(f"{live_server.url}/checkout/?sku={sku.pk}&qty=1")
    form = page.locator("details.add-address form")
    form.locator("input[name=contact]").fill("李四")
    form.locator("input[name=phone]").fill("13800000001")
    form.locator("select[name=province]").select_option("浙江省")
    expect(form.locator("select[name=city] option[value=杭州市]")).to_have_count(1)
    form.locator("select[name=city]").select_option("杭州市")
    expect(form.locator("select[name=district] option[value=西湖区]")).to_have_count(1)
    form.locator("select[name=district]").select_option("西湖区")
    form.locator("input[name=detail]").fill("文三路 88 号")
    form.locator("button[type=submit]").click()
    delivery = page.locator(f".fulfil-option[data-mode=delivery][data-store='{store.pk}']")
    expect(delivery).to_contain_text("2000 米")
    expect(delivery).to_contain_text("配送费 ¥5.00")
    shot(page, "sf_checkout_geocoded_address.png")
    assert [sent["address"] for sent in amap.requests] == ["浙江省杭州市西湖区文三路88号"]


def test_an_address_saved_with_my_location_keeps_that_point(
    live_server: Any, browser: Browser, shop: dict[str, Any], amap: Any
) -> None:
    store = shop["store"]
    here = point_from(store, 700)
    context = browser.new_context(
        locale="zh-CN",
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        geolocation={"latitude": here[0], "longitude": here[1]},
        permissions=["geolocation"],
    )
    page = context.new_page()
    page.set_default_timeout(20_000)
    buyer = UserFactory()
    login(page, live_server.url, buyer.phone, "/addresses/")
    form = page.locator("form:has(input[name=detail])")
    form.locator("input[name=contact]").fill("李四")
    form.locator("input[name=phone]").fill("13800000001")
    form.locator("select[name=province]").select_option("浙江省")
    expect(form.locator("select[name=city] option[value=杭州市]")).to_have_count(1)
    form.locator("select[name=city]").select_option("杭州市")
    expect(form.locator("select[name=district] option[value=西湖区]")).to_have_count(1)
    form.locator("select[name=district]").select_option("西湖区")
    form.locator("input[name=detail]").fill("文三路 90 号")
    form.locator("[data-locate-button]").click()
    expect(form.locator("[data-locate-status]")).to_have_text("已定位，同城配送按此位置计算")
    shot(page, "sf_address_my_location.png")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    from jishi.accounts.models import Address

    saved = Address.objects.get(user=buyer)
    assert (saved.latitude, saved.longitude) == pytest.approx(here, abs=1e-6)
    assert amap.requests == []  # the picked point was kept, nothing geocoded
    context.close()


def test_an_address_that_cannot_be_located_says_so_at_checkout(
    live_server: Any, page: Page, shop: dict[str, Any], amap: Any
) -> None:
    sku = shop["sku"]
    buyer = UserFactory()
    AddressFactory(user=buyer, province="海外", city="新加坡", district="中区", detail="乌节路 1 号")
    login(page, live_server.url, buyer.phone, "/me/")
    page.goto(f"{live_server.url}/checkout/?sku={sku.pk}&qty=1")
    expect(page.locator(".fulfil-note")).to_have_text("无法定位该地址，请核对省市区和详细地址")
    expect(page.locator(".fulfil-option[data-mode=delivery]")).to_have_count(0)
    expect(page.locator(".fulfil-option[data-mode=express]")).to_have_count(1)
    shot(page, "sf_checkout_address_not_located.png")


def test_pos_sale_at_the_counter(live_server: Any, page: Page, shop: dict[str, Any]) -> None:
    sku, store = shop["sku"], shop["store"]
    clerk = clerk_of(store, UserFactory())
    member = UserFactory()
    login(page, live_server.url, clerk.phone, "/me/")
    page.goto(f"{live_server.url}/stores/pos/")
    page.fill("input[name=member_phone]", member.phone)
    page.fill("textarea[name=basket]", f"{sku.barcode} x 3")
    page.select_option("select[name=tender]", "cash")
    shot(page, "sf_pos.png")
    page.click("#pos-form button[type=submit]")
    page.wait_for_url("**/stores/pos/sales/**")
    expect(page.locator("[data-amount=paid]")).to_have_text("¥90.00")
    expect(page.locator("[data-status]")).to_have_text("已完成")
    shot(page, "sf_pos_receipt.png")
    order = Order.objects.get(user=member)
    assert (order.status, order.meta["channel"], order.paid_amount) == (OrderStatus.COMPLETED, "offline", 9000)


def test_store_locator_and_member_code(live_server: Any, page: Page, shop: dict[str, Any]) -> None:
    store = shop["store"]
    make_store("武林店", at=point_from(store, 2000, 90))
    lat, lng = point_from(store, 300, 180)
    page.goto(f"{live_server.url}/stores/?lat={lat}&lng={lng}")
    cards = page.locator(".store-card h2")
    expect(cards).to_have_text(["西湖文三店", "武林店"])
    expect(page.locator(".store-card").first).to_contain_text("300 m")
    shot(page, "sf_stores.png")
    page.locator(".store-card").first.click()
    expect(page.locator(".hours-table")).to_contain_text("00:00–23:59")
    shot(page, "sf_store.png")
    member = UserFactory()
    login(page, live_server.url, member.phone, "/stores/member-code/")
    expect(page.locator("img[data-qr]")).to_be_visible()
    shot(page, "sf_member_code.png")


def test_console_store_pages(live_server: Any, browser: Browser, shop: dict[str, Any]) -> None:
    from jishi.retail import pos
    from jishi.testing.factories import AdminFactory

    store, sku = shop["store"], shop["sku"]
    pos.ring_up(
        clerk_of(store, UserFactory()), store.pk, UserFactory(), [pos.BasketLine(2, sku_id=sku.pk)], tender="cash"
    )
    admin = AdminFactory()
    context = browser.new_context(locale="zh-CN", viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/console/login/?next=/console/retail/store/")
    page.fill("input[name=username]", admin.username)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.press("input[name=password]", "Enter")
    page.wait_for_url("**/console/retail/store/")
    expect(page.locator("#result_list")).to_contain_text("西湖文三店")
    shot(page, "console_stores.png")
    page.goto(f"{live_server.url}/console/retail/store/{store.pk}/change/")
    expect(page.locator("input[name=delivery_radius_m]")).to_have_value("3000")
    shot(page, "console_store.png")
    page.goto(f"{live_server.url}/console/retail/store/sales/")
    expect(page.locator("table.retail-sales")).to_contain_text("¥60.00")
    shot(page, "console_sales.png")
    page.goto(f"{live_server.url}/console/retail/countersale/")
    shot(page, "console_counter_sales.png")
    page.goto(f"{live_server.url}/console/retail/transfer/add/")
    page.select_option("select[name=source]", str(inventory.default_location().pk))
    page.select_option("select[name=target]", str(store.location_id))
    page.fill("textarea[name=lines]", f"{sku.barcode} 3")
    shot(page, "console_transfer_add.png")
    page.click("button.jishi-btn.is-primary")
    page.wait_for_url("**/console/retail/transfer/")
    expect(page.locator("#result_list")).to_contain_text(str(sku.pk))
    shot(page, "console_transfers.png")
    assert inventory.sellable([sku.pk])[sku.pk] == 5 + 8 - 2  # moved, not made
    context.close()
