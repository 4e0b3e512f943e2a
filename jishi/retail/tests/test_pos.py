"""POS: offline sales through the checkout pipeline, member codes, tenders, counter refunds."""

from __future__ import annotations

import time
from typing import Any

import pytest

from conftest import Api
from jishi.accounts.services import issue_token
from jishi.core.errors import Conflict
from jishi.core.events import deliver_pending
from jishi.core.ledger import check_ledger
from jishi.inventory.models import StockItem
from jishi.loyalty import points
from jishi.orders.models import Order, OrderStatus
from jishi.payments import services as payments
from jishi.payments.models import Payment
from jishi.retail import checkout, fulfilment, pos
from jishi.retail.models import CounterSale, Fulfilment
from jishi.retail.testing import clerk_of, make_store, point_from
from jishi.testing.factories import SkuFactory, UserFactory
from jishi.testing.shop import fund_wallet

pytestmark = pytest.mark.django_db


@pytest.fixture
def goods(store: Any) -> list[Any]:
    items = [SkuFactory(price=p, barcode=f"690000000{i}", stock=20) for i, p in enumerate((1990, 4550, 800))]
    from jishi.inventory import services as inventory

    for sku in items:
        inventory.set_on_hand(sku.pk, 10, location=store.location)
    return items


def _on_hand(sku: Any, store: Any) -> int:
    return StockItem.objects.get(sku=sku, location=store.location).on_hand


def _basket(goods: list[Any]) -> list[dict[str, Any]]:
    return [{"barcode": goods[0].barcode, "quantity": 2}, {"barcode": goods[1].barcode, "quantity": 1}]


def test_cash_sale_is_an_offline_order_from_the_store_shelf(clerk_api: Api, store: Any, goods: list[Any]) -> None:
    member = UserFactory()
    body = {"member_id": member.pk, "lines": _basket(goods), "tender": "cash"}
    resp = clerk_api.post(f"retail/staff/stores/{store.pk}/sales", body)
    assert resp.status_code == 201, resp.content
    sale = resp.json()
    assert (sale["status"], sale["payable"], sale["pay_url"]) == ("completed", 8530, "")
    assert [(line["name"], line["quantity"], line["paid_amount"]) for line in sale["receipt"]["lines"]] == [
        (goods[0].product.name, 2, 3980),
        (goods[1].product.name, 1, 4550),
    ]
    order = Order.objects.get(pk=sale["order_id"])
    assert (order.meta["channel"], order.location_id, order.shipping_fee, order.user_id) == (
        "offline",
        store.location_id,
        0,
        member.pk,
    )
    assert order.payment_method == "cash"
    assert [_on_hand(s, store) for s in goods] == [8, 9, 10]
    assert Fulfilment.objects.get(order=order).status == "sold"
    assert check_ledger() == []


def test_an_offline_sale_earns_the_same_points_as_the_same_online_order(
    clerk: Any, store: Any, goods: list[Any]
) -> None:
    online, offline = UserFactory(), UserFactory()
    fund_wallet(online, 100_000)
    fund_wallet(offline, 100_000)
    lines = [(goods[0].pk, 2), (goods[1].pk, 1)]
    # The same basket bought online, collected at the store (no shipping fee to earn on).
    [order] = checkout.place(online, lines, None, {}, mode="pickup", store_id=store.pk)
    payments.pay_with_wallet(online, order.pk)
    for status in ("picking", "ready_for_pickup"):
        fulfilment.advance(clerk, order.pk, status)
    fulfilment.verify_pickup(clerk, store.pk, Fulfilment.objects.get(order=order).pickup_code)
    pos.ring_up(
        clerk,
        store.pk,
        offline,
        [pos.BasketLine(2, barcode=goods[0].barcode), pos.BasketLine(1, sku_id=goods[1].pk)],
        tender="wallet",
    )
    deliver_pending()
    assert points.balance(online.pk) > 0
    assert points.balance(offline.pk) == points.balance(online.pk)
    online_order = Order.objects.get(pk=order.pk)
    offline_order = Order.objects.get(user=offline)
    assert online_order.status == offline_order.status == OrderStatus.COMPLETED
    assert online_order.paid_amount == offline_order.paid_amount == 8530
    assert "channel" not in online_order.meta
    assert check_ledger() == []


def test_points_spent_at_the_counter_as_online(clerk: Any, store: Any, goods: list[Any]) -> None:
    member = UserFactory()
    first, _pay = pos.ring_up(clerk, store.pk, member, [pos.BasketLine(5, sku_id=goods[1].pk)], tender="cash")
    deliver_pending()
    earned = points.balance(member.pk)
    assert earned >= 200
    sale, _pay = pos.ring_up(
        clerk, store.pk, member, [pos.BasketLine(1, sku_id=goods[1].pk)], tender="card", use_points=200
    )
    assert sale.order.discount_amount == 200
    assert sale.order.payable == 4350
    assert points.balance(member.pk) == earned - 200


def test_counter_refund_reverses_points_and_stock_exactly(
    clerk_api: Api, clerk: Any, store: Any, goods: list[Any]
) -> None:
    member = UserFactory()
    before = points.balance(member.pk)
    sale, _pay = pos.ring_up(
        clerk,
        store.pk,
        member,
        [pos.BasketLine(2, sku_id=goods[0].pk), pos.BasketLine(3, sku_id=goods[2].pk)],
        tender="cash",
    )
    deliver_pending()
    assert points.balance(member.pk) > before
    assert [_on_hand(s, store) for s in goods] == [8, 10, 7]
    resp = clerk_api.post(f"retail/staff/sales/{sale.order_id}/refund", {"reason": "不想要了"})
    assert resp.status_code == 200, resp.content
    assert resp.json()["amount"] == 2 * 1990 + 3 * 800
    deliver_pending()
    order = Order.objects.get(pk=sale.order_id)
    assert (order.status, order.refunded_amount) == (OrderStatus.REFUNDED, order.paid_amount)
    assert points.balance(member.pk) == before
    assert [_on_hand(s, store) for s in goods] == [10, 10, 10]
    assert Payment.objects.get(order=order).refunded_amount == order.paid_amount
    assert check_ledger() == []


def test_partial_counter_refund(clerk_api: Api, clerk: Any, store: Any, goods: list[Any]) -> None:
    member = UserFactory()
    sale, _pay = pos.ring_up(clerk, store.pk, member, [pos.BasketLine(3, sku_id=goods[2].pk)], tender="cash")
    line = sale.order.lines.get()
    resp = clerk_api.post(
        f"retail/staff/sales/{sale.order_id}/refund", {"lines": [{"line_id": line.pk, "quantity": 1}]}
    )
    assert resp.status_code == 200
    assert resp.json()["amount"] == 800
    assert _on_hand(goods[2], store) == 8


def test_clerk_of_another_store_cannot_ring_up_or_refund(store: Any, clerk: Any, goods: list[Any]) -> None:
    other = Api(issue_token(clerk_of(make_store("B店", at=point_from(store, 5000)), UserFactory())))
    member = UserFactory()
    body = {"member_id": member.pk, "lines": _basket(goods), "tender": "cash"}
    assert other.post(f"retail/staff/stores/{store.pk}/sales", body).status_code == 403
    sale, _pay = pos.ring_up(clerk, store.pk, member, [pos.BasketLine(1, sku_id=goods[0].pk)], tender="cash")
    assert other.post(f"retail/staff/sales/{sale.order_id}/refund", {}).status_code == 403
    assert other.get(f"retail/staff/sales/{sale.order_id}").status_code == 403


def test_unknown_barcode_writes_nothing(clerk_api: Api, store: Any, goods: list[Any]) -> None:
    body = {"member_id": UserFactory().pk, "lines": [{"barcode": "nope", "quantity": 1}], "tender": "cash"}
    resp = clerk_api.post(f"retail/staff/stores/{store.pk}/sales", body)
    assert resp.status_code == 404
    assert resp.json()["error"]["code"] == "barcode_unknown"
    assert Order.objects.count() == 0


def test_wallet_short_writes_nothing(clerk_api: Api, store: Any, goods: list[Any]) -> None:
    body = {"member_id": UserFactory().pk, "lines": _basket(goods), "tender": "wallet"}
    resp = clerk_api.post(f"retail/staff/stores/{store.pk}/sales", body)
    assert resp.status_code == 409
    assert Order.objects.count() == 0
    assert [_on_hand(s, store) for s in goods] == [10, 10, 10]
    assert StockItem.objects.get(sku=goods[0], location=store.location).reserved == 0


def test_qr_sale_completes_when_the_provider_pays(clerk: Any, store: Any, goods: list[Any]) -> None:
    member = UserFactory()
    sale, pay = pos.ring_up(clerk, store.pk, member, [pos.BasketLine(1, sku_id=goods[0].pk)], tender="sandbox")
    assert pay["pay_url"]
    assert Order.objects.get(pk=sale.order_id).status == OrderStatus.PENDING_PAYMENT
    payments.approve_sandbox_payment(member, pay["payment_id"])
    assert payments.deliver_sandbox_notify(pay["payment_id"]) == "delivered"  # its signed notify
    deliver_pending()
    assert Order.objects.get(pk=sale.order_id).status == OrderStatus.COMPLETED
    assert _on_hand(goods[0], store) == 9
    assert CounterSale.objects.get(order_id=sale.order_id).tender == "sandbox"


def test_member_code_identifies_once(clerk_api: Api, buyer_api: Api, buyer: Any) -> None:
    code = buyer_api.get("retail/member-code").json()
    assert code["expires_in"] == 60
    resp = clerk_api.post("retail/staff/members/identify", {"code": code["token"]})
    assert resp.status_code == 200
    assert resp.json()["member_id"] == buyer.pk
    replay = clerk_api.post("retail/staff/members/identify", {"code": code["token"]})
    assert replay.status_code == 409
    assert replay.json()["error"]["code"] == "member_code_used"


def test_expired_member_code_is_refused(clerk_api: Api, buyer: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    token = pos.member_code(buyer)["token"]
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 61)
    resp = clerk_api.post("retail/staff/members/identify", {"code": token})
    assert resp.status_code == 409
    assert resp.json()["error"]["code"] == "member_code_expired"


def test_forged_member_code_is_refused(buyer: Any) -> None:
    token = pos.member_code(buyer)["token"]
    with pytest.raises(Exception) as exc:
        pos.redeem_member_code(token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    assert getattr(exc.value, "code", "") == "member_code_invalid"


def test_member_by_phone(clerk_api: Api, buyer: Any) -> None:
    resp = clerk_api.post("retail/staff/members/identify", {"phone": buyer.phone})
    assert resp.json()["member_id"] == buyer.pk
    assert "****" in resp.json()["phone"]
    assert clerk_api.post("retail/staff/members/identify", {"phone": "10000000000"}).status_code == 404


def test_code_used_twice_in_services_raises_conflict(buyer: Any) -> None:
    token = pos.member_code(buyer)["token"]
    pos.redeem_member_code(token)
    with pytest.raises(Conflict):
        pos.redeem_member_code(token)


def _basket_of(store: Any, size: int, start: int) -> list[pos.BasketLine]:
    from jishi.inventory import services as inventory

    skus = [SkuFactory(price=990 + i, barcode=f"69{start + i:011d}", stock=0) for i in range(size)]
    for sku in skus:
        inventory.set_on_hand(sku.pk, 50, location=store.location)
    return [pos.BasketLine(quantity=1 + i % 2, barcode=sku.barcode or "") for i, sku in enumerate(skus)]


# A cash sale of any size: the clerk and store, the barcodes, pricing, stock reserved and later
# taken (three statements each, whatever the number of lines), order and lines, board row,
# counter sale, the payment booked through the ledger, shipped, completed, and the savepoints
# of the services it runs (12 of the 52). It was 68 for ten lines, one UPDATE per line twice.
POS_SALE_STATEMENTS = 52


def test_a_ten_line_cash_sale_costs_a_fixed_number_of_statements(
    clerk: Any, store: Any, django_assert_num_queries: Any
) -> None:
    ten, two = _basket_of(store, 10, 0), _basket_of(store, 2, 100)
    pos.ring_up(clerk, store.pk, UserFactory(), two, tender="cash")  # warm the process-wide caches
    member, other = UserFactory(), UserFactory()
    with django_assert_num_queries(POS_SALE_STATEMENTS):
        sale, _pay = pos.ring_up(clerk, store.pk, member, ten, tender="cash")
    assert Order.objects.get(pk=sale.order_id).status == OrderStatus.COMPLETED
    assert StockItem.objects.get(sku__barcode=ten[1].barcode, location=store.location).on_hand == 48
    with django_assert_num_queries(POS_SALE_STATEMENTS):  # no statement per line
        pos.ring_up(clerk, store.pk, other, two, tender="cash")


def test_a_basket_short_of_one_line_takes_no_stock_at_all(clerk: Any, store: Any) -> None:
    basket = _basket_of(store, 3, 200)
    greedy = [*basket[:2], pos.BasketLine(quantity=51, barcode=basket[2].barcode)]
    with pytest.raises(Conflict) as caught:
        pos.ring_up(clerk, store.pk, UserFactory(), greedy, tender="cash")
    assert caught.value.code == "out_of_stock"
    short = StockItem.objects.get(sku__barcode=basket[2].barcode, location=store.location)
    assert caught.value.fields == {"sku_id": [str(short.sku_id)]}
    items = StockItem.objects.filter(sku__barcode__in=[line.barcode for line in basket], location=store.location)
    assert sorted((i.on_hand, i.reserved) for i in items) == [(50, 0)] * 3


def test_a_coupon_takes_the_same_off_at_the_counter_as_online(clerk: Any, store: Any, goods: list[Any]) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from jishi.marketing import coupons
    from jishi.marketing.models import Coupon, CouponKind, CouponTemplate

    template = CouponTemplate.objects.create(
        name="满50减8",
        kind=CouponKind.THRESHOLD,
        amount=800,
        min_spend=5000,
        valid_until=timezone.now() + timedelta(days=30),
        total_quantity=10,
        per_person_limit=2,
    )
    online, offline = UserFactory(), UserFactory()
    fund_wallet(online, 100_000)
    lines = [(goods[0].pk, 2), (goods[1].pk, 1)]  # 85.30 yuan
    kept = coupons.claim(online, template.pk)
    [order] = checkout.place(online, lines, None, {"coupon_ids": [kept.pk]}, mode="pickup", store_id=store.pk)
    counter = coupons.claim(offline, template.pk)
    basket = [pos.BasketLine(q, sku_id=s) for s, q in lines]
    sale, _pay = pos.ring_up(clerk, store.pk, offline, basket, tender="cash", coupon_ids=[counter.pk])
    assert (sale.order.discount_amount, sale.order.payable) == (order.discount_amount, order.payable) == (800, 7730)
    assert Coupon.objects.get(pk=counter.pk).status == "used"
    assert check_ledger() == []
