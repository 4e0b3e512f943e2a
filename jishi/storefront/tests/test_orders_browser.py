# ruff: noqa: F811  (the browser fixtures are shared with test_browser)
"""Order cards and detail in headless Chromium: 去支付 with a countdown, 取消, 提醒发货, 查看物流,
确认收货, 再来一单, and 评价 with stars, words and a photo, shown on the product page once approved."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import Page, expect

from jishi.accounts.models import User
from jishi.content import services as content
from jishi.content.models import PostStatus, ProductReview
from jishi.engagement.models import ShipmentReminder
from jishi.orders import services as orders
from jishi.orders.models import CartLine, Order, OrderStatus
from jishi.payments.services import pay_with_wallet
from jishi.testing.factories import DEFAULT_PASSWORD, OperatorFactory
from jishi.testing.shop import shopper

from .test_browser import browser, page, screenshot, tea_shop  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True)]


def login(page: Page, live_server: Any, user: User, next_url: str) -> None:
    page.goto(f"{live_server.url}/login/?next={next_url}")
    page.fill("input[name=phone]", user.phone or "")
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("button[value=login]")
    page.wait_for_url(f"**{next_url}")


def place(user: User, sku_id: int, *, pay: bool = True) -> Order:
    order = orders.place_order(user, [(sku_id, 1)], user.addresses.get().pk)
    if pay:
        pay_with_wallet(user, order.pk)
    return Order.objects.get(pk=order.pk)


@pytest.fixture
def buyer(db: Any) -> User:
    s = shopper(wallet=100_000, phone="13912345678", username="13912345678")
    return s.user


def test_pending_order_card_counts_down_and_cancels(
    live_server: Any, page: Page, tea_shop: dict[str, Any], buyer: User
) -> None:
    order = place(buyer, tea_shop["longjing"].skus.get().pk, pay=False)
    login(page, live_server, buyer, "/orders/")

    card = page.locator(f"[data-order='{order.pk}']")
    expect(card.locator("[data-action=pay]")).to_have_text("去支付")
    # 30 minutes to pay: the countdown reads 29:5x and ticks.
    expect(card.locator(".countdown b")).to_have_text(re.compile(r"^(29|30):\d\d$"))
    screenshot(page, "sf_orders_pending.png")

    page.once("dialog", lambda d: d.accept())
    card.locator("[data-action=cancel]").click()
    page.wait_for_url("**/orders/")
    expect(page.locator(f"[data-order='{order.pk}'] .status")).to_have_text("已关闭")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CLOSED


def test_paid_order_reminds_once_then_ships_confirms_and_buys_again(
    live_server: Any, page: Page, tea_shop: dict[str, Any], buyer: User
) -> None:
    sku = tea_shop["longjing"].skus.get()
    order = place(buyer, sku.pk)
    login(page, live_server, buyer, f"/orders/{order.pk}/")

    page.click(".actionbar [data-action=remind]")
    expect(page.locator(".toasts")).to_contain_text("已提醒商家尽快发货")
    page.click(".actionbar [data-action=remind]")
    expect(page.locator(".toasts")).to_contain_text("已经提醒过了")
    assert ShipmentReminder.objects.filter(order=order).count() == 1

    orders.ship_order(OperatorFactory(), order.pk, "顺丰速运", "SF1234567890")
    page.goto(f"{live_server.url}/orders/")
    card = page.locator(f"[data-order='{order.pk}']")
    expect(card.locator("[data-action=track]")).to_be_visible()
    card.locator("[data-action=track]").click()
    expect(page.locator("#tracking")).to_contain_text("SF1234567890")
    screenshot(page, "sf_order_shipped.png")

    page.once("dialog", lambda d: d.accept())
    page.click(".actionbar [data-action=confirm]")
    expect(page.locator(".order-status")).to_have_text("已完成")
    expect(page.locator(".actionbar [data-action=review]")).to_be_visible()

    page.click(".actionbar [data-action=rebuy]")
    page.wait_for_url("**/cart/")
    assert list(CartLine.objects.filter(user=buyer).values_list("sku_id", "quantity")) == [(sku.pk, 1)]


def photo_file(tmp_path: Path) -> Path:
    path = tmp_path / "photo.jpg"
    Image.new("RGB", (640, 480), (200, 120, 60)).save(path, format="JPEG")
    return path


def test_review_with_a_photo_shows_on_the_product_page_once_approved(
    live_server: Any, page: Page, tea_shop: dict[str, Any], buyer: User, tmp_path: Path
) -> None:
    product = tea_shop["longjing"]
    order = place(buyer, product.skus.get().pk)
    orders.ship_order(OperatorFactory(), order.pk, "顺丰速运", "SF1")
    orders.confirm_receipt(buyer, order.pk)
    login(page, live_server, buyer, "/orders/?status=completed")

    page.locator(f"[data-order='{order.pk}'] [data-action=review]").click()
    page.wait_for_url(f"**/orders/{order.pk}/review/")
    form = page.locator(".review-form")
    form.locator("label[for$='-4']").click()
    form.locator("textarea[name=text]").fill("茶香清幽，回甘明显，包装也很用心。")
    form.locator("input[name=photos]").set_input_files(str(photo_file(tmp_path)))
    screenshot(page, "sf_order_review.png")
    form.locator("button[type=submit]").click()
    expect(page.locator(".review-line .tag.done")).to_have_text("已评价")

    review = ProductReview.objects.get(user=buyer)
    assert (review.stars, review.product_id, review.post.status) == (4, product.pk, PostStatus.PENDING)
    assert review.post.images.count() == 1

    # Pending: not on the product page yet. Approved: rating, count and the photo show.
    page.goto(f"{live_server.url}/p/{product.pk}/")
    expect(page.locator("#reviews-title")).to_have_text("商品评价（0）")
    content.approve_post(OperatorFactory(), review.post.pk)
    page.reload()
    expect(page.locator("#rating")).to_contain_text("4.0 分 · 1 条评价")
    item = page.locator(f"[data-review='{review.pk}']")
    expect(item).to_contain_text("茶香清幽")
    page.wait_for_function(
        f"() => document.querySelector(\"[data-review='{review.pk}'] .review-photos img\").naturalWidth > 0"
    )
    page.locator("#reviews").scroll_into_view_if_needed()
    screenshot(page, "sf_product_reviews.png")


def test_favourite_history_and_share_sheet(live_server: Any, page: Page, tea_shop: dict[str, Any], buyer: User) -> None:
    product = tea_shop["longjing"]
    login(page, live_server, buyer, "/me/")
    page.goto(f"{live_server.url}/p/{product.pk}/")
    page.click("#favourite")
    expect(page.locator("#favourite")).to_have_attribute("aria-pressed", "true")

    page.click("#share-open")
    expect(page.locator("#share-sheet")).to_be_visible()
    page.click("[data-share-copy]")
    expect(page.locator("[data-share-status]")).to_contain_text(f"/p/{product.pk}/")
    screenshot(page, "sf_product_share.png")

    page.goto(f"{live_server.url}/me/favourites/")
    expect(page.locator("a.card")).to_have_count(1)
    expect(page.locator("a.card")).to_contain_text("西湖龙井茶")
    screenshot(page, "sf_favourites.png")
    page.goto(f"{live_server.url}/me/history/")
    expect(page.locator("a.card", has_text="西湖龙井茶")).to_have_count(1)
