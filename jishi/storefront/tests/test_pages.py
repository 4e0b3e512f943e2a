"""Storefront pages through Django's test client: status codes, content, errors, language."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from jishi.accounts.models import User
from jishi.accounts.sms import ConsoleSmsBackend
from jishi.catalog.models import ProductStatus
from jishi.storefront import queries
from jishi.testing.factories import DEFAULT_PASSWORD, ProductFactory, UserFactory

from .conftest import Shop

pytestmark = pytest.mark.django_db


def text(response: Any) -> str:
    return response.content.decode()


# --- browsing ---------------------------------------------------------------------


def test_home_shows_top_categories_and_published_products(client: Client, shop: Shop) -> None:
    response = client.get("/")

    assert response.status_code == 200
    body = text(response)
    assert f'href="/c/{shop.tea.pk}/"' in body
    assert f'href="/c/{shop.fruit.pk}/"' in body
    assert f'href="/c/{shop.green_tea.pk}/"' not in body  # not a top-level chip
    assert "西湖龙井茶" in body
    assert "¥128.00" in body
    assert "¥158.00" in body  # struck-through original price
    assert "未上架白茶" not in body
    assert 'action="/search/"' in body


def test_home_without_products_says_so(client: Client, db: None) -> None:
    response = client.get("/")

    assert response.status_code == 200
    assert "暂无商品" in text(response)


def test_home_query_count_does_not_grow_with_products(client: Client, shop: Shop) -> None:
    client.get("/")  # warm caches (content types, sessions)
    with CaptureQueriesContext(connection) as few:
        client.get("/")
    ProductFactory.create_batch(6, category=shop.fruit)
    with CaptureQueriesContext(connection) as many:
        response = client.get("/")

    assert text(response).count('class="card"') == 9
    assert len(many) == len(few)


def test_home_load_more_returns_only_the_next_cards(
    client: Client, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queries, "PAGE_SIZE", 2)

    first = text(client.get("/"))
    more = client.get("/?page=2", headers={"HX-Request": "true"})

    assert 'href="?page=2"' in first
    assert more.status_code == 200
    assert "<html" not in text(more)
    assert text(more).count('class="card"') == 1
    assert 'id="more" hx-swap-oob="true"' in text(more)
    assert "没有更多了" in text(more)
    assert "HX-Request" in more["Vary"]


@pytest.mark.parametrize("page", ["abc", "-3", "0", "99999999999"])
def test_odd_page_numbers_do_not_fail(client: Client, shop: Shop, page: str) -> None:
    response = client.get(f"/?page={page}")

    assert response.status_code == 200


def test_categories_page_lists_tree(client: Client, shop: Shop) -> None:
    response = client.get("/categories/")

    assert response.status_code == 200
    body = text(response)
    for category in (shop.tea, shop.green_tea, shop.fruit):
        assert f'href="/c/{category.pk}/"' in body


def test_category_page_shows_products_of_category_and_descendants(client: Client, shop: Shop) -> None:
    response = client.get(f"/c/{shop.tea.pk}/")

    assert response.status_code == 200
    body = text(response)
    assert "西湖龙井茶" in body  # in the child category 绿茶
    assert "云南普洱茶饼" in body
    assert "烟台红富士苹果" not in body
    assert "未上架白茶" not in body
    assert f'href="/c/{shop.green_tea.pk}/"' in body  # sub-category chip


def test_category_page_is_paginated(client: Client, shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(queries, "PAGE_SIZE", 1)

    first = text(client.get(f"/c/{shop.tea.pk}/"))
    second = text(client.get(f"/c/{shop.tea.pk}/?page=2"))

    assert first.count('class="card"') == 1
    assert second.count('class="card"') == 1
    assert 'href="?page=2"' in first
    assert "没有更多了" in second
    assert ("西湖龙井茶" in first) != ("西湖龙井茶" in second)


def test_missing_or_inactive_category_is_404(client: Client, shop: Shop) -> None:
    shop.fruit.is_active = False
    shop.fruit.save()

    assert client.get("/c/999999/").status_code == 404
    assert client.get(f"/c/{shop.fruit.pk}/").status_code == 404


# --- product detail -----------------------------------------------------------------


def test_product_page_shows_name_price_skus_and_description(client: Client, shop: Shop) -> None:
    response = client.get(f"/p/{shop.longjing.pk}/")

    assert response.status_code == 200
    body = text(response)
    assert "西湖龙井茶" in body
    assert "明前特级 250g" in body
    assert '<span class="price big" data-price>¥128.00</span>' in body
    assert "¥239.00" in body
    assert "库存 12" in body
    assert "缺货" in body  # the 500g SKU has no stock
    assert "<p>产自杭州西湖。<br>冲泡水温 80℃。</p>" in body
    small, large = shop.longjing.skus.order_by("price")
    assert re.search(rf'value="{large.pk}"[^>]*disabled', body)
    assert not re.search(rf'value="{small.pk}"[^>]*disabled', body)


def test_sold_out_product_cannot_be_bought(client: Client, shop: Shop) -> None:
    product = ProductFactory(category=shop.fruit, name="售罄的梨")

    body = text(client.get(f"/p/{product.pk}/"))

    assert "已售罄" in body
    assert "加入购物车" not in body


@pytest.mark.parametrize("status", [ProductStatus.DRAFT, ProductStatus.UNPUBLISHED])
def test_unpublished_product_is_404(client: Client, shop: Shop, status: str) -> None:
    shop.apple.status = status
    shop.apple.save()

    assert client.get(f"/p/{shop.apple.pk}/").status_code == 404


def test_missing_product_is_404(client: Client, db: None) -> None:
    assert client.get("/p/424242/").status_code == 404


def test_product_description_is_sanitised(client: Client, shop: Shop) -> None:
    shop.apple.description = '<p onclick="steal()">脆甜<strong>多汁</strong></p><script>alert(1)</script>'
    shop.apple.save()

    body = text(client.get(f"/p/{shop.apple.pk}/"))

    assert "<p>脆甜<strong>多汁</strong></p>" in body  # the merchant's formatting stays
    assert "alert(1)" not in body and "steal()" not in body  # scripts and handlers do not


# --- search -----------------------------------------------------------------------


@pytest.mark.parametrize("q", ["茶", "龙井", "longjing", "xhljc"])
def test_search_finds_longjing(client: Client, shop: Shop, q: str) -> None:
    response = client.get("/search/", {"q": q})

    assert response.status_code == 200
    assert f'href="/p/{shop.longjing.pk}/"' in text(response)
    assert "烟台红富士苹果" not in text(response)


def test_search_leaves_out_unpublished_products(client: Client, shop: Shop) -> None:
    body = text(client.get("/search/", {"q": "白茶"}))

    assert "未上架白茶" not in body


def test_search_without_match_says_so(client: Client, shop: Shop) -> None:
    response = client.get("/search/", {"q": "火箭"})

    assert response.status_code == 200
    assert "没有找到相关商品" in text(response)


@pytest.mark.parametrize("q", ["", "   ", "x" * 500])
def test_search_with_empty_or_long_query_does_not_fail(client: Client, shop: Shop, q: str) -> None:
    assert client.get("/search/", {"q": q}).status_code == 200


# --- login, logout, me --------------------------------------------------------------


def test_password_login_logs_in_and_redirects(client: Client, db: None) -> None:
    user = UserFactory()

    response = client.post(
        "/login/",
        {"mode": "password", "phone": user.phone, "password": DEFAULT_PASSWORD, "next": "/search/?q=茶"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/search/?q=%E8%8C%B6"
    assert client.session["_auth_user_id"] == str(user.pk)


def test_login_ignores_offsite_next(client: Client, db: None) -> None:
    user = UserFactory()

    response = client.post(
        "/login/",
        {"phone": user.phone, "password": DEFAULT_PASSWORD, "next": "https://evil.example/"},
    )

    assert response["Location"] == "/me/"


def test_wrong_password_shows_error_in_form(client: Client, db: None) -> None:
    user = UserFactory()

    response = client.post("/login/", {"phone": user.phone, "password": "wrong-password"})

    assert response.status_code == 401
    assert '<div class="alert error" role="alert"><p>账号或密码错误</p></div>' in text(response)
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"phone": "12345", "password": "x"}, 422, "手机号格式不正确"),
        ({"phone": "", "password": ""}, 400, "这个字段是必填项。"),
        ({"phone": "13900000000", "password": "p" * 129}, 400, "128"),
    ],
)
def test_bad_login_input_shows_error(client: Client, db: None, data: dict[str, str], status: int, message: str) -> None:
    response = client.post("/login/", data)

    assert response.status_code == status
    assert message in text(response)


def test_sms_login_registers_new_phone(client: Client, db: None) -> None:
    sent = client.post("/login/", {"mode": "sms", "action": "send_code", "phone": "13700001111"})
    phone, message = ConsoleSmsBackend.outbox[-1]
    code = re.search(r"\d{6}", message).group()  # type: ignore[union-attr]

    response = client.post(
        "/login/",
        {"mode": "sms", "action": "sms_login", "phone": "13700001111", "code": code, "agree": "1"},
    )

    assert sent.status_code == 200
    assert "验证码已发送" in text(sent)
    assert phone == "13700001111"
    assert response.status_code == 302
    user = User.objects.get(phone="13700001111")
    assert client.session["_auth_user_id"] == str(user.pk)


def test_sms_code_request_over_htmx_returns_fragment(client: Client, db: None) -> None:
    response = client.post(
        "/login/",
        {"mode": "sms", "action": "send_code", "phone": "13700002222"},
        headers={"HX-Request": "true"},
    )

    # The console SMS backend (the demo's) shows the code on the page; the button waits 60 s.
    code = re.search(r"\d{6}", ConsoleSmsBackend.outbox[-1][1]).group()  # type: ignore[union-attr]
    assert response.status_code == 200
    assert text(response).strip() == (
        '<div class="alert ok" role="status" data-resend-after="60"><p>验证码已发送，5 分钟内有效</p>'
        f'<p class="demo-code">演示环境（控制台短信通道）：验证码 <strong id="demo-sms-code">{code}</strong></p></div>'
    )


def test_sms_code_is_not_shown_with_a_real_sms_backend(client: Client, db: None, settings: Any) -> None:
    settings.JISHI = {**settings.JISHI, "SMS_BACKEND": "jishi.storefront.tests.test_pages.SilentSms"}
    response = client.post(
        "/login/",
        {"mode": "sms", "action": "send_code", "phone": "13700002223"},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    assert "验证码已发送" in text(response)
    assert "demo-sms-code" not in text(response)


class SilentSms:
    def send(self, phone: str, text: str) -> None:
        pass


def test_sms_login_needs_consent_to_the_terms_and_privacy_policy(client: Client, db: None) -> None:
    client.post("/login/", {"mode": "sms", "action": "send_code", "phone": "13700005555"})
    code = re.search(r"\d{6}", ConsoleSmsBackend.outbox[-1][1]).group()  # type: ignore[union-attr]

    response = client.post("/login/", {"mode": "sms", "action": "sms_login", "phone": "13700005555", "code": code})

    assert response.status_code == 400
    assert "请先阅读并同意《用户协议》和《隐私政策》" in text(response)
    assert not User.objects.filter(phone="13700005555").exists()
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(("url", "title"), [("/legal/terms/", "集市用户协议"), ("/legal/privacy/", "集市隐私政策")])
def test_terms_and_privacy_pages(client: Client, db: None, url: str, title: str) -> None:
    response = client.get(url)

    assert response.status_code == 200
    assert title in text(response)
    assert 'href="/legal/terms/"' in text(client.get("/login/", {"mode": "sms"}))


def test_sms_code_refusal_over_htmx_is_a_200_fragment(client: Client, db: None) -> None:
    response = client.post(
        "/login/",
        {"mode": "sms", "action": "send_code", "phone": "not-a-phone"},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    assert "手机号格式不正确" in text(response)


def test_sms_code_rate_limit_shows_error(client: Client, db: None, frozen_rate_window: float) -> None:
    data = {"mode": "sms", "action": "send_code", "phone": "13700003333"}
    client.post("/login/", data)

    response = client.post("/login/", data)

    assert response.status_code == 429
    assert "操作太频繁，请稍后再试" in text(response)


def test_wrong_sms_code_shows_error(client: Client, db: None) -> None:
    client.post("/login/", {"mode": "sms", "action": "send_code", "phone": "13700004444"})

    response = client.post(
        "/login/", {"mode": "sms", "action": "sms_login", "phone": "13700004444", "code": "000000x", "agree": "1"}
    )

    assert response.status_code == 401
    assert "验证码无效或已过期" in text(response)
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("mode", ["password", "sms"])
def test_login_page_renders(client: Client, db: None, mode: str) -> None:
    response = client.get("/login/", {"mode": mode})

    assert response.status_code == 200
    assert "验证码登录" in text(response)


def test_me_shows_login_state(client: Client, db: None) -> None:
    user = UserFactory(nickname="小明", phone="13912345678", username="13912345678")

    anonymous = text(client.get("/me/"))
    client.force_login(user)
    logged_in = text(client.get("/me/"))

    assert "未登录" in anonymous
    assert 'href="/login/?next=/me/"' in anonymous
    assert "小明" in logged_in
    assert "139****5678" in logged_in
    assert "13912345678" not in logged_in
    assert "退出登录" in logged_in


def test_logout_needs_post(client: Client, db: None) -> None:
    client.force_login(UserFactory())

    refused = client.get("/logout/")
    response = client.post("/logout/")

    assert refused.status_code == 405
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


# --- language ---------------------------------------------------------------------


def test_language_switch_to_english(client: Client, shop: Shop) -> None:
    chinese = text(client.get("/"))

    switched = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    english = text(client.get("/"))

    assert "首页" in chinese
    assert switched.status_code == 302
    assert '<html lang="en">' in english
    assert ">Home<" in english
    assert ">Categories<" in english
    assert "Recommended for you" in english
    assert "首页" not in english
    assert "西湖龙井茶" in english  # product data stays as entered


def test_login_error_is_translated(client: Client, db: None) -> None:
    user = UserFactory()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})

    response = client.post("/login/", {"phone": user.phone, "password": "wrong-password"})

    assert "Incorrect account or password" in text(response)


# --- PWA --------------------------------------------------------------------------


def test_manifest_names_the_shop_and_its_icons(client: Client, db: None) -> None:
    response = client.get("/manifest.webmanifest")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/manifest+json")
    data = json.loads(response.content)
    assert data["name"] == "集市"
    assert data["start_url"] == "/"
    assert [icon["sizes"] for icon in data["icons"]] == ["192x192", "512x512"]
    for icon in data["icons"]:
        assert finders.find(icon["src"].removeprefix("/static/"))


def test_service_worker_is_served_for_the_root_scope(client: Client, db: None) -> None:
    response = client.get("/sw.js")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    assert "no-cache" in response["Cache-Control"]
    body = text(response)
    assert '"/static/storefront/vendor/htmx.min.js"' in body
    assert '"/static/storefront/css/shop.css"' in body
    assert "&quot;" not in body


def test_pages_link_manifest_and_local_assets_only(client: Client, shop: Shop) -> None:
    body = text(client.get("/"))

    assert 'rel="manifest" href="/manifest.webmanifest"' in body
    assert 'data-sw="/sw.js"' in body
    assert not re.search(r'(src|href)="(https?:)?//', body)
