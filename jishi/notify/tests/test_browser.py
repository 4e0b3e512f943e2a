"""Message centre and campaign console in headless Chromium against a live server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import Browser, Page, expect, sync_playwright

from jishi.loyalty.models import Member, MemberLevel
from jishi.notify import campaigns, services
from jishi.notify.models import Campaign, MemberTag, Message, Segment
from jishi.testing.factories import DEFAULT_PASSWORD, AdminFactory, ProductFactory, UserFactory

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(os.environ.get("JISHI_SCREENSHOT_DIR", "/tmp/shots-notify"))

pytestmark = [
    pytest.mark.django_db(transaction=True),
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


def console_login(page: Page, live_server: Any, operator: Any, next_url: str) -> None:
    page.goto(f"{live_server.url}/console/login/?next={next_url}")
    page.fill("input[name=username]", operator.username)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.press("input[name=password]", "Enter")
    page.wait_for_url(f"**{next_url}")


def count_box(page: Page) -> Any:
    return page.locator("[data-count-box]")


def test_segment_builder_counts_saves_and_reloads(live_server: Any, browser: Browser) -> None:
    # given: six members, three of them gold, two of those tagged 宝妈
    MemberLevel.objects.create(name="普通会员", threshold=0)
    gold = MemberLevel.objects.create(name="黄金会员", threshold=100)
    members = UserFactory.create_batch(6)
    for user in members[:3]:
        Member.objects.create(user=user, level=gold)
    mums = MemberTag.objects.create(name="宝妈")
    MemberTag.objects.create(name="学生")
    mums.members.add(members[0], members[1], members[5])
    operator = AdminFactory(username="ops", password=DEFAULT_PASSWORD)
    page = new_page(browser, 1440, 900, False)
    console_login(page, live_server, operator, "/console/notify/segment/add/")

    # when: the operator builds "gold AND 宝妈" and a group "spent ≥ ¥100 OR registered since 2020"
    page.fill("input[name=name]", "黄金宝妈")
    expect(count_box(page)).to_have_attribute("data-count", "6")
    expect(page.locator("[data-count-text]")).to_have_text("符合条件的会员：6 人")
    page.click("[data-action=add-condition]")
    expect(page.locator("[data-problem='0']")).to_have_text("请至少选择一个等级")
    expect(count_box(page)).to_have_attribute("data-state", "pending")
    page.locator("[data-path='0'] .notify-chip", has_text="黄金会员").click()
    expect(count_box(page)).to_have_attribute("data-count", "3")
    page.click("[data-action=add-condition]")
    page.locator("[data-path='1'] select[data-field-select]").select_option("tags")
    page.locator("[data-path='1'] .notify-chip", has_text="宝妈").click()
    expect(page.locator("[data-count-text]")).to_have_text("符合条件的会员：2 人")
    page.click("[data-action=add-group]")
    group = page.locator(".notify-group[data-path='2']")
    group.locator("[data-path='2.0'] select[data-field-select]").select_option("lifetime_spend")
    group.locator("[data-path='2.0'] input[data-input=min]").fill("100")
    group.locator("[data-action=add-to-group]").click()
    group.locator("[data-path='2.1'] select[data-field-select]").select_option("registered")
    group.locator("[data-path='2.1'] input[data-input=after]").fill("2020-01-01")
    expect(count_box(page)).to_have_attribute("data-count", "2")
    group.locator("button[data-op=and]").click()  # nobody has spent ¥100: 满足全部 selects no one
    expect(count_box(page)).to_have_attribute("data-count", "0")
    group.locator("button[data-op=or]").click()
    expect(count_box(page)).to_have_attribute("data-count", "2")
    shot(page, "console-segment-form.png")
    page.click("button[name=_save]")
    page.wait_for_url("**/console/notify/segment/")

    # then: the rules are saved in the service's shape (spend in fen) and load back into the builder
    segment = Segment.objects.get(name="黄金宝妈")
    assert segment.rules == {
        "op": "and",
        "conditions": [
            {"field": "level", "in": [gold.pk]},
            {"field": "tags", "any": [mums.pk]},
            {
                "op": "or",
                "conditions": [
                    {"field": "lifetime_spend", "min": 10_000},
                    {"field": "registered", "after": "2020-01-01"},
                ],
            },
        ],
    }
    page.goto(f"{live_server.url}/console/notify/segment/{segment.pk}/change/")
    expect(page.locator("[data-path='0'] .notify-chip.is-on")).to_have_text("黄金会员")
    expect(page.locator("[data-path='1'] select[data-field-select]")).to_have_value("tags")
    expect(page.locator("[data-path='1'] .notify-chip.is-on")).to_have_text("宝妈")
    expect(page.locator("[data-path='2.0'] input[data-input=min]")).to_have_value("100")
    expect(page.locator("[data-path='2.1'] input[data-input=after]")).to_have_value("2020-01-01")
    expect(page.locator(".notify-group button[data-op=or]")).to_have_attribute("aria-pressed", "true")
    expect(count_box(page)).to_have_attribute("data-count", "2")


def test_segment_deeper_than_the_builder_opens_as_json(live_server: Any, browser: Browser) -> None:
    members = UserFactory.create_batch(2)
    deep = {"op": "or", "conditions": [{"op": "and", "conditions": [{"op": "or", "conditions": []}]}]}
    segment = campaigns.save_segment(None, "嵌套", deep)
    operator = AdminFactory(username="ops", password=DEFAULT_PASSWORD)
    page = new_page(browser, 1440, 900, False)
    console_login(page, live_server, operator, f"/console/notify/segment/{segment.pk}/change/")

    expect(page.locator("textarea[data-json]")).to_be_visible()
    expect(page.locator(".notify-notice")).to_contain_text("超出了可视化编辑支持的层级")
    expect(count_box(page)).to_have_attribute("data-count", str(len(members)))
    page.fill("textarea[data-json]", '{"op": "and", "conditions": [{"field": "points", "min": "x"}]}')
    expect(count_box(page)).to_have_attribute("data-state", "error")
    expect(count_box(page)).to_contain_text("第 1 项")
    page.fill("textarea[data-json]", '{"op": "and", "conditions": [{"field": "points", "max": 0}]}')
    page.click("[data-action=visual]")
    expect(page.locator("[data-path='0'] input[data-input=max]")).to_have_value("0")
    expect(count_box(page)).to_have_attribute("data-count", str(len(members)))
    # every field's shape survives rules → builder rows → rules unchanged; deeper rules are refused
    assert page.evaluate("rules => window.JishiSegmentRules.roundTrip(rules)", EVERY_FIELD) == EVERY_FIELD
    assert page.evaluate("rules => window.JishiSegmentRules.problems(rules)", EVERY_FIELD) == []
    assert page.evaluate("rules => window.JishiSegmentRules.roundTrip(rules)", deep) is None
    page.click("button[name=_save]")
    page.wait_for_url("**/console/notify/segment/")
    segment.refresh_from_db()
    assert segment.rules == {"op": "and", "conditions": [{"field": "points", "max": 0}]}


def test_segment_builder_picks_products_by_search(live_server: Any, browser: Browser) -> None:
    tea = ProductFactory(name="明前龙井")
    ProductFactory(name="东北大米")
    operator = AdminFactory(username="ops", password=DEFAULT_PASSWORD)
    page = new_page(browser, 1440, 900, False)
    console_login(page, live_server, operator, "/console/notify/segment/add/")

    page.fill("input[name=name]", "买过龙井")
    page.click("[data-action=add-condition]")
    page.locator("[data-path='0'] select[data-field-select]").select_option("bought_product")
    page.locator("[data-path='0'] input[data-input=product-search]").fill("龙井")
    expect(page.locator(".notify-result")).to_have_count(1)
    page.click(f".notify-result[data-product-id='{tea.pk}']")
    expect(page.locator(f"[data-path='0'] [data-product='{tea.pk}']")).to_contain_text("明前龙井")
    expect(count_box(page)).to_have_attribute("data-count", "0")
    page.click("button[name=_save]")
    page.wait_for_url("**/console/notify/segment/")

    segment = Segment.objects.get(name="买过龙井")
    assert segment.rules == {"op": "and", "conditions": [{"field": "bought_product", "any": [tea.pk]}]}
    page.goto(f"{live_server.url}/console/notify/segment/{segment.pk}/change/")
    expect(page.locator(f"[data-product='{tea.pk}']")).to_contain_text("明前龙井")


EVERY_FIELD = {
    "op": "or",
    "conditions": [
        {"field": "level", "in": [1, 2]},
        {"field": "tags", "any": [3]},
        {"field": "points", "min": 10, "max": 500},
        {"field": "last_purchase_days", "not_within": 90},
        {"field": "lifetime_spend", "min": 12_345},
        {
            "op": "and",
            "conditions": [
                {"field": "bought_product", "any": [7, 8]},
                {"field": "bought_category", "any": [4]},
                {"field": "promoter", "is": False},
                {"field": "registered", "after": "2025-01-01", "before": "2025-12-31"},
                {"field": "group", "any": [5]},
                {"field": "store_distance", "store": 6, "within_m": 2500},
                {"field": "store_distance", "store": 6},
            ],
        },
    ],
}


def test_console_creates_schedules_and_reports_a_campaign(live_server: Any, browser: Browser) -> None:
    UserFactory.create_batch(5)
    operator = AdminFactory(username="ops", password=DEFAULT_PASSWORD)
    campaigns.save_segment(None, "全部会员", {})
    page = new_page(browser, 1440, 900, False)
    console_login(page, live_server, operator, "/console/notify/campaign/add/")

    page.fill("input[name=name]", "周末特惠")
    page.select_option("select[name=segment]", label="全部会员")
    page.fill("input[name=title]", "{name}，周末特惠")
    page.fill("textarea[name=body]", "全场八折")
    page.fill("input[name=link]", "/")
    sms = page.locator("textarea[name=sms_body]")
    sms.fill("【集市】")
    sms.locator("xpath=following-sibling::div[1]").get_by_role("button", name="插入 {name}").click()
    sms.press_sequentially("，周末特惠，全场八折")
    expect(page.locator("[data-sms-count]")).to_have_attribute("data-chars", "20")
    expect(page.locator("[data-sms-count]")).to_contain_text("约 1 条短信")
    page.fill("input[name=throttle_sms]", "20")
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "console-campaign-form.png")
    page.evaluate("window.scrollTo(0, document.querySelector('[name=sms_body]').getBoundingClientRect().top - 160)")
    shot(page, "console-campaign-channels.png")
    page.click("button[name=_save]")
    page.wait_for_url("**/console/notify/campaign/")

    campaign = Campaign.objects.get(name="周末特惠")
    assert campaign.channel_content == {"sms": {"body": "【集市】{name}，周末特惠，全场八折"}}
    assert campaign.throttle == {"sms": 20}
    page.check("input[name=_selected_action]")
    page.select_option("select[name=action]", "schedule_now")
    page.click("button[name=index]")
    campaign.refresh_from_db()
    assert campaign.status == "scheduled"

    campaigns.run_due()  # the worker's periodic job

    page.goto(f"{live_server.url}/console/notify/campaign/{campaign.pk}/report/")
    expect(page.locator("[data-metric=targeted] .jishi-card-value")).to_have_text("5")
    expect(page.locator("[data-metric=reach] .jishi-card-value")).to_have_text("100.0%")
    expect(page.locator("[data-chart=funnel] svg")).to_be_visible()
    shot(page, "console-campaign-report.png")
    assert Campaign.objects.get(pk=campaign.pk).status == "finished"

    # a finished campaign's content is shown, not editable
    page.goto(f"{live_server.url}/console/notify/campaign/{campaign.pk}/change/")
    expect(page.locator(".notify-readonly-channel")).to_contain_text("周末特惠，全场八折")
    expect(page.locator("textarea[name=sms_body]")).to_have_count(0)
