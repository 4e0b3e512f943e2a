"""A campaign's "buy now" (flash, 拼团, bargain) sends a buyer without an address to add one,
then back to the campaign page; a buyer with an address goes straight on to pay."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pytest
from django.test import Client
from django.utils import timezone

from jishi.marketing.models import FlashItem, FlashSession
from jishi.orders.models import Order
from jishi.testing.factories import UserFactory
from jishi.testing.shop import shopper, skus

pytestmark = pytest.mark.django_db

ADDRESS = {
    "contact": "王五",
    "phone": "13700001234",
    "province": "广东省",
    "city": "深圳市",
    "district": "南山区",
    "detail": "科技园 8 号",
}


def flash_item() -> FlashItem:
    (sku,) = skus(9900, stock=50)
    now = timezone.now()
    session = FlashSession.objects.create(
        name="10:00 场", starts_at=now - timedelta(minutes=5), ends_at=now + timedelta(hours=1)
    )
    return FlashItem.objects.create(
        session=session, sku=sku, flash_price=1990, total_stock=5, stock_left=5, per_person_limit=1
    )


def test_flash_buy_without_an_address_goes_to_add_one_and_back(client: Client) -> None:
    item = flash_item()
    user = UserFactory()
    client.force_login(user)

    response = client.post(f"/flash/{item.pk}/buy/", {"quantity": 1})

    assert response.status_code == 302
    assert response["Location"] == f"/addresses/?next={quote('/flash/', safe='')}"
    assert Order.objects.filter(user=user).count() == 0
    page = client.get(response["Location"])
    assert '<input type="hidden" name="next" value="/flash/">' in page.content.decode()
    assert "请先添加收货地址" in page.content.decode()

    saved = client.post("/addresses/", {**ADDRESS, "next": "/flash/"})

    assert saved.status_code == 302
    assert saved["Location"] == "/flash/"
    bought = client.post(f"/flash/{item.pk}/buy/", {"quantity": 1})
    order = Order.objects.get(user=user)
    assert bought["Location"] == f"/orders/{order.pk}/pay/"


def test_next_must_be_a_page_of_this_shop(client: Client) -> None:
    user = UserFactory()
    client.force_login(user)

    saved = client.post("/addresses/", {**ADDRESS, "next": "https://evil.example/"})

    assert saved["Location"] == "/addresses/"


@pytest.mark.parametrize(
    ("url", "back"),
    [("/groups/{id}/open/", "/groups/"), ("/bargains/{id}/buy/", "/bargains/{id}/")],
)
def test_group_and_bargain_buy_ask_for_an_address_first(client: Client, url: str, back: str) -> None:
    user = shopper().user
    user.addresses.all().delete()
    client.force_login(user)

    response = client.post(url.format(id=7))

    assert response.status_code == 302
    assert response["Location"] == f"/addresses/?next={quote(back.format(id=7), safe='')}"
