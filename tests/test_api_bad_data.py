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
