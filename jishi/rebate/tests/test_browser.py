"""Rebate pages in headless Chromium: the goods feed (tabs, search, badges), 领券购买 with the
code copied, my rebate orders and my balance; console pages at desktop size. Screenshots go to
JISHI_SCREENSHOT_DIR when set."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import Browser, Page, expect, sync_playwright

from jishi.distribution import services as distribution
from jishi.rebate import feeds, lifecycle
from jishi.rebate.links import record_link as link_for
from jishi.rebate.models import Network, OrderStatus, TrackedLink
from jishi.testing.factories import DEFAULT_PASSWORD, AdminFactory, UserFactory

from .conftest import moved, report
from .test_feeds import PDD_ITEM, TAOBAO_ITEM

CHROMIUM = "/usr/bin/chromium"

pytestmark = [
    pytest.mark.django_db(transaction=True),
]

JD_ITEM = {
    "skuId": "100012345",
    "skuName": "京东自营 智能电饭煲 4L",
    "priceInfo": {"price": 299},
    "couponInfo": {"couponList": [{"discount": 50, "quota": 200, "useEndTime": 4_100_000_000_000, "remainNum": 30}]},
    "commissionInfo": {"commissionShare": 6.5},
    "shopInfo": {"shopName": "京东自营"},
    "inOrderCount30Days": 5000,
    "categoryInfo": {"cid1Name": "家电"},
    "materialUrl": "https://item.jd.example/100012345.html",
}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        yield browser
        browser.close()


def new_page(browser: Browser, *, phone: bool = True) -> Page:
    size = {"width": 390, "height": 844} if phone else {"width": 1440, "height": 900}
    context = browser.new_context(
        locale="zh-CN",
        viewport=size,
        is_mobile=phone,
        has_touch=phone,
        permissions=["clipboard-read", "clipboard-write"],
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def screenshot(page: Page, name: str) -> None:
    folder = os.environ.get("JISHI_SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / name), full_page=True)


def sign_in(page: Page, base: str, phone: str, next_path: str) -> None:
    page.goto(f"{base}/login/?next={next_path}")
    page.fill("input[name=phone]", phone)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("button[value=login]")
    page.wait_for_url(f"**{next_path}")


def catalogue() -> None:
    plain = {k: v for k, v in TAOBAO_ITEM.items() if k not in {"pict_url", "small_images"}}
    feeds.import_goods(
        Network.TAOBAO, [plain, {**plain, "item_id": "601234567891", "title": "纯棉四件套 床上用品", "volume": 900}]
    )
    feeds.import_goods(Network.PDD, [{k: v for k, v in PDD_ITEM.items() if k != "goods_thumbnail_url"}])
    feeds.import_goods(Network.JD, [JD_ITEM])


def test_goods_feed_take_coupon_and_copy_the_code(live_server: Any, browser: Browser) -> None:
    catalogue()
    promoter = UserFactory()
    distribution.apply(promoter)
    page = new_page(browser)
    sign_in(page, live_server.url, promoter.phone, "/rebate/")
    cards = page.locator("#rebate-feed .rb-card")
    expect(cards).to_have_count(4)
    first = cards.filter(has_text="无线蓝牙耳机")
    expect(first.locator(".rb-coupon")).to_have_text("券 ¥30.00")
    expect(first.locator(".rb-save")).to_have_text("省 ¥43.10")
    expect(first.locator(".rb-earn")).to_have_text("赚 ¥5.24")
    expect(first.locator(".price")).to_have_text("¥169.00")
    screenshot(page, "rebate-feed.png")

    page.click("nav.rb-tabs >> text=多多进宝")
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("家用抽纸")
    page.fill("input[name=q]", "sijiantao")
    page.click("form.search button")
    expect(cards).to_have_count(0)  # the PDD tab is kept while searching
    page.click("nav.rb-tabs >> text=全部")
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("纯棉四件套")
    screenshot(page, "rebate-search.png")

    page.goto(f"{live_server.url}/rebate/")
    cards.filter(has_text="无线蓝牙耳机").click()
    expect(page.locator("#rebate-price")).to_have_text("¥169.00")
    link_for(promoter, Network.TAOBAO)  # the buyer's relation_id, registered before (test_registration)
    page.click("#rebate-take")
    link = TrackedLink.objects.get(user=promoter, network="taobao")
    expect(page.locator("#rebate-code")).to_have_text(f"￥{link.share_code}￥")
    expect(page.locator("#rebate-open")).to_have_attribute(
        "href", f"https://uland.example/coupon?id=1&relationId={link.tracking_id}"
    )
    page.click("[data-copy]")
    expect(page.locator("[data-copy]")).to_have_text("已复制，打开淘宝")
    assert f"￥{link.share_code}￥" in page.evaluate("navigator.clipboard.readText()")
    screenshot(page, "rebate-detail.png")
    page.context.close()


def test_my_rebate_orders_and_balance(live_server: Any, browser: Browser) -> None:
    buyer = UserFactory()
    tb, pdd = link_for(buyer, Network.TAOBAO), link_for(buyer, Network.PDD)
    settled = report(tb, n=1, estimate=2680)
    refunded = report(pdd, n=2, estimate=900, network="pdd")
    lifecycle.record_reports(None, "taobao", [settled, report(tb, n=3, estimate=1260)])
    lifecycle.record_reports(None, "pdd", [refunded])
    lifecycle.record_reports(None, "taobao", [moved(settled, OrderStatus.SETTLED, commission_actual=2680)])
    lifecycle.record_reports(None, "pdd", [moved(refunded, OrderStatus.REFUNDED)])
    page = new_page(browser)
    sign_in(page, live_server.url, buyer.phone, "/rebate/orders/")
    orders = page.locator("#rebate-orders .order-card")
    expect(orders).to_have_count(3)
    expect(page.locator('[data-order="O1"] .status')).to_have_text("已结算")
    expect(page.locator('[data-order="O1"] .rb-credit')).to_have_text("已到账")
    expect(page.locator('[data-order="O2"] .status')).to_have_text("已退款")
    expect(page.locator('[data-order="O2"] .rb-credit')).to_have_text("已扣回")
    expect(page.locator('[data-order="O3"] .rb-credit')).to_have_text("待结算")
    screenshot(page, "rebate-orders.png")
    page.click("nav.status-tabs >> text=已到账")
    expect(orders).to_have_count(1)
    page.goto(f"{live_server.url}/rebate/balance/")
    expect(page.locator("#rebate-available")).to_have_text("¥13.40")
    expect(page.locator("#rebate-pending")).to_have_text("¥6.30")
    page.fill("#rebate-withdraw input[name=amount]", "12")
    page.click("#rebate-withdraw button[type=submit]")
    expect(page.locator("#rebate-available")).to_have_text("¥1.40")
    screenshot(page, "rebate-balance.png")
    page.context.close()


def test_console_pages_at_desktop_size(live_server: Any, browser: Browser) -> None:
    from jishi.rebate import sources

    source = sources.create_source(
        None,
        {"network": "taobao", "name": "淘宝主账号", "app_key": "k", "secret": "s", "endpoint": "http://127.0.0.1:9/"},
    )
    buyer = UserFactory()
    link = link_for(buyer, Network.TAOBAO)
    first = report(link, n=1, estimate=1000)
    lifecycle.record_reports(source, "taobao", [first, report(None, n=2, estimate=800)])
    lifecycle.record_reports(source, "taobao", [moved(first, OrderStatus.SETTLED, commission_actual=1200)])
    admin = AdminFactory()
    page = new_page(browser, phone=False)
    page.goto(f"{live_server.url}/console/login/?next=/console/rebate/networkorder/")
    page.fill("input[name=username]", admin.username)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.press("input[name=password]", "Enter")
    page.wait_for_url("**/console/rebate/networkorder/")
    expect(page.locator("#result_list tbody tr")).to_have_count(2)
    screenshot(page, "console-rebate-orders.png")
    page.goto(f"{live_server.url}/console/rebate/reconciliation/?source={source.pk}")
    expect(page.locator("h1")).to_have_text("返佣对账")
    expect(page.locator("body")).to_contain_text("结算佣金高于预估")
    screenshot(page, "console-rebate-reconciliation.png")
    page.goto(f"{live_server.url}/console/rebate/rebatesource/")
    screenshot(page, "console-rebate-sources.png")
    from jishi.rebate.models import NetworkOrder

    from .conftest import refund_case, waiting_penalty

    refund_case(NetworkOrder.objects.get(order_id="O1"), fee=9900, commission=300)
    waiting_penalty(7)
    page.goto(f"{live_server.url}/console/rebate/orderadjustment/")
    expect(page.locator("#result_list tbody tr")).to_have_count(2)
    expect(page.locator("#result_list")).to_contain_text("维权成功（2）")
    screenshot(page, "console-rebate-adjustments.png")
    page.context.close()


def test_take_coupon_on_taobao_sends_a_web_buyer_through_taobao_authorisation(
    live_server: Any, browser: Browser
) -> None:
    from jishi.rebate import sources
    from jishi.rebate.fakes import FAKES

    catalogue()
    with FAKES["taobao"]() as fake:
        sources.create_source(
            None,
            {
                "network": "taobao",
                "name": "淘宝主账号",
                "app_key": fake.app_key,
                "secret": fake.secret,
                "endpoint": fake.url,
                "oauth_url": fake.authorize_url,  # type: ignore[attr-defined]
                "pid": "mm_1_2_3",
                "inviter_code": fake.inviter_code,  # type: ignore[attr-defined]
            },
        )
        buyer = UserFactory()
        page = new_page(browser)
        sign_in(page, live_server.url, buyer.phone, "/rebate/")
        page.locator("#rebate-feed .rb-card").filter(has_text="无线蓝牙耳机").click()
        page.click("#rebate-take")
        expect(page.locator("h1")).to_have_text("“集市”申请获得以下权限")  # Taobao's page, on the fake
        assert not TrackedLink.objects.filter(user=buyer).exists()
        screenshot(page, "rebate-take-taobao-authorise.png")
        page.click("#grant")
        page.wait_for_url("**/rebate/g/*/#take")
        expect(page.locator("body")).to_contain_text("淘宝授权成功")
        link = TrackedLink.objects.get(user=buyer)
        assert link.tracking_id in fake.relations.values()  # type: ignore[attr-defined]
        expect(page.locator("#rebate-code")).to_contain_text(link.share_code)
        screenshot(page, "rebate-take-authorised.png")
        page.context.close()


def test_console_refreshes_goods_and_lists_registrations(live_server: Any, browser: Browser) -> None:
    from jishi.rebate import links, sources
    from jishi.rebate.fakes import FAKES, goods_rows
    from jishi.rebate.models import RebateGoods

    with FAKES["jd"]() as jd, FAKES["taobao"]() as taobao:
        jd.goods = goods_rows("jd", 12)  # type: ignore[attr-defined]
        source = sources.create_source(
            None,
            {
                "network": "jd",
                "name": "京东主账号",
                "app_key": jd.app_key,
                "secret": jd.secret,
                "endpoint": jd.url,
                "goods_keywords": "蓝牙耳机,保温杯,四件套,卫衣,积木,护手霜,抽纸,大米",
            },
        )
        sources.create_source(
            None,
            {
                "network": "taobao",
                "name": "淘宝主账号",
                "app_key": taobao.app_key,
                "secret": taobao.secret,
                "endpoint": taobao.url,
                "pid": "mm_1_2_3",
                "inviter_code": taobao.inviter_code,  # type: ignore[attr-defined]
            },
        )
        links.link_for(UserFactory(), Network.TAOBAO, taobao_session="buyer-token")
        admin = AdminFactory()
        page = new_page(browser, phone=False)
        page.goto(f"{live_server.url}/console/login/?next=/console/rebate/rebatesource/")
        page.fill("input[name=username]", admin.username)
        page.fill("input[name=password]", DEFAULT_PASSWORD)
        page.press("input[name=password]", "Enter")
        page.wait_for_url("**/console/rebate/rebatesource/")
        page.locator(f"#result_list input[name=_selected_action][value='{source.pk}']").check()
        page.select_option("select[name=action]", "refresh_goods_now")
        page.click("button[name=index]")
        expect(page.locator("body")).to_contain_text("已排队刷新 1 个账号的商品")
        assert RebateGoods.objects.filter(network="jd", is_active=True).count() == 12
        screenshot(page, "console-rebate-goods-refresh.png")
        page.goto(f"{live_server.url}/console/rebate/rebatesource/{source.pk}/change/")
        expect(page.locator("input[name=goods_keywords]")).to_have_value(
            "蓝牙耳机,保温杯,四件套,卫衣,积木,护手霜,抽纸,大米"
        )
        screenshot(page, "console-rebate-source.png")
        page.goto(f"{live_server.url}/console/rebate/linkregistration/")
        expect(page.locator("#result_list tbody tr")).to_have_count(1)
        expect(page.locator("#result_list tbody")).to_contain_text("已备案")
        screenshot(page, "console-rebate-registrations.png")
        page.context.close()
