# ruff: noqa: F811  (the browser fixtures are shared with test_browser)
"""Every product card of the demo shop shows its picture: a screenshot test over the home page,
a category page and the points mall that fails on a placeholder or an image that did not load."""

from __future__ import annotations

import io
import os
from typing import Any

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import Page, expect

from jishi.catalog.models import Category
from jishi.demo.seed import STEPS, Progress
from jishi.loyalty.demo import seed_mall
from jishi.testing.factories import UserFactory

from .test_browser import browser, page, screenshot  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True)]

SHOP_STEPS = ("categories", "products", "images", "stock")


@pytest.fixture
def demo_shop(db: Any) -> None:
    out = io.StringIO()
    wanted = [(name, step) for name, step in STEPS if name in SHOP_STEPS]
    for index, (name, step) in enumerate([*wanted, ("mall", seed_mall)], 1):
        step(Progress(out, index, len(wanted) + 1, name))


def card_problems(page: Page, selector: str) -> list[str]:
    """Names of cards whose picture is missing, a placeholder, or not loaded."""
    page.wait_for_load_state("networkidle")
    return page.evaluate(
        """(selector) => Array.from(document.querySelectorAll(selector)).flatMap((card) => {
            const img = card.querySelector('img');
            const name = card.textContent.trim().slice(0, 20);
            if (card.querySelector('.placeholder') || !img) return [name + ': placeholder'];
            if (!img.complete || img.naturalWidth === 0) return [name + ': not loaded'];
            return [];
        })""",
        selector,
    )


def load_all_images(page: Page) -> None:
    # Cards below the fold load lazily: scroll them all into view first.
    page.evaluate("() => document.querySelectorAll('img[loading=lazy]').forEach(i => i.loading = 'eager')")
    page.wait_for_function("() => Array.from(document.images).every(i => i.complete)")


def test_every_product_card_shows_its_picture(live_server: Any, page: Page, demo_shop: None) -> None:
    page.goto(f"{live_server.url}/")
    cards = page.locator("a.card")
    expect(cards.first).to_be_visible()
    assert cards.count() >= 10
    load_all_images(page)
    assert card_problems(page, "a.card") == []
    sizes = page.evaluate("() => Array.from(document.querySelectorAll('a.card img')).map(i => i.naturalWidth)")
    assert min(sizes) == 480
    screenshot(page, "sf_home_cards.png")

    tea = Category.objects.get(name="茶叶", parent__isnull=True)
    page.goto(f"{live_server.url}/c/{tea.pk}/")
    load_all_images(page)
    assert page.locator("a.card").count() >= 3
    assert card_problems(page, "a.card") == []
    screenshot(page, "sf_category_cards.png")


def test_every_points_mall_item_shows_its_picture(live_server: Any, page: Page, demo_shop: None) -> None:
    user = UserFactory()
    client_login(page, live_server, user)
    page.goto(f"{live_server.url}/loyalty/mall/")
    expect(page.locator("a.loy-mall-card").first).to_be_visible()
    load_all_images(page)
    assert page.locator("a.loy-mall-card").count() == 4
    assert card_problems(page, "a.loy-mall-card") == []
    screenshot(page, "sf_mall_cards.png")


def client_login(page: Page, live_server: Any, user: Any) -> None:
    from jishi.testing.factories import DEFAULT_PASSWORD

    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=phone]", user.phone)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("button[value=login]")
    page.wait_for_url("**/me/")
