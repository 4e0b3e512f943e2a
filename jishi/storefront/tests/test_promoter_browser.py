"""The promoter centre in headless Chromium: sign in, see the team and the money, download a share poster."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone
from PIL import Image

# Playwright's sync API runs an event loop in this thread; Django refuses ORM calls from a
# thread with a running loop unless told this is deliberate.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import Browser, Page, expect, sync_playwright

from jishi.catalog import services as catalog
from jishi.commission import services as commission
from jishi.core import ledger
from jishi.core.events import deliver_pending
from jishi.distribution import services
from jishi.distribution.models import Promoter
from jishi.distribution.tests.helpers import buy, chain, configure
from jishi.orders import services as orders
from jishi.testing.factories import DEFAULT_PASSWORD, OperatorFactory
from jishi.testing.shop import shopper, skus

CHROMIUM = "/usr/bin/chromium"

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _promoter_urls() -> Iterator[None]:
    with override_settings(ROOT_URLCONF="jishi.storefront.tests.promoter_test_urls"):
        yield


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
        locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, accept_downloads=True
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def screenshot(page: Page, name: str) -> None:
    """Save a full-page screenshot when JISHI_SCREENSHOT_DIR is set (for eyeballing the pages)."""
    folder = os.environ.get("JISHI_SCREENSHOT_DIR")
    if folder:
        page.screenshot(path=str(Path(folder) / name), full_page=True)


def photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (600, 600), (120, 170, 90)).save(out, format="PNG")
    return out.getvalue()


def test_promoter_sees_team_and_money_and_downloads_a_poster(live_server: Any, page: Page, tmp_path: Path) -> None:
    # Given a promoter with two direct members and one below them, and ¥100.00 available from a completed order.
    configure(levels=2)
    me, member, grandchild = chain(3, wallet=1_000_000)
    services.bind(shopper().user, Promoter.objects.get(user=me.user).code)
    order = buy(member, 100_000)
    orders.ship_order(OperatorFactory(), order.pk, "SF", "1")
    orders.confirm_receipt(member.user, order.pk)
    deliver_pending()
    commission.unfreeze_due(timezone.now() + timedelta(days=8))
    (sku,) = skus(8_800)
    catalog.add_image(sku.product_id, photo())
    assert grandchild.user.binding.promoter_id == member.user.pk

    # When they sign in with phone + password and open the promoter centre.
    page.goto(f"{live_server.url}/login/?next=/promoter/")
    page.fill("input[name=phone]", me.user.phone)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("button[value=login]")
    page.wait_for_url("**/promoter/")

    # Then the team counts by level and the available commission show.
    expect(page.locator("#team-level-1")).to_have_text("2")
    expect(page.locator("#team-level-2")).to_have_text("1")
    expect(page.locator("#commission-available")).to_have_text("¥100.00")
    code = Promoter.objects.get(user=me.user).code
    expect(page.locator("#share-link")).to_have_value(f"{live_server.url}/?ref={code}")
    screenshot(page, "promoter_centre.png")

    # And the poster page shows a product's poster, which downloads as a 750×1180 PNG.
    page.click("#poster-link")
    page.wait_for_url("**/promoter/poster/")
    page.click(f"#poster-picks a[data-product='{sku.product_id}']")
    page.wait_for_url(f"**/promoter/poster/?product_id={sku.product_id}")
    poster = page.locator("#poster-image")
    expect(poster).to_be_visible()
    page.wait_for_function("() => document.querySelector('#poster-image').naturalWidth > 0")
    assert poster.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [750, 1180]
    screenshot(page, "promoter_poster.png")
    with page.expect_download() as info:
        page.click("#poster-download")
    download = info.value
    assert download.suggested_filename == f"jishi-poster-{code}-{sku.product_id}.png"
    saved = tmp_path / "poster.png"
    download.save_as(saved)
    with Image.open(saved) as image:
        assert (image.format, image.size) == ("PNG", (750, 1180))
    assert ledger.check_ledger() == []
