"""Points at checkout and member benefits in the pipeline; expiry and FIFO lots."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from conftest import Api
from jishi.core.events import deliver_pending
from jishi.core.ledger import check_ledger
from jishi.loyalty import points
from jishi.loyalty.models import OrderPoints, PointsLot
from jishi.orders import services as orders
from jishi.orders.models import Order
from jishi.testing.factories import OperatorFactory
from jishi.testing.shop import Shopper, skus

from .conftest import complete, make_level, pay, place, points_of, refund, set_rules

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def give(s: Shopper, amount: int, key: str = "gift") -> None:
    points.credit(s.user.pk, amount, kind="points_adjust", key=f"{key}:{s.user.pk}")


def preview(s: Shopper, sku_id: int, use_points: int) -> dict:
    body = {"lines": [{"sku_id": sku_id, "quantity": 1}], "address_id": s.address.pk, "use_points": use_points}
    return Api(s.token).post("orders/preview", body).json()


def test_points_deduct_whole_yuan_and_the_preview_says_it_rounded(rich: Shopper) -> None:
    give(rich, 5000)
    (sku,) = skus(10000)
    body = preview(rich, sku.pk, 1250)
    points_adj = [a for a in body["adjustments"] if a["step"] == "points"]
    assert points_adj == [
        {
            "step": "points",
            "label": "积分抵扣（使用 1200 积分）：按 100 的整数倍使用，已向下取整",
            "amount": -1200,
            "per_line": [1200],
        }
    ]
    assert body["payable"] == 10000 - 1200 + 1000


def test_points_are_capped_at_half_the_goods_after_discounts(rich: Shopper) -> None:
    give(rich, 100_000)
    (sku,) = skus(9999)
    body = preview(rich, sku.pk, 100_000)
    # 50% of 9999 = 4999.5 fen → 49 whole yuan → 4900 points
    assert body["discount_amount"] == 4900
    assert body["adjustments"][0]["label"] == "积分抵扣（使用 4900 积分）：最多抵扣商品金额的 50%"


def test_rate_and_share_are_settings(rich: Shopper) -> None:
    set_rules(redeem_points_per_yuan=50, max_deduction_bp=1000)
    give(rich, 100_000)
    (sku,) = skus(20000)
    assert preview(rich, sku.pk, 100_000)["discount_amount"] == 2000  # 10% → ¥20 → 1000 points


def test_placing_spends_the_points_in_the_order_transaction(rich: Shopper) -> None:
    give(rich, 3000)
    order = place(rich, 10000, use_points=2000)
    assert order.discount_amount == 2000
    assert order.payable == 9000
    assert points_of(rich.user) == 1000
    row = OrderPoints.objects.get(order=order)
    assert (row.used, row.used_value) == (2000, 2000)
    assert order.meta["points"]["used"] == 2000
    assert check_ledger() == []


def test_not_enough_points_is_409_and_no_order(rich: Shopper) -> None:
    give(rich, 300)
    (sku,) = skus(10000, stock=5)
    response = Api(rich.token).post(
        "orders", {"lines": [{"sku_id": sku.pk, "quantity": 1}], "address_id": rich.address.pk, "use_points": 500}
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "insufficient_points"
    assert Order.objects.count() == 0
    assert points_of(rich.user) == 300


def test_points_spent_between_preview_and_commit_abort_the_order(rich: Shopper) -> None:
    """The commit re-checks: lots are re-read under the member lock."""
    give(rich, 1000)
    (sku,) = skus(10000, stock=5)
    checkout = orders.preview(rich.user, [(sku.pk, 1)], rich.address.pk, {"use_points": 1000})
    points.debit(rich.user.pk, 500, kind="points_adjust", key="elsewhere")
    with pytest.raises(points.InsufficientPoints):
        orders._write_order(rich.user, checkout, "")
    assert Order.objects.count() == 0


def test_closing_an_unpaid_order_returns_its_points(rich: Shopper) -> None:
    give(rich, 1000)
    order = place(rich, 10000, use_points=1000)
    orders.close_order(order)
    deliver_pending()
    assert points_of(rich.user) == 1000
    assert points.open_lots_total(rich.user.pk) == 1000


@pytest.mark.parametrize(
    ("refund_amount", "returned"),
    # Points paid for goods: they return in proportion to the goods refunded, 1000 × refunded // 9000
    # (10000 paid less the 1000 shipping), and all of them when every unit comes back.
    [(None, 1000), (4500, 500), (1, 0), (8999, 999)],
)
def test_refunds_return_used_points_in_proportion(rich: Shopper, refund_amount: int | None, returned: int) -> None:
    set_rules(first_order_points=0)
    give(rich, 1000)
    order = pay(rich, place(rich, 10000, use_points=1000))  # 10000 − 1000 + 1000 shipping = 10000 paid
    assert order.paid_amount == 10000
    refund(order, refund_amount)
    assert points_of(rich.user) == returned


def test_member_discount_and_free_shipping_from_the_level(rich: Shopper) -> None:
    make_level("金卡", 0, discount_bp=500, free_shipping=True)
    (sku,) = skus(9999)
    body = preview(rich, sku.pk, 0)
    assert body["adjustments"] == [
        {"step": "member_discount", "label": "金卡会员 5% 优惠", "amount": -500, "per_line": [500]},
        {"step": "shipping", "label": "运费", "amount": 0, "per_line": None},
    ]
    assert body["payable"] == 9499


def test_points_cap_counts_the_member_discount_first(rich: Shopper) -> None:
    make_level("金卡", 0, discount_bp=1000)
    give(rich, 100_000)
    (sku,) = skus(10000)
    body = preview(rich, sku.pk, 100_000)
    assert [a["amount"] for a in body["adjustments"]] == [-1000, -4500, 1000]  # 50% of 9000


def test_no_level_benefits_no_extra_queries(rich: Shopper, django_assert_max_num_queries) -> None:
    make_level("普通会员", 0)
    (sku,) = skus(1000)
    from jishi.loyalty.levels import level_table
    from jishi.loyalty.steps import MemberDiscountStep, PointsStep

    level_table()  # warm the cache
    checkout = orders.load_checkout(rich.user, [(sku.pk, 1)], rich.address.pk)
    with django_assert_max_num_queries(0):
        MemberDiscountStep().apply(checkout)
        PointsStep().apply(checkout)  # use_points not asked for


def test_expiry_end_of_next_year_and_oldest_first(rich: Shopper) -> None:
    set_rules(expiry_mode="year_end_next")
    jan_2025 = datetime(2025, 1, 10, 12, tzinfo=SHANGHAI)
    jun_2026 = datetime(2026, 6, 1, 12, tzinfo=SHANGHAI)
    points.credit(rich.user.pk, 300, kind="points_adjust", key="a", now=jan_2025)
    points.credit(rich.user.pk, 200, kind="points_adjust", key="b", now=jun_2026)
    first, second = PointsLot.objects.filter(user=rich.user).order_by("id")
    assert first.expires_at == datetime(2027, 1, 1, tzinfo=SHANGHAI)
    assert second.expires_at == datetime(2028, 1, 1, tzinfo=SHANGHAI)

    points.debit(rich.user.pk, 250, kind="points_adjust", key="spend")  # all from the 2025 lot
    assert points.expire_due_points(now=datetime(2026, 12, 31, 23, 59, 59, tzinfo=SHANGHAI)) == 0
    assert points.expire_due_points(now=datetime(2027, 1, 1, tzinfo=SHANGHAI)) == 50
    assert points_of(rich.user) == 200
    first.refresh_from_db()
    assert (first.remaining, first.expired) == (0, 50)
    assert points.expire_due_points(now=datetime(2027, 1, 2, tzinfo=SHANGHAI)) == 0
    assert check_ledger() == []


def test_points_returned_to_an_expired_lot_expire_again(rich: Shopper) -> None:
    set_rules(expiry_mode="year_end_next")
    points.credit(rich.user.pk, 100, kind="points_adjust", key="a", now=datetime(2024, 5, 1, tzinfo=SHANGHAI))
    points.debit(rich.user.pk, 100, kind="points_checkout", key="spend")
    points.restore(rich.user.pk, "spend", 100, key="back")
    assert points.expire_due_points(now=datetime(2026, 1, 1, tzinfo=SHANGHAI)) == 100
    assert points_of(rich.user) == 0


def test_earned_points_follow_the_expiry_setting_never_by_default(rich: Shopper) -> None:
    complete(pay(rich, place(rich, 1000)))
    assert list(PointsLot.objects.filter(user=rich.user).values_list("expires_at", flat=True)) == [None, None]


def test_a_full_refund_after_shipping_returns_every_point_spent(rich: Shopper) -> None:
    """Defect 9: the handler passed `full` but not `all_units`, and prorated on an amount with
    shipping in it: 10,000 points spent came back as 9,166."""
    set_rules(first_order_points=0)
    give(rich, 10_000)
    order = pay(rich, place(rich, 20_000, use_points=10_000))  # 20,000 − 10,000 (¥100) + 1,000 shipping
    assert (order.paid_amount, points_of(rich.user)) == (11_000, 0)
    orders.ship_order(OperatorFactory(), order.pk, "SF", "SF1")  # shipped: its fee is spent

    refund(order)  # every unit back, the shipping fee kept

    assert points_of(rich.user) == 10_000
    assert check_ledger() == []
