"""The console in headless Chromium as an operator: a product with a 2×3 spec matrix and images that the
storefront then shows, shipping an order, approving a refund, and commission rates typed in %."""

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

from playwright.sync_api import Browser, Page, expect, sync_playwright

from jishi.catalog.models import Product, ProductStatus
from jishi.core import ledger
from jishi.core.models import AccountKind, AuditLog
from jishi.distribution import services as distribution
from jishi.inventory.models import StockItem
from jishi.orders import services
from jishi.orders.models import AfterSale, AfterSaleStatus, Order, OrderStatus
from jishi.payments.services import pay_with_wallet
from jishi.testing.factories import DEFAULT_PASSWORD, AdminFactory, CategoryFactory
from jishi.testing.shop import Shopper, shopper, skus

CHROMIUM = "/usr/bin/chromium"

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
def page(browser: Browser, live_server: Any) -> Iterator[Page]:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    operator = AdminFactory()
    page.goto(f"{live_server.url}/console/login/")
    page.fill("input[name=username]", operator.username)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.press("input[name=password]", "Enter")
    page.wait_for_url(f"{live_server.url}/console/")
    yield page
    context.close()


def screenshot(page: Page, name: str) -> None:
    """Save a 1440×900 screenshot when JISHI_SCREENSHOT_DIR is set (for eyeballing the console)."""
    folder = os.environ.get("JISHI_SCREENSHOT_DIR")
    if folder:
        page.screenshot(path=str(Path(folder) / name), full_page=False)


def photo(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (480, 480), colour).save(out, format="PNG")
    return out.getvalue()


def paid_order(s: Shopper, price: int = 9900) -> Order:
    (sku,) = skus(price, stock=10)
    order = services.place_order(s.user, [(sku.pk, 1)], s.address.pk)
    pay_with_wallet(s.user, order.pk)
    order.refresh_from_db()
    return order


def test_create_a_two_by_three_product_with_images_and_see_it_in_the_shop(page: Page, live_server: Any) -> None:
    requested: list[str] = []
    page.context.on("request", lambda request: requested.append(request.url))
    CategoryFactory(name="女装")
    page.goto(f"{live_server.url}/console/catalog/product/add/")
    page.fill("input[name=name]", "亚麻衬衫")
    page.fill("input[name=subtitle]", "透气亚麻 · 夏季新款")
    page.select_option("select[name=category]", label="女装")
    page.select_option("select[name=status]", value=ProductStatus.PUBLISHED)
    for name, values in (("颜色", "红, 蓝"), ("尺码", "S M L")):
        page.click("#add-spec")
        row = page.locator("#spec-list .jishi-spec-row").last
        row.locator(".spec-name").fill(name)
        row.locator(".spec-values").fill(values)
    expect(page.locator("#sku-matrix tbody tr")).to_have_count(6)
    page.fill("#bulk-price", "128")
    page.fill("#bulk-stock", "20")
    page.fill("#bulk-barcode", "6901")
    page.click("#bulk-apply")
    page.locator("#sku-matrix tbody tr").nth(5).locator("input[name=price]").fill("138.50")
    page.set_input_files(
        "#image-input",
        [
            {"name": "front.png", "mimeType": "image/png", "buffer": photo((200, 60, 60))},
            {"name": "back.png", "mimeType": "image/png", "buffer": photo((60, 60, 200))},
        ],
    )
    expect(page.locator("#image-list .jishi-image.is-new")).to_have_count(2)
    page.locator("trix-editor").click()
    page.keyboard.type("100% 亚麻，手感清爽。")
    screenshot(page, "console_product_new.png")
    page.click("#save-product")
    page.wait_for_url("**/console/catalog/product/*/change/")

    product = Product.objects.get(name="亚麻衬衫")
    prices = sorted((sku.specs["颜色"], sku.specs["尺码"], sku.price) for sku in product.skus.all())
    expected = {(c, s): 12800 for c in ("红", "蓝") for s in ("S", "M", "L")} | {("蓝", "L"): 13850}
    assert prices == sorted((c, s, price) for (c, s), price in expected.items())
    assert sorted(product.skus.values_list("barcode", flat=True)) == [f"6901{i:03d}" for i in range(1, 7)]
    assert list(StockItem.objects.filter(sku__product=product).values_list("on_hand", flat=True)) == [20] * 6
    assert product.images.count() == 2 and "亚麻" in product.description
    expect(page.locator("#sku-matrix tbody tr")).to_have_count(6)
    screenshot(page, "console_product_edit.png")
    # The console, its editor and its charts load nothing from outside this server (no CDN).
    hosts = {urlsplit(url).hostname for url in requested if url.startswith(("http:", "https:"))}
    assert hosts <= {"localhost", "127.0.0.1"}, hosts

    page.goto(f"{live_server.url}/p/{product.pk}/")
    expect(page.locator("h1.product-name")).to_have_text("亚麻衬衫")
    expect(page.locator(".price.big")).to_have_text("¥128.00")
    expect(page.locator(".gallery img").first).to_be_visible()


def test_ship_an_order_from_its_page(page: Page, live_server: Any) -> None:
    order = paid_order(shopper(wallet=100_000))
    page.goto(f"{live_server.url}/console/orders/order/")
    expect(page.locator("#result_list")).to_contain_text(order.number)
    screenshot(page, "console_orders.png")
    page.goto(f"{live_server.url}/console/orders/order/{order.pk}/change/")
    page.locator(f'a[href="/console/orders/order/{order.pk}/ship/"]').click()
    page.fill("input[name=carrier]", "顺丰速运")
    page.fill("input[name=tracking_number]", "SF1234567890")
    screenshot(page, "console_ship.png")
    page.get_by_role("button", name="确认发货").click()
    expect(page.locator("body")).to_contain_text(f"订单 {order.number} 已发货")
    order.refresh_from_db()
    assert (order.status, order.carrier, order.tracking_number) == (OrderStatus.SHIPPED, "顺丰速运", "SF1234567890")


def test_approve_a_refund_after_confirming(page: Page, live_server: Any) -> None:
    s = shopper(wallet=100_000)
    order = paid_order(s, 9900)
    line = order.lines.get()
    case = services.request_after_sale(s.user, order.pk, [(line.pk, 1)], 5000, "尺码不合适")
    before = ledger.balance_of(s.user.pk, AccountKind.WALLET)
    dialogs: list[str] = []

    def accept(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    page.goto(f"{live_server.url}/console/orders/aftersale/{case.pk}/review/")
    screenshot(page, "console_refund_review.png")
    page.get_by_role("button", name="同意退款").click()
    expect(page.locator("body")).to_contain_text(f"已同意售后 {case.number}")
    assert dialogs == ["确认同意退款 ¥50.00？款项将原路退回，并记入审计日志。"]
    assert AfterSale.objects.get(pk=case.pk).status == AfterSaleStatus.REFUNDED
    assert ledger.balance_of(s.user.pk, AccountKind.WALLET) == before + 5000
    assert AuditLog.objects.filter(action="after_sale.approve", target=f"after_sale:{case.pk}").count() == 1


def test_change_commission_rates_in_percent(page: Page, live_server: Any) -> None:
    distribution.get_settings(fresh=True)
    page.goto(f"{live_server.url}/console/distribution/distributionsettings/")
    field = page.locator("input[name=rates_bp]")
    expect(field).to_have_value("10, 5, 2")
    field.fill("12, 6.5")
    page.fill("input[name=withdrawal_min]", "20")
    screenshot(page, "console_distribution_settings.png")
    page.locator("button[name=_save]").click()
    expect(page.locator("input[name=rates_bp]")).to_have_value("12, 6.5")
    row = distribution.get_settings(fresh=True)
    assert (row.levels, row.rates_bp[:2], row.withdrawal_min) == (2, [1200, 650], 2000)
