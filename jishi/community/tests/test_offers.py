"""Group-exclusive prices at checkout: members pay them, others and former members do not."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from conftest import Api
from jishi.community import groups, offers
from jishi.marketing import coupons
from jishi.marketing.models import Coupon, CouponKind, CouponStatus, CouponTemplate
from jishi.orders import services as orders
from jishi.orders.models import Order, OrderStatus
from jishi.payments.services import pay_with_wallet
from jishi.testing.factories import OperatorFactory
from jishi.testing.shop import shopper, skus

from .conftest import make_group, member

pytestmark = pytest.mark.django_db

OWN_STEPS = {"item_price", "shipping", "community_price", "coupons"}


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


# --- members-only coupons (群专享券) ---------------------------------------------------------------


def coupon_template(**kw: Any) -> CouponTemplate:
    values: dict[str, Any] = {
        "name": "茶友专享券",
        "kind": CouponKind.FIXED,
        "amount": 800,
        "valid_until": timezone.now() + timedelta(days=30),
        "total_quantity": 100,
        **kw,
    }
    return CouponTemplate.objects.create(**values)


@pytest.fixture
def group_coupon(operator_api: Api) -> tuple[Any, CouponTemplate]:
    """A group and its ¥8-off coupon, made its own through the operator's endpoint."""
    group = make_group()
    template = coupon_template()
    res = operator_api.post(f"admin/community/groups/{group.pk}/coupons", {"template_id": template.pk})
    assert (res.status_code, res.json()["rule"]) == (200, "立减8")
    return group, template


def order_with(s: Any, sku: Any, coupon_ids: list[int] | None) -> Any:
    return Api(s.token).post(
        "orders",
        {"lines": [{"sku_id": sku.pk, "quantity": 1}], "address_id": s.address.pk, "coupon_ids": coupon_ids},
    )


def test_a_member_sees_claims_and_uses_the_group_coupon(group_coupon: tuple[Any, Any]) -> None:
    group, template = group_coupon
    (sku,) = skus(5000)
    s = shopper()
    member(group, s.user)
    api = Api(s.token)

    listed = api.get(f"community/groups/{group.pk}/coupons").json()
    assert [(c["template_id"], c["left"]) for c in listed] == [(template.pk, 100)]
    assert template.pk in [o["id"] for o in api.get("coupons/available").json()["items"]]
    claimed = api.post(listed[0]["claim_path"].removeprefix("/api/v1/"))
    assert claimed.status_code == 201

    res = order_with(s, sku, [claimed.json()["id"]])
    assert res.status_code == 201, res.json()
    assert Order.objects.get(pk=res.json()["id"]).discount_amount == 800


def test_a_non_member_neither_sees_nor_claims_nor_uses_it(group_coupon: tuple[Any, Any]) -> None:
    group, template = group_coupon
    s = shopper()
    api = Api(s.token)
    assert template.pk not in [o["id"] for o in api.get("coupons/available").json()["items"]]
    res = api.post(f"coupons/{template.pk}/claim")
    assert (res.status_code, res.json()["error"]["code"]) == (403, "coupon_not_eligible")
    assert api.get(f"community/groups/{group.pk}/coupons").status_code == 403


def test_leaving_the_group_ends_the_coupon_for_new_orders(group_coupon: tuple[Any, Any]) -> None:
    group, template = group_coupon
    (sku,) = skus(5000)
    s = shopper()
    member(group, s.user)
    api = Api(s.token)
    coupon_id = api.post(f"coupons/{template.pk}/claim").json()["id"]
    groups.leave(s.user, group.pk)

    res = order_with(s, sku, [coupon_id])
    assert res.status_code == 422
    assert (res.json()["error"]["code"], res.json()["error"]["fields"]) == (
        "coupon_not_eligible",
        {"coupon_ids": [f"{coupon_id}: coupon_not_eligible"]},
    )
    # Not picked by default either: the order is placed at the full price.
    res = order_with(s, sku, None)
    assert res.status_code == 201
    assert Order.objects.get(pk=res.json()["id"]).discount_amount == 0
    assert Coupon.objects.get(pk=coupon_id).status == CouponStatus.UNUSED


def test_an_order_placed_before_leaving_keeps_its_discount(group_coupon: tuple[Any, Any]) -> None:
    group, template = group_coupon
    (sku,) = skus(5000)
    s = shopper(wallet=10_000)
    member(group, s.user)
    coupon_id = Api(s.token).post(f"coupons/{template.pk}/claim").json()["id"]
    order_id = order_with(s, sku, [coupon_id]).json()["id"]
    groups.leave(s.user, group.pk)

    pay_with_wallet(s.user, order_id)

    order = Order.objects.get(pk=order_id)
    assert (order.status, order.discount_amount) == (OrderStatus.PAID, 800)
    coupon = Coupon.objects.get(pk=coupon_id)
    assert (coupon.status, coupon.order_id) == (CouponStatus.USED, order_id)


def test_a_coupon_already_held_by_buyers_cannot_become_a_group_coupon(operator_api: Api) -> None:
    group = make_group()
    template = coupon_template(name="通用券")
    coupons.claim(shopper().user, template.pk)
    res = operator_api.post(f"admin/community/groups/{group.pk}/coupons", {"template_id": template.pk})
    assert (res.status_code, list(res.json()["error"]["fields"])) == (422, ["template_id"])
    template.refresh_from_db()
    assert template.audience == ""


def test_the_checkout_picker_says_a_left_members_group_coupon_is_not_usable(group_coupon: tuple[Any, Any]) -> None:
    from jishi.storefront.checkout_options import coupon_choices

    group, template = group_coupon
    (sku,) = skus(5000)
    s = shopper()
    member(group, s.user)
    coupons.claim(s.user, template.pk)

    def choice() -> tuple[int, str]:
        checkout = orders.preview(s.user, [(sku.pk, 1)], s.address.pk, {})
        (only,) = coupon_choices(checkout)
        return only.saving, only.reason

    assert choice() == (800, "")
    groups.leave(s.user, group.pk)
    assert choice() == (0, "仅限指定人群使用")
