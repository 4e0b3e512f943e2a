"""The loyalty rules page in headless Chromium: sign-in tiers edited as a table."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import Browser, sync_playwright

from jishi.loyalty.conf import loyalty_settings
from jishi.testing.factories import DEFAULT_PASSWORD, AdminFactory

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(os.environ.get("JISHI_SCREENSHOT_DIR", "/tmp/shots-loyalty"))

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


def test_operator_adds_a_sign_in_tier_in_the_table(live_server: Any, browser: Browser) -> None:
    operator = AdminFactory()
    before = loyalty_settings().sign_in_tiers
    page = browser.new_context(locale="zh-CN", viewport={"width": 1440, "height": 900}).new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{live_server.url}/console/login/?next=/console/loyalty/loyaltysettings/")
    page.fill("input[name=username]", operator.username)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("table.tier-table")
    blank = len(before)  # the first blank row after the saved tiers
    page.fill(f"input[name=sign_in_tiers_{blank}_day]", "30")
    page.fill(f"input[name=sign_in_tiers_{blank}_points]", "100")
    page.locator("table.tier-table").scroll_into_view_if_needed()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "console-loyalty-sign-in-tiers.png"))
    page.click("button[name=_save]")
    page.wait_for_load_state("networkidle")

    tiers = loyalty_settings().sign_in_tiers
    assert tiers == sorted([*before, {"day": 30, "points": 100}], key=lambda t: t["day"])
