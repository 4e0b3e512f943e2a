"""The storefront in headless Chromium against a live server: search, products, PWA files, and a
whole purchase (cart → checkout → sandbox cashier → paid order)."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from PIL import Image

# Playwright's sync API runs an event loop in this thread; Django refuses ORM calls from a
# thread with a running loop unless told this is deliberate.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import Browser, Page, Request, expect, sync_playwright

from jishi.catalog import search
from jishi.catalog import services as catalog
from jishi.core import ledger
from jishi.orders.models import Order, OrderStatus
from jishi.payments.models import Payment, PaymentStatus
from jishi.testing.factories import (
    DEFAULT_PASSWORD,
    AddressFactory,
    CategoryFactory,
    ProductFactory,
    SkuFactory,
    UserFactory,
)

CHROMIUM = "/usr/bin/chromium"
LOCAL_HOSTS = {"localhost", "127.0.0.1"}

pytestmark = [
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(
        locale="zh-CN",
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def product_photo(colour: tuple[int, int, int]) -> bytes:
    image = Image.new("RGB", (600, 600), colour)
    for y in range(0, 600, 4):
        shade = tuple(max(0, c - y // 12) for c in colour)
        image.paste(shade, (0, y, 600, y + 4))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def tea_shop(db: Any) -> dict[str, Any]:
    tea = CategoryFactory(name="茶叶", icon="🍵")
    fruit = CategoryFactory(name="水果", icon="🍎")
    longjing = ProductFactory(
        category=tea,
        name="西湖龙井茶",
        subtitle="明前特级 250g",
        price=12800,
        original_price=15800,
        sales=86,
        description="产自杭州西湖。",
    )
    SkuFactory(product=longjing, price=12800, specs={"规格": "250g"}, stock=12)
    catalog.add_image(longjing.pk, product_photo((120, 170, 90)))
    others = [
        ProductFactory(category=tea, name="云南普洱茶饼", price=6650),
        ProductFactory(category=fruit, name="烟台红富士苹果 5斤装", price=3990, sales=1200),
        ProductFactory(category=fruit, name="赣南脐橙", price=4590),
    ]
    for product, colour in zip(others, [(140, 90, 60), (220, 60, 60), (250, 160, 40)], strict=True):
        SkuFactory(product=product, price=product.price, stock=20)
        catalog.add_image(product.pk, product_photo(colour))
    for product in [longjing, *others]:
        search.reindex(product)
    return {"longjing": longjing, "apple": others[1]}


def screenshot(page: Page, name: str) -> None:
    """Save a screenshot when JISHI_SCREENSHOT_DIR is set (for eyeballing the pages)."""
    folder = os.environ.get("JISHI_SCREENSHOT_DIR")
    if folder:
        page.screenshot(path=str(Path(folder) / name), full_page=False)


def test_search_and_open_product(live_server: Any, page: Page, tea_shop: dict[str, Any]) -> None:
    requested: list[str] = []

    def record(request: Request) -> None:
        requested.append(request.url)

    page.context.on("request", record)

    page.goto(f"{live_server.url}/")
    expect(page.locator(".tabbar")).to_contain_text("首页")
    screenshot(page, "sf_home.png")
    page.fill("input[name=q]", "茶")
    page.click(".search button[type=submit]")
    page.wait_for_url("**/search/?q=*")
    card = page.locator("a.card", has_text="西湖龙井茶")
    expect(card).to_be_visible()
    card.click()

    page.wait_for_url(f"**/p/{tea_shop['longjing'].pk}/")
    expect(page.locator("h1.product-name")).to_have_text("西湖龙井茶")
    expect(page.locator(".price.big")).to_have_text("¥128.00")
    expect(page.locator(".sku")).to_contain_text("库存 12")
    expect(page.locator(".gallery img").first).to_be_visible()
    screenshot(page, "sf_product.png")

    # The service worker registers at the root scope and precaches the shell.
    script_url = page.evaluate("async () => (await navigator.serviceWorker.ready).active.scriptURL")
    assert script_url == f"{live_server.url}/sw.js"
    cached = page.evaluate(
        "async () => { const keys = await caches.keys();"
        " const shell = await caches.open(keys.find(k => k.startsWith('jishi-shell-')));"
        " return (await shell.keys()).map(r => new URL(r.url).pathname); }"
    )
    assert "/static/storefront/vendor/htmx.min.js" in cached

    hosts = {urlsplit(url).hostname for url in requested if url.startswith(("http:", "https:"))}
    assert hosts <= LOCAL_HOSTS, hosts
    assert not [url for url in requested if not url.startswith(("http:", "https:", "data:"))]


def test_manifest_and_service_worker_are_served(live_server: Any, page: Page) -> None:
    manifest = page.request.get(f"{live_server.url}/manifest.webmanifest")
    worker = page.request.get(f"{live_server.url}/sw.js")

    assert manifest.status == 200
    assert manifest.json()["name"] == "集市"
    for icon in manifest.json()["icons"]:
        assert page.request.get(f"{live_server.url}{icon['src']}").status == 200
    assert worker.status == 200
    assert worker.headers["service-worker-allowed"] == "/"
    assert worker.headers["content-type"].startswith("application/javascript")


def test_load_more_appends_cards_with_htmx(
    live_server: Any, page: Page, tea_shop: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from jishi.storefront import queries

    monkeypatch.setattr(queries, "PAGE_SIZE", 2)

    page.goto(f"{live_server.url}/")
    expect(page.locator("a.card")).to_have_count(2)
    page.click("#more a.more-btn")

    expect(page.locator("a.card")).to_have_count(4)
    expect(page.locator("#more")).to_contain_text("没有更多了")
    assert page.url == f"{live_server.url}/"


def test_buy_two_products_and_pay_in_the_sandbox(live_server: Any, page: Page, tea_shop: dict[str, Any]) -> None:
    buyer = UserFactory(phone="13912340000", username="13912340000")
    AddressFactory(user=buyer)
    longjing, apple = tea_shop["longjing"], tea_shop["apple"]

    # Log in with phone + password.
    page.goto(f"{live_server.url}/login/?next=/me/")
    page.fill("input[name=phone]", buyer.phone)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("button[value=login]")
    page.wait_for_url("**/me/")

    # Two different products into the cart from their pages.
    for product in (longjing, apple):
        page.goto(f"{live_server.url}/p/{product.pk}/")
        page.click("button.btn.cart")
        page.wait_for_url(f"**/p/{product.pk}/")
        expect(page.locator(".toast")).to_have_text("已加入购物车")

    page.click(".actionbar a.mini[href='/cart/']")
    page.wait_for_url("**/cart/")
    expect(page.locator(".cart-line")).to_have_count(2)
    expect(page.locator("[data-total]")).to_have_text("¥167.90")  # 128.00 + 39.90
    # The stepper changes the quantity in place (htmx), and the total follows.
    page.locator(".cart-line", has_text="苹果").locator("button[name=set]", has_text="+").click()
    expect(page.locator(".cart-line", has_text="苹果").locator("input[name=quantity]")).to_have_value("2")
    expect(page.locator("[data-total]")).to_have_text("¥207.80")
    screenshot(page, "sf2_cart.png")

    page.click(".summarybar a.btn")
    page.wait_for_url("**/checkout/")
    expect(page.locator("input[name=address_id]")).to_be_checked()
    expect(page.locator("[data-amount=payable]")).to_have_text("¥217.80")  # + ¥10.00 shipping
    screenshot(page, "sf2_checkout.png")
    page.click("button[form=checkout-form]")
    page.wait_for_url("**/orders/*/pay/")

    page.check("input[name=method][value=sandbox]")
    page.click("button[form=pay-form]")
    page.wait_for_url("**/pay/sandbox/*/")
    expect(page.locator("[data-amount]")).to_have_text("¥217.80")
    screenshot(page, "sf2_cashier.png")
    page.click("button.cashier-pay")

    page.wait_for_url("**/orders/*/")
    expect(page.locator(".order-status")).to_have_text("待发货")
    expect(page.locator("[data-method]")).to_have_text("沙箱支付")
    screenshot(page, "sf2_order.png")

    order = Order.objects.get(user=buyer)
    assert (order.status, order.paid_amount, order.payment_method) == (OrderStatus.PAID, 21780, "sandbox")
    assert sorted(line.quantity for line in order.lines.all()) == [1, 2]
    assert Payment.objects.get(order=order).status == PaymentStatus.PAID
    assert page.url == f"{live_server.url}/orders/{order.pk}/"
    assert ledger.check_ledger() == []
