"""Creator flow in headless Chromium: a buyer writes a review with an image and a linked product; once
ten other buyers like it the creator sees the red packet, claims it and the wallet shows ¥5.00."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from django.test import override_settings
from playwright.sync_api import Browser, Page, expect, sync_playwright

from jishi.content import services
from jishi.content.models import Post, PostStatus, RewardRule
from jishi.content.tests.conftest import old_user
from jishi.core.events import deliver_pending
from jishi.core.ledger import balance_of
from jishi.core.models import AccountKind
from jishi.loyalty.red_packets import create_budget, fund_budget
from jishi.testing.factories import DEFAULT_PASSWORD, OperatorFactory, ProductFactory, SkuFactory

from .test_browser import CHROMIUM, product_photo

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
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@override_settings(ROOT_URLCONF="jishi.content.tests.urls")
def test_review_earns_a_red_packet_after_ten_likes(live_server: Any, page: Page, tmp_path: Path) -> None:
    operator = OperatorFactory()
    create_budget(operator, "content", "内容奖励")
    fund_budget(operator, "content", 10_000, key="browser-content-budget")
    RewardRule.objects.create(
        name="10 赞", threshold=10, red_packet=500, points=20, daily_budget=5_000, daily_points_budget=1_000
    )
    tea = ProductFactory(name="西湖龙井茶", price=12800)
    SkuFactory(product=tea, price=12800, stock=5)
    creator = old_user()
    photo = tmp_path / "tea.png"
    photo.write_bytes(product_photo((120, 170, 90)))

    page.goto(f"{live_server.url}/login/?next=/content/write/")
    page.fill("input[name=phone]", creator.phone)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("button[value=login]")
    page.wait_for_url("**/content/write/")
    page.select_option("select[name=form]", "review")
    page.fill("input[name=title]", "明前龙井测评")
    page.fill("textarea[name=body]", "香气清高，回甘明显。")
    page.locator("input[name=aspect]").first.fill("香气")
    page.set_input_files("input[name=images]", str(photo))
    page.check(f"input[name=product_ids][value='{tea.pk}']")
    page.click("button[name=submit]")
    page.wait_for_url("**/content/mine/")
    expect(page.locator(".cnt-mine")).to_contain_text("待审核")

    post = Post.objects.get(title="明前龙井测评")
    assert post.images.count() == 1
    services.approve_post(operator, post.pk)
    for _ in range(10):
        services.like(old_user(), post.pk)
    deliver_pending()
    assert Post.objects.get(pk=post.pk).status == PostStatus.APPROVED

    page.goto(f"{live_server.url}/content/p/{post.pk}/")
    expect(page.locator(".cnt-like-count")).to_have_text("10")
    expect(page.locator(".cnt-product")).to_contain_text("西湖龙井茶")
    page.goto(f"{live_server.url}/content/mine/")
    expect(page.locator(".cnt-reward")).to_have_text("¥5.00")
    page.goto(f"{live_server.url}/loyalty/red-packets/")
    page.get_by_role("button", name="领取").click()
    page.wait_for_load_state()
    assert balance_of(creator.pk, AccountKind.WALLET) == 500
    assert balance_of(creator.pk, AccountKind.POINTS) >= 20
