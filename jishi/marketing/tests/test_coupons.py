"""Coupons: claiming, limits, best-combination pricing, explicit choices, use and return."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import Api
from jishi.core import ledger
from jishi.core.models import AuditLog
from jishi.marketing import coupons
from jishi.marketing.models import Coupon, CouponKind, CouponScope, CouponSource, CouponStatus, CouponTemplate
from jishi.orders import services as orders
from jishi.orders.models import Order, OrderStatus
from jishi.payments.services import pay_with_wallet
from jishi.testing.shop import shopper, skus

from .conftest import deliver

pytestmark = pytest.mark.django_db


def place(s: Any, lines: list[tuple[int, int]], coupon_ids: Any = None) -> Any:
    return Api(s.token).post(
        "orders",
        {
            "lines": [{"sku_id": k, "quantity": q} for k, q in lines],
            "address_id": s.address.pk,
            "coupon_ids": coupon_ids,
        },
    )


def preview(s: Any, lines: list[tuple[int, int]], coupon_ids: Any = None) -> Any:
    body: dict[str, Any] = {"lines": [{"sku_id": k, "quantity": q} for k, q in lines], "address_id": s.address.pk}
    if coupon_ids != "omit":
        body["coupon_ids"] = coupon_ids
    return Api(s.token).post("orders/preview", body)


# --- claiming -----------------------------------------------------------------------------


def test_claim_gives_the_buyer_a_coupon_valid_for_the_window(make_template: Any, now: Any) -> None:
    template = make_template(name="新春立减", amount=800)
    s = shopper()

    response = Api(s.token).post(f"coupons/{template.pk}/claim")

    assert response.status_code == 201
    body = response.json()
    assert body["template"]["rule"] == "立减8"
    assert body["status"] == "unused"
    coupon = Coupon.objects.get(pk=body["id"])
    assert (coupon.user_id, coupon.seq, coupon.source) == (s.user.pk, 1, CouponSource.CLAIM)
    assert coupon.valid_until == template.valid_until
    assert CouponTemplate.objects.get(pk=template.pk).issued == 1


def test_valid_days_count_from_the_claim(make_template: Any, now: Any) -> None:
    template = make_template(valid_until=None, valid_days=7)
    s = shopper()

    coupon = coupons.claim(s.user, template.pk, now=now)

    assert (coupon.valid_from, coupon.valid_until) == (now, now + timedelta(days=7))


def test_per_person_limit_refuses_the_extra_claim(make_template: Any) -> None:
    template = make_template(per_person_limit=2)
    api = Api(shopper().token)

    statuses = [api.post(f"coupons/{template.pk}/claim").status_code for _ in range(3)]
    last = api.post(f"coupons/{template.pk}/claim").json()

    assert statuses == [201, 201, 409]
    assert last["error"]["code"] == "coupon_limit_reached"
    assert CouponTemplate.objects.get(pk=template.pk).issued == 2


def test_claims_stop_at_the_total(make_template: Any) -> None:
    template = make_template(total_quantity=1)
    Api(shopper().token).post(f"coupons/{template.pk}/claim")

    response = Api(shopper().token).post(f"coupons/{template.pk}/claim")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "coupon_sold_out"


@pytest.mark.parametrize(
    ("field", "delta", "code"),
    [
        ("claim_starts_at", timedelta(hours=1), "coupon_claim_not_started"),
        ("claim_ends_at", -timedelta(hours=1), "coupon_claim_ended"),
    ],
)
def test_claim_window(make_template: Any, now: Any, field: str, delta: timedelta, code: str) -> None:
    template = make_template(**{field: now + delta})

    with pytest.raises(Exception) as exc:
        coupons.claim(shopper().user, template.pk, now=now)

    assert exc.value.code == code  # type: ignore[attr-defined]


def test_new_member_coupon_is_refused_after_a_paid_order(make_template: Any) -> None:
    template = make_template(new_member_only=True)
    s = shopper(wallet=100_000)
    (sku,) = skus(1000)
    order = orders.place_order(s.user, [(sku.pk, 1)], s.address.pk, {"coupon_ids": []})
    pay_with_wallet(s.user, order.pk)

    response = Api(s.token).post(f"coupons/{template.pk}/claim")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "coupon_new_member_only"


def test_new_member_gifts_are_issued_once_when_coupons_are_first_viewed(make_template: Any) -> None:
    gift = make_template(name="新人礼", auto_issue_new_member=True, claimable=False, new_member_only=True)
    s = shopper()
    api = Api(s.token)

    first = api.get("coupons/mine").json()["items"]
    second = api.get("coupons/mine").json()["items"]

    assert [c["template"]["id"] for c in first] == [gift.pk]
    assert len(second) == 1
    assert Coupon.objects.get(user=s.user).source == CouponSource.NEW_MEMBER


def test_available_lists_claimable_templates_with_what_the_buyer_holds(make_template: Any) -> None:
    open_one = make_template(name="可领", per_person_limit=1)
    make_template(name="不展示", claimable=False)
    s = shopper()
    coupons.claim(s.user, open_one.pk)

    items = Api(s.token).get("coupons/available").json()["items"]

    assert [(i["name"], i["held"], i["can_claim"], i["reason"]) for i in items] == [
        ("可领", 1, False, "coupon_limit_reached")
    ]


def test_operator_issues_to_a_segment_within_limits(make_template: Any, operator_api: Api) -> None:
    template = make_template(total_quantity=2, claimable=False)
    buyers = [shopper() for _ in range(3)]

    response = operator_api.post(
        f"/api/v1/admin/coupons/templates/{template.pk}/issue", {"phones": [b.user.phone for b in buyers]}
    )

    assert response.json() == {"issued": 2, "skipped": 1}
    assert Coupon.objects.filter(template=template, source=CouponSource.ISSUE).count() == 2
    assert AuditLog.objects.filter(action="coupon.issue_to_segment").count() == 1


def test_buyers_cannot_issue(make_template: Any, buyer_api: Api) -> None:
    template = make_template()

    response = buyer_api.post(f"/api/v1/admin/coupons/templates/{template.pk}/issue", {"user_ids": [1]})

    assert response.status_code == 403


def test_operator_creates_a_threshold_template(operator_api: Api, now: Any) -> None:
    response = operator_api.post(
        "/api/v1/admin/coupons/templates",
        {
            "name": "满100减20",
            "kind": "threshold",
            "amount": 2000,
            "min_spend": 10000,
            "valid_days": 7,
            "total_quantity": 500,
        },
    )

    assert response.status_code == 201
    assert response.json()["rule"] == "满100减20"


def test_a_threshold_template_below_its_amount_is_refused(operator_api: Api) -> None:
    response = operator_api.post(
        "/api/v1/admin/coupons/templates",
        {"name": "坏券", "kind": "threshold", "amount": 2000, "min_spend": 1000, "valid_days": 7, "total_quantity": 5},
    )

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_coupon_template"
    assert list(response.json()["error"]["fields"]) == ["min_spend"]


# --- pricing ------------------------------------------------------------------------------


def hold(user: Any, *templates: CouponTemplate) -> list[Coupon]:
    return [coupons.claim(user, t.pk) for t in templates]


def test_auto_picks_the_largest_discount(make_template: Any) -> None:
    s = shopper()
    (sku,) = skus(6000)
    small, big, _unusable = hold(
        s.user,
        make_template(name="立减5", amount=500),
        make_template(name="满100减30", kind=CouponKind.THRESHOLD, amount=3000, min_spend=10000),
        make_template(name="满200减80", kind=CouponKind.THRESHOLD, amount=8000, min_spend=20000),
    )

    body = preview(s, [(sku.pk, 2)], "omit").json()

    assert body["discount_amount"] == 3000
    assert [a["label"] for a in body["adjustments"] if a["step"] == "coupons"] == ["优惠券：满100减30"]
    assert body["payable"] == 12000 - 3000 + 1000


def test_percentage_coupon_is_capped(make_template: Any) -> None:
    s = shopper()
    (sku,) = skus(50000)
    hold(s.user, make_template(name="八折", kind=CouponKind.PERCENT, amount=0, percent_off_bp=2000, max_discount=5000))

    body = preview(s, [(sku.pk, 1)], None).json()

    assert body["discount_amount"] == 5000


def test_stackable_coupons_combine_threshold_first_then_percentage(make_template: Any) -> None:
    s = shopper()
    (sku,) = skus(10000)
    hold(
        s.user,
        make_template(
            name="满100减20", kind=CouponKind.THRESHOLD, amount=2000, min_spend=10000, stack_with_coupons=True
        ),
        make_template(name="九折", kind=CouponKind.PERCENT, amount=0, percent_off_bp=1000, stack_with_coupons=True),
        make_template(name="立减25", amount=2500),
    )

    body = preview(s, [(sku.pk, 1)], None).json()

    # 100 − 20 = 80, then 10% of 80 = 8: 28 beats the lone ¥25 coupon.
    assert body["discount_amount"] == 2800


def test_category_scope_discounts_only_its_lines(make_template: Any) -> None:
    s = shopper()
    tea, fruit = skus(3000, 4000)
    hold(
        s.user,
        make_template(name="茶叶券", amount=1000, scope=CouponScope.CATEGORIES, category_ids=[tea.product.category_id]),
    )

    body = preview(s, [(tea.pk, 1), (fruit.pk, 1)], None).json()

    assert [line["discount"] for line in body["lines"]] == [1000, 0]


def test_product_scope_and_threshold_on_eligible_lines_only(make_template: Any) -> None:
    s = shopper()
    cheap, dear = skus(3000, 9000)
    hold(
        s.user,
        make_template(
            kind=CouponKind.THRESHOLD,
            amount=1000,
            min_spend=5000,
            scope=CouponScope.PRODUCTS,
            product_ids=[cheap.product_id],
        ),
    )

    body = preview(s, [(cheap.pk, 1), (dear.pk, 1)], None).json()

    assert body["discount_amount"] == 0


def test_empty_list_uses_no_coupon(make_template: Any) -> None:
    s = shopper()
    (sku,) = skus(6000)
    hold(s.user, make_template())

    assert preview(s, [(sku.pk, 1)], []).json()["discount_amount"] == 0


def test_explicit_coupon_is_used_even_if_not_the_best(make_template: Any) -> None:
    s = shopper()
    (sku,) = skus(6000)
    small, _big = hold(s.user, make_template(amount=300), make_template(amount=900))

    assert preview(s, [(sku.pk, 1)], [small.pk]).json()["discount_amount"] == 300


def test_invalid_explicit_coupons_are_named_with_their_codes(make_template: Any) -> None:
    s = shopper()
    other = shopper()
    (sku,) = skus(6000)
    (theirs,) = hold(other.user, make_template())
    (mine,) = hold(s.user, make_template(kind=CouponKind.THRESHOLD, amount=1000, min_spend=99900))

    foreign = preview(s, [(sku.pk, 1)], [theirs.pk, 999999]).json()
    short = preview(s, [(sku.pk, 1)], [mine.pk]).json()

    assert foreign["error"]["code"] == "coupon_not_found"
    assert foreign["error"]["fields"] == {"coupon_ids": [f"{theirs.pk}: coupon_not_found", "999999: coupon_not_found"]}
    assert short["error"]["code"] == "coupon_threshold_not_met"


def test_two_coupons_that_do_not_stack_are_refused(make_template: Any) -> None:
    s = shopper()
    (sku,) = skus(6000)
    a, b = hold(s.user, make_template(stack_with_coupons=True), make_template())

    response = place(s, [(sku.pk, 1)], [a.pk, b.pk])

    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {"coupon_ids": [f"{b.pk}: coupon_not_stackable"]}
    assert Order.objects.count() == 0


def test_expired_coupon_is_refused(make_template: Any, now: Any) -> None:
    s = shopper()
    (sku,) = skus(6000)
    (coupon,) = hold(s.user, make_template())
    Coupon.objects.filter(pk=coupon.pk).update(valid_until=now - timedelta(seconds=1))

    assert preview(s, [(sku.pk, 1)], [coupon.pk]).json()["error"]["code"] == "coupon_expired"


def test_picking_coupons_costs_one_query_however_many_the_buyer_holds(make_template: Any) -> None:
    s = shopper()
    sku_list = skus(1000, 2000, 3000)
    hold(s.user, *[make_template(amount=100 * (i + 1), stack_with_coupons=True) for i in range(6)])
    checkout = orders.load_checkout(s.user, [(sku.pk, 1) for sku in sku_list], s.address.pk, {"coupon_ids": None})

    with CaptureQueriesContext(connection) as ctx:
        coupons.apply_to_checkout(checkout)

    # The buyer's coupons with their templates; the best three of six stack (6 + 5 + 4 yuan).
    assert len(ctx.captured_queries) == 1
    assert checkout.discount_amount == 1500


# --- use and return -----------------------------------------------------------------------


def test_placing_the_order_marks_the_coupon_used(make_template: Any) -> None:
    s = shopper()
    (sku,) = skus(6000)
    template = make_template(amount=700)
    (coupon,) = hold(s.user, template)

    response = place(s, [(sku.pk, 1)], None)

    order = Order.objects.get(pk=response.json()["id"])
    coupon.refresh_from_db()
    assert (coupon.status, coupon.order_id) == (CouponStatus.USED, order.pk)
    assert order.meta["coupons"] == [{"id": coupon.pk, "template_id": template.pk, "name": "立减券", "amount": 700}]
    assert order.discount_amount == 700
    assert CouponTemplate.objects.get(pk=template.pk).used == 1


def test_a_used_coupon_cannot_be_used_again(make_template: Any) -> None:
    s = shopper()
    (sku,) = skus(6000)
    (coupon,) = hold(s.user, make_template())
    place(s, [(sku.pk, 1)], [coupon.pk])

    response = place(s, [(sku.pk, 1)], [coupon.pk])

    assert response.json()["error"]["code"] == "coupon_used"


def test_closing_the_unpaid_order_returns_the_coupon(make_template: Any) -> None:
    s = shopper()
    (sku,) = skus(6000)
    template = make_template()
    (coupon,) = hold(s.user, template)
    order = orders.place_order(s.user, [(sku.pk, 1)], s.address.pk, {"coupon_ids": None})

    orders.cancel_order(s.user, order.pk)
    deliver()

    coupon.refresh_from_db()
    assert (coupon.status, coupon.order_id, coupon.used_at) == (CouponStatus.UNUSED, None, None)
    assert CouponTemplate.objects.get(pk=template.pk).used == 0


@pytest.mark.parametrize(("whole", "expected"), [(True, CouponStatus.UNUSED), (False, CouponStatus.USED)])
def test_refund_returns_the_coupon_only_when_the_whole_order_is_refunded(
    make_template: Any, operator: Any, whole: bool, expected: str
) -> None:
    s = shopper(wallet=100_000)
    (sku,) = skus(6000)
    (coupon,) = hold(s.user, make_template())
    order = orders.place_order(s.user, [(sku.pk, 2)], s.address.pk, {"coupon_ids": None})
    pay_with_wallet(s.user, order.pk)
    line = order.lines.get()
    if whole:
        orders.refund_whole_order(Order.objects.get(pk=order.pk), "测试")
    else:
        case = orders.request_after_sale(s.user, order.pk, [(line.pk, 1)], line.paid_amount // 2, "坏了一件")
        orders.approve_after_sale(operator, case.pk)
    deliver()

    coupon.refresh_from_db()
    assert coupon.status == expected
    assert Order.objects.get(pk=order.pk).status == (OrderStatus.REFUNDED if whole else OrderStatus.PAID)
    assert ledger.check_ledger() == []


def test_mine_filters_by_status(make_template: Any, now: Any) -> None:
    s = shopper()
    a, b = hold(s.user, make_template(name="甲"), make_template(name="乙"))
    Coupon.objects.filter(pk=b.pk).update(valid_until=now - timedelta(days=1))
    api = Api(s.token)

    assert [c["id"] for c in api.get("coupons/mine?status=unused").json()["items"]] == [a.pk]
    assert [c["id"] for c in api.get("coupons/mine?status=expired").json()["items"]] == [b.pk]
    assert api.get("coupons/mine?status=bogus").status_code == 422


def test_expire_job_marks_lapsed_coupons(make_template: Any, now: Any) -> None:
    s = shopper()
    (coupon,) = hold(s.user, make_template(valid_until=now + timedelta(days=1)))

    assert coupons.expire_coupons(now=now + timedelta(days=2)) == 1
    coupon.refresh_from_db()
    assert coupon.status == CouponStatus.EXPIRED
