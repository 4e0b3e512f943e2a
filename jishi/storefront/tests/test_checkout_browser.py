# ruff: noqa: F811  (the browser fixtures are shared with test_browser)
"""Checkout in headless Chromium: the coupon picker (best preselected, another, none, ineligible
with the reason), the points toggle and its saving, the 省/市/区 address picker, and campaign
"buy now" sending a buyer without an address to add one and come back."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import Page, expect

from jishi.accounts.models import Address, User
from jishi.loyalty import services as loyalty
from jishi.marketing.models import Coupon, CouponKind, CouponTemplate
from jishi.orders.models import Order
from jishi.testing.factories import DEFAULT_PASSWORD, AddressFactory, UserFactory

from .test_browser import CHROMIUM, browser, page, screenshot, tea_shop  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True)]
assert CHROMIUM


def login(page: Page, live_server: Any, user: User, next_url: str) -> None:
    page.goto(f"{live_server.url}/login/?next={next_url}")
    page.fill("input[name=phone]", user.phone or "")
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("button[value=login]")
    page.wait_for_url(f"**{next_url}")


def give_coupon(user: User, name: str, *, amount: int, min_spend: int = 0, days: int = 7) -> Coupon:
    now = timezone.now()
    template = CouponTemplate.objects.create(
        name=name,
        kind=CouponKind.THRESHOLD if min_spend else CouponKind.FIXED,
        amount=amount,
        min_spend=min_spend,
        total_quantity=100,
        issued=1,
    )
    return Coupon.objects.create(
        user=user,
        template=template,
        claimed_at=now,
        valid_from=now - timedelta(days=1),
        valid_until=now + timedelta(days=days),
    )


@pytest.fixture
def buyer(db: Any) -> User:
    user = UserFactory(phone="13912345678", username="13912345678")
    AddressFactory(user=user)
    return user


def test_coupon_picker_preselects_the_best_and_lets_the_buyer_choose(
    live_server: Any, page: Page, tea_shop: dict[str, Any], buyer: User
) -> None:
    longjing = tea_shop["longjing"]  # ¥128.00, shipping ¥10.00
    small = give_coupon(buyer, "立减 5 元", amount=500)
    best = give_coupon(buyer, "满 100 减 20", amount=2000, min_spend=10000)
    too_big = give_coupon(buyer, "满 500 减 80", amount=8000, min_spend=50000)
    sku = longjing.skus.get()
    login(page, live_server, buyer, "/me/")

    page.goto(f"{live_server.url}/checkout/?sku={sku.pk}&qty=1")

    # The best coupon is applied and its radio ("recommended") checked.
    expect(page.locator("#coupon-summary")).to_contain_text("-¥20.00")
    expect(page.locator("#coupon-summary")).to_contain_text("满 100 减 20")
    expect(page.locator("[data-amount=payable]")).to_have_text("¥118.00")
    page.click("#coupon-panel summary")
    expect(page.locator("input[name=coupon][value='']")).to_be_checked()
    # The one the order does not reach is shown, disabled, with the reason.
    ineligible = page.locator(f"[data-coupon='{too_big.pk}']")
    expect(ineligible).to_contain_text("不可用：满 ¥500.00 可用")
    expect(ineligible.locator("input")).to_be_disabled()
    expect(page.locator(f"[data-coupon='{best.pk}'] .coupon-saving")).to_have_text("-¥20.00")
    screenshot(page, "sf_checkout_coupons.png")

    # Choosing the smaller one re-prices the order.
    page.locator(f"[data-coupon='{small.pk}'] input").check()
    expect(page.locator("[data-amount=payable]")).to_have_text("¥133.00")
    expect(page.locator("#bar-payable")).to_have_text("¥133.00")
    assert f"coupon={small.pk}" in page.url

    # No coupon at all.
    page.click("#coupon-panel summary") if not page.locator("#coupon-panel details[open]").count() else None
    page.locator("input[name=coupon][value=none]").check()
    expect(page.locator("[data-amount=payable]")).to_have_text("¥138.00")
    expect(page.locator("#coupon-summary")).to_have_text("不使用优惠券")

    # Back to the smaller one and place the order: that coupon is the one used.
    page.locator(f"[data-coupon='{small.pk}'] input").check()
    expect(page.locator("[data-amount=payable]")).to_have_text("¥133.00")
    page.click(".submitbar button[type=submit]")
    page.wait_for_url("**/orders/*/pay/")
    order = Order.objects.get(user=buyer)
    assert order.payable == 13300
    assert list(Coupon.objects.filter(user=buyer, order_id=order.pk).values_list("pk", flat=True)) == [small.pk]


def test_points_toggle_shows_the_saving_and_spends_the_points(
    live_server: Any, page: Page, tea_shop: dict[str, Any], buyer: User
) -> None:
    loyalty.adjust_points(None, buyer.pk, 2550, "测试积分")
    sku = tea_shop["longjing"].skus.get()
    login(page, live_server, buyer, "/me/")

    page.goto(f"{live_server.url}/checkout/?sku={sku.pk}&qty=1")
    expect(page.locator("#points-offer")).to_have_text("共 2550 积分，可用 2500 积分抵 ¥25.00")
    toggle = page.locator("input[name=points]")
    expect(toggle).not_to_be_checked()
    expect(page.locator("[data-amount=payable]")).to_have_text("¥138.00")

    toggle.check()
    expect(page.locator("[data-step=points]")).to_contain_text("-¥25.00")
    expect(page.locator("[data-amount=payable]")).to_have_text("¥113.00")
    screenshot(page, "sf_checkout_points.png")

    page.click(".submitbar button[type=submit]")
    page.wait_for_url("**/orders/*/pay/")
    order = Order.objects.get(user=buyer)
    assert order.payable == 11300
    from jishi.loyalty import points

    assert points.balance(buyer.pk) == 50


def test_address_picker_fills_cities_and_districts(live_server: Any, page: Page, db: Any) -> None:
    user = UserFactory(phone="13912340001", username="13912340001")
    login(page, live_server, user, "/addresses/")

    page.fill("input[name=contact]", "王五")
    page.fill("input[name=phone]", "13700001234")
    page.select_option("select[name=province]", "浙江省")
    expect(page.locator("select[name=city] option[value=杭州市]")).to_have_count(1)
    page.select_option("select[name=city]", "杭州市")
    expect(page.locator("select[name=district] option[value=西湖区]")).to_have_count(1)
    page.select_option("select[name=district]", "西湖区")
    page.fill("input[name=detail]", "文三路 1 号")
    screenshot(page, "sf_address_picker.png")
    page.click("form.form button[type=submit]")

    expect(page.locator(".address-item")).to_have_count(1)
    address = Address.objects.get(user=user)
    assert (address.province, address.city, address.district) == ("浙江省", "杭州市", "西湖区")


def test_a_place_that_is_not_in_the_list_is_refused(live_server: Any, page: Page, db: Any) -> None:
    user = UserFactory(phone="13912340002", username="13912340002")
    login(page, live_server, user, "/addresses/")
    data = {
        "contact": "王五",
        "phone": "13700001234",
        "province": "浙江省",
        "city": "深圳市",
        "district": "南山区",
        "detail": "x",
    }
    token = page.evaluate("() => document.querySelector('input[name=csrfmiddlewaretoken]').value")
    response = page.request.post(
        f"{live_server.url}/addresses/",
        form={**data, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{live_server.url}/addresses/"},
    )
    assert response.status == 400
    assert "请从列表中选择省、市、区" in response.text()
    assert not Address.objects.filter(user=user).exists()
