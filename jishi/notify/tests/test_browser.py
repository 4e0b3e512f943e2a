"""Message centre and campaign console in headless Chromium against a live server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import Browser, Page, expect, sync_playwright

from jishi.notify import campaigns, services
from jishi.notify.models import Campaign, Message
from jishi.testing.factories import DEFAULT_PASSWORD, AdminFactory, UserFactory

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(os.environ.get("JISHI_SCREENSHOT_DIR", "/tmp/shots-notify"))

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed"),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        yield browser
        browser.close()


def new_page(browser: Browser, width: int, height: int, mobile: bool) -> Page:
    context = browser.new_context(
        locale="zh-CN", viewport={"width": width, "height": height}, is_mobile=mobile, has_touch=mobile
    )
    page = context.new_page()
    page.set_default_timeout(20_000)
    return page


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name))


def test_message_centre(live_server: Any, browser: Browser) -> None:
    buyer = UserFactory(phone="13912340001", username="13912340001")
    services.notify_member(
        buyer.pk, category="order", title="订单已发货", body="顺丰 SF1234567", link="/orders/", key="a"
    )
    services.notify_member(
        buyer.pk, category="promotion", title="双十二全场满减", body="满 199 减 30", link="/", key="b"
    )
    page = new_page(browser, 390, 844, True)
    page.goto(f"{live_server.url}/login/?next=/me/")
    page.fill("input[name=phone]", buyer.phone)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("button[value=login]")
    page.wait_for_url("**/me/")
    expect(page.locator(".tabbar .badge[data-unread]")).to_have_text("2")

    page.click("text=消息中心")
    page.wait_for_url("**/messages/")
    expect(page.locator(".msg.unread")).to_have_count(2)
    shot(page, "message-centre.png")

    page.click("text=全部已读")
    expect(page.locator(".msg.unread")).to_have_count(0)
    expect(page.locator(".tabbar .badge[data-unread]")).to_have_count(0)
    assert Message.objects.filter(user=buyer, read_at__isnull=True).count() == 0

    page.click("text=通知设置")
    page.uncheck("input[name=sms_marketing]")
    page.fill("input[name=quiet_start]", "22:00")
    page.fill("input[name=quiet_end]", "08:00")
    page.click("button[type=submit]")
    expect(page.locator("text=通知设置已保存")).to_be_visible()
    shot(page, "notice-settings.png")
    assert services.notice_settings(buyer).sms_marketing is False


def test_console_creates_schedules_and_reports_a_campaign(live_server: Any, browser: Browser) -> None:
    UserFactory.create_batch(5)
    operator = AdminFactory(username="ops", password=DEFAULT_PASSWORD)
    campaigns.save_segment(None, "全部会员", {})
    page = new_page(browser, 1440, 900, False)
    page.goto(f"{live_server.url}/console/login/?next=/console/notify/campaign/add/")
    page.fill("input[name=username]", operator.username)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.press("input[name=password]", "Enter")
    page.wait_for_url("**/console/notify/campaign/add/")

    page.fill("input[name=name]", "周末特惠")
    page.select_option("select[name=segment]", label="全部会员")
    page.fill("input[name=title]", "{name}，周末特惠")
    page.fill("textarea[name=body]", "全场八折")
    page.fill("input[name=link]", "/")
    page.fill("textarea[name=channel_content]", '{"sms": {"body": "周末特惠，全场八折"}}')
    page.fill("textarea[name=throttle]", '{"sms": 20}')
    shot(page, "console-campaign-form.png")
    page.click("button[name=_save]")
    page.wait_for_url("**/console/notify/campaign/")

    page.check("input[name=_selected_action]")
    page.select_option("select[name=action]", "schedule_now")
    page.click("button[name=index]")
    campaign = Campaign.objects.get(name="周末特惠")
    assert campaign.status == "scheduled"

    campaigns.run_due()  # the worker's periodic job

    page.goto(f"{live_server.url}/console/notify/campaign/{campaign.pk}/report/")
    expect(page.locator("#report-summary td").first).to_have_text("5")
    expect(page.locator("svg").first).to_be_visible()
    shot(page, "console-campaign-report.png")
    assert Campaign.objects.get(pk=campaign.pk).status == "finished"
