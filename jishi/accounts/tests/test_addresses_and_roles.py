from __future__ import annotations

from typing import Any

import pytest

from jishi.accounts.models import Address
from jishi.testing.factories import AddressFactory, UserFactory

pytestmark = pytest.mark.django_db

ADDRESS = {
    "contact": "王五",
    "phone": "13800000000",
    "province": "上海市",
    "city": "上海市",
    "district": "浦东新区",
    "detail": "世纪大道 1 号",
    "latitude": 31.23,
    "longitude": 121.5,
}


def test_first_address_becomes_default(buyer_api: Any) -> None:
    created = buyer_api.post("addresses", ADDRESS)
    assert created.status_code == 201
    assert created.json()["is_default"] is True
    second = buyer_api.post("addresses", {**ADDRESS, "detail": "二号"}).json()
    assert second["is_default"] is False


def test_making_another_default_clears_the_old_one(buyer_api: Any) -> None:
    first = buyer_api.post("addresses", ADDRESS).json()
    second = buyer_api.post("addresses", {**ADDRESS, "is_default": True}).json()
    assert second["is_default"] is True
    assert Address.objects.get(pk=first["id"]).is_default is False


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_another_buyers_address_is_404(buyer_api: Any, method: str) -> None:
    theirs = AddressFactory(user=UserFactory())
    path = f"addresses/{theirs.pk}"
    response = buyer_api.put(path, ADDRESS) if method == "put" else getattr(buyer_api, method)(path)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    theirs.refresh_from_db()
    assert theirs.detail == "文三路 100 号"


def test_list_shows_only_my_addresses(buyer_api: Any, buyer: Any) -> None:
    AddressFactory(user=UserFactory())
    AddressFactory(user=buyer)
    items = buyer_api.get("addresses").json()
    assert len(items) == 1


@pytest.mark.parametrize(
    "patch,field",
    [({"latitude": 91}, "latitude"), ({"contact": ""}, "contact"), ({"detail": None}, "detail")],
)
def test_bad_address_is_422_and_writes_nothing(buyer_api: Any, patch: dict[str, Any], field: str) -> None:
    response = buyer_api.post("addresses", {**ADDRESS, **patch})
    assert response.status_code == 422
    assert field in response.json()["error"]["fields"]
    assert Address.objects.count() == 0


def test_buyer_cannot_use_operator_endpoints(buyer_api: Any, api: Any) -> None:
    assert buyer_api.get("admin/products").status_code == 403
    assert api.get("admin/products").status_code == 401


def test_only_admin_grants_roles(operator_api: Any, buyer: Any) -> None:
    response = operator_api.post(f"admin/users/{buyer.pk}/roles", {"role": "promoter"})
    assert response.status_code == 403
