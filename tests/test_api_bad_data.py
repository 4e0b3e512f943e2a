"""Values the database cannot store are a 4xx with nothing written, on SQLite as on PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import Api
from jishi.accounts.models import Address
from jishi.marketing.models import FlashSession
from jishi.testing.shop import ADDRESS_BODY, shopper

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("field", ["contact", "detail"])
def test_a_nul_character_in_the_body_is_a_422_naming_the_field(field: str) -> None:
    s = shopper()
    Address.objects.filter(user=s.user).delete()

    response = Api(s.token).post("addresses", {**ADDRESS_BODY, field: "a\x00b"})

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid"
    assert list(response.json()["error"]["fields"]) == [field]
    assert Address.objects.filter(user=s.user).count() == 0


def test_a_nul_character_in_the_query_is_a_422() -> None:
    response = Api().get("products?q=%E8%8C%B6%00")

    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == ["q"]


def test_the_escaped_text_backslash_u0000_is_ordinary_text() -> None:
    s = shopper()
    response = Api(s.token).post("addresses", {**ADDRESS_BODY, "detail": "门牌 \\u0000 号"})

    assert response.status_code == 201
    assert Address.objects.get(pk=response.json()["id"]).detail == "门牌 \\u0000 号"


@pytest.mark.django_db(transaction=True)  # as in production: no test transaction around the request
def test_a_time_zone_offset_the_database_cannot_hold_is_never_a_500(operator_api: Api, is_postgres: Any) -> None:
    body = {"name": "怪时区", "starts_at": "2027-05-31T16:38:09-17:49", "ends_at": "2027-06-01T16:38:09-17:49"}

    response = operator_api.post("admin/flash-sales/sessions", body)

    if is_postgres:  # PostgreSQL refuses offsets beyond ±15:59: the request is refused whole
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "invalid"
        assert FlashSession.objects.count() == 0
    else:  # SQLite stores the instant in UTC
        assert response.status_code == 201
        assert FlashSession.objects.get().starts_at.isoformat() == "2027-06-01T10:27:09+00:00"


BEYOND_64_BITS = 2**64


def test_an_order_with_a_coupon_id_beyond_64_bits_is_a_422_and_writes_nothing() -> None:
    from jishi.orders.models import Order
    from jishi.testing.factories import SkuFactory

    s = shopper()
    body = {
        "lines": [{"sku_id": SkuFactory(stock=5).pk, "quantity": 1}],
        "address_id": s.address.pk,
        "coupon_ids": [BEYOND_64_BITS],
    }

    response = Api(s.token).post("orders", body)

    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == ["coupon_ids.0"]
    assert Order.objects.count() == 0


def test_opening_a_group_buy_with_a_coupon_id_beyond_64_bits_is_a_422() -> None:
    s = shopper()

    response = Api(s.token).post("group-buys/1/groups", {"address_id": s.address.pk, "coupon_ids": [BEYOND_64_BITS]})

    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == ["coupon_ids.0"]


@pytest.mark.parametrize("query", ["offset=9999999999999999999", "limit=9999999999999999999", "offset=-1"])
def test_a_page_beyond_the_bounds_is_a_422_naming_the_parameter(operator_api: Api, query: str) -> None:
    response = operator_api.get(f"admin/posts?{query}")

    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == [query.split("=")[0]]
