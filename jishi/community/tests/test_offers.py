"""Group-exclusive prices at checkout: members pay them, others and former members do not."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conftest import Api
from jishi.community import groups, offers
from jishi.orders import services as orders
from jishi.testing.factories import OperatorFactory
from jishi.testing.shop import shopper, skus

from .conftest import make_group, member

pytestmark = pytest.mark.django_db

OWN_STEPS = {"item_price", "shipping", "community_price"}


@pytest.fixture(autouse=True)
def _only_orders_and_community_steps(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Price with orders' steps and this one, so other features' steps cannot move exact amounts here."""
    from jishi.orders import pipeline

    monkeypatch.setattr(pipeline, "_steps", {k: v for k, v in pipeline._steps.items() if k in OWN_STEPS})
    yield


def place(s, sku) -> int:
    order = orders.place_order(s.user, [(sku.pk, 2)], s.address.pk, {})
    return order.lines.get().unit_price


def test_members_pay_the_group_price_until_they_leave() -> None:
    group = make_group()
    (sku,) = skus(5000)
    offers.set_price(OperatorFactory(), group.pk, sku.pk, 3900)
    s = shopper()
    member(group, s.user)
    assert place(s, sku) == 3900
    groups.leave(s.user, group.pk)
    assert place(s, sku) == 5000


def test_non_members_pay_the_list_price() -> None:
    group = make_group()
    (sku,) = skus(5000)
    offers.set_price(OperatorFactory(), group.pk, sku.pk, 3900)
    assert place(shopper(), sku) == 5000


def test_the_lowest_of_my_groups_applies() -> None:
    (sku,) = skus(5000)
    a, b = make_group(name="a"), make_group(name="b")
    operator = OperatorFactory()
    offers.set_price(operator, a.pk, sku.pk, 4500)
    offers.set_price(operator, b.pk, sku.pk, 4200)
    s = shopper()
    member(a, s.user)
    member(b, s.user)
    assert place(s, sku) == 4200


def test_operators_set_prices_within_the_list_price(operator_api: Api, buyer_api: Api) -> None:
    group = make_group()
    (sku,) = skus(5000)
    res = operator_api.post(f"admin/community/groups/{group.pk}/prices", {"sku_id": sku.pk, "price": 6000})
    assert "price" in res.json()["error"]["fields"]
    res = operator_api.post(f"admin/community/groups/{group.pk}/prices", {"sku_id": sku.pk, "price": 3900})
    assert (res.status_code, res.json()["price"], res.json()["list_price"]) == (200, 3900, 5000)
    assert (
        buyer_api.post(f"admin/community/groups/{group.pk}/prices", {"sku_id": sku.pk, "price": 1}).status_code == 403
    )
    assert buyer_api.get(f"community/groups/{group.pk}/prices").status_code == 403
