"""Delivery with shortages, pickup-code verification, the leader's commission, uncollected orders."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import Api
from jishi.commission import services as commission
from jishi.commission.models import Commission, CommissionSource, CommissionStatus
from jishi.core import ledger
from jishi.core.events import deliver_pending
from jishi.core.models import AccountKind, OutboxEvent
from jishi.distribution import services as distribution
from jishi.groupbuy import leaders, pickup
from jishi.groupbuy.models import Batch, BatchStatus, PickupOrder, PickupStatus, Shortage
from jishi.notify.models import Message
from jishi.orders import services as orders
from jishi.orders.models import Order, OrderStatus
from jishi.testing.shop import shopper

from .conftest import buy_paid, leader_token, make_batch, make_leader, to_points

pytestmark = pytest.mark.django_db


def _ready(leader: Any, lines: list[tuple[int, int]], prices: tuple[int, ...] = (1000, 2000)) -> tuple[Any, Order]:
    """A batch at the leader's point with one paid order of ``lines`` ([(item index, quantity)])."""
    batch, items = make_batch(prices=prices)
    order = buy_paid(shopper(), batch, leader, [(items[i], q) for i, q in lines])
    to_points(batch)
    pickup.receive_delivery(None, batch.pk, leader.pk)
    deliver_pending()
    return items, order


def test_leader_verifies_a_code_and_the_order_completes() -> None:
    leader = make_leader()
    _items, order = _ready(leader, [(0, 2), (1, 1)])
    code = PickupOrder.objects.get(order=order).code

    response = Api(leader_token(leader)).post("groupbuy/pickups/verify", {"code": code})
    deliver_pending()

    order.refresh_from_db()
    assert response.status_code == 200
    assert response.json()["order_id"] == order.pk
    assert response.json()["status"] == "collected"
    assert order.status == OrderStatus.COMPLETED
    (row,) = Commission.objects.filter(source=CommissionSource.LEADER, line_id__isnull=False).order_by("id")[:1]
    amounts = list(Commission.objects.filter(source=CommissionSource.LEADER).values_list("amount", flat=True))
    assert sorted(amounts) == [200, 200]
    assert row.status == CommissionStatus.FROZEN
    assert row.unfreeze_at == order.completed_at + timedelta(days=7)
    assert ledger.balance_of(leader.user_id, AccountKind.COMMISSION_FROZEN) == 400
    assert ledger.check_ledger() == []


def test_another_leaders_code_is_403() -> None:
    mine, theirs = make_leader("A"), make_leader("B")
    _items, order = _ready(theirs, [(0, 1)])
    code = PickupOrder.objects.get(order=order).code

    response = Api(leader_token(mine)).post("groupbuy/pickups/verify", {"code": code})

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_your_pickup_point"
    assert PickupOrder.objects.get(order=order).status == PickupStatus.READY


def test_a_code_verifies_once() -> None:
    leader = make_leader()
    _items, order = _ready(leader, [(0, 1)])
    code = PickupOrder.objects.get(order=order).code
    api = Api(leader_token(leader))

    api.post("groupbuy/pickups/verify", {"code": code})
    again = api.post("groupbuy/pickups/verify", {"code": code})

    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_collected"
    assert Commission.objects.filter(source=CommissionSource.LEADER).count() == 1


@pytest.mark.parametrize(("code", "status"), [("00000000", 404), ("12ab", 422)])
def test_unknown_or_malformed_code(code: str, status: int) -> None:
    leader = make_leader()

    assert Api(leader_token(leader)).post("groupbuy/pickups/verify", {"code": code}).status_code == status


def test_buyer_who_is_not_a_leader_cannot_verify(buyer_api: Api) -> None:
    response = buyer_api.post("groupbuy/pickups/verify", {"code": "12345678"})

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_leader"


def test_code_not_yet_delivered_is_not_ready() -> None:
    leader = make_leader()
    batch, (item,) = make_batch()
    order = buy_paid(shopper(), batch, leader, [(item, 1)])

    response = Api(leader_token(leader)).post(
        "groupbuy/pickups/verify", {"code": PickupOrder.objects.get(order=order).code}
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_ready"


# --- shortages ----------------------------------------------------------------------


def test_shortage_refunds_the_last_buyers_exactly() -> None:
    leader = make_leader()
    batch, (eggs,) = make_batch(prices=(1000,), group_prices=(333,))
    early = buy_paid(shopper(), batch, leader, [(eggs, 3)])
    late = buy_paid(shopper(), batch, leader, [(eggs, 2)])
    to_points(batch)

    response = Api(leader_token(leader)).post(
        "groupbuy/leader/deliveries", {"batch_id": batch.pk, "shortages": [{"sku_id": eggs.sku_id, "quantity": 3}]}
    )
    deliver_pending()

    early.refresh_from_db()
    late.refresh_from_db()
    assert response.status_code == 201
    assert (late.refunded_amount, late.status) == (666, OrderStatus.REFUNDED)
    assert (early.refunded_amount, early.status) == (333, OrderStatus.PAID)
    assert early.lines.get().refunded_quantity == 1
    assert Shortage.objects.get().refunded_amount == 999
    assert PickupOrder.objects.get(order=late).status == PickupStatus.REFUNDED
    assert PickupOrder.objects.get(order=early).status == PickupStatus.READY
    assert ledger.check_ledger() == []


def test_shortage_above_the_pick_list_is_refused() -> None:
    leader = make_leader()
    batch, (eggs,) = make_batch()
    buy_paid(shopper(), batch, leader, [(eggs, 2)])
    to_points(batch)

    with pytest.raises(Exception) as caught:
        pickup.receive_delivery(None, batch.pk, leader.pk, {eggs.sku_id: 3})

    assert getattr(caught.value, "code", "") == "shortage_exceeds_pick"
    assert Shortage.objects.count() == 0


def test_receipts_bring_the_batch_to_the_points_and_announce_pickup() -> None:
    a, b = make_leader("A"), make_leader("B")
    batch, (item,) = make_batch()
    buyer_a = shopper()
    buy_paid(buyer_a, batch, a, [(item, 1)])
    buy_paid(shopper(), batch, b, [(item, 1)])
    to_points(batch)

    pickup.receive_delivery(None, batch.pk, a.pk)
    after_one = Batch.objects.get(pk=batch.pk).status
    pickup.receive_delivery(None, batch.pk, b.pk)

    assert after_one == BatchStatus.DELIVERING
    assert Batch.objects.get(pk=batch.pk).status == BatchStatus.AT_POINTS
    notices = OutboxEvent.objects.filter(name="groupbuy.ready_for_pickup").order_by("id")
    assert [e.payload["leader_id"] for e in notices] == [a.pk, b.pk]
    assert notices[0].payload["user_ids"] == [buyer_a.user.pk]
    deliver_pending()
    deliver_pending()
    (inbox,) = Message.objects.filter(user=buyer_a.user, title="团购商品已到自提点")
    assert "A的自提点" in inbox.body


# --- commission ---------------------------------------------------------------------


def test_commission_exact_after_a_shortage_and_a_partial_refund_after_verification() -> None:
    leader = make_leader()
    batch, (eggs, milk) = make_batch(prices=(1000, 2000), group_prices=(999, 1999))
    s = shopper()
    order = buy_paid(s, batch, leader, [(eggs, 3), (milk, 1)])
    to_points(batch)
    pickup.receive_delivery(None, batch.pk, leader.pk, {eggs.sku_id: 1})
    # the shortage's order.refunded event is still undelivered when the leader verifies
    pickup.verify(leader.user, PickupOrder.objects.get(order=order).code)
    deliver_pending()
    egg_line = order.lines.get(sku_id=eggs.sku_id)

    granted = dict(Commission.objects.filter(source=CommissionSource.LEADER).values_list("line_id", "amount"))
    case = orders.request_after_sale(s.user, order.pk, [(egg_line.pk, 1)], 666, "坏了一个")
    orders.approve_after_sale(None, case.pk)
    deliver_pending()

    egg = Commission.objects.get(source=CommissionSource.LEADER, line_id=egg_line.pk)
    assert granted == {egg_line.pk: 200, order.lines.get(sku_id=milk.sku_id).pk: 200}  # 10% of 1998 and 1999
    assert egg.base_amount == 1998
    assert egg.reversed_amount == 67  # 200 × 666 / 1998, half up
    assert ledger.balance_of(leader.user_id, AccountKind.COMMISSION_FROZEN) == 333
    assert ledger.check_ledger() == []


def test_commission_becomes_available_after_the_after_sales_window() -> None:
    leader = make_leader()
    _items, order = _ready(leader, [(0, 1)])
    pickup.verify(leader.user, PickupOrder.objects.get(order=order).code)
    deliver_pending()

    early = commission.unfreeze_due(timezone.now() + timedelta(days=6))
    later = commission.unfreeze_due(timezone.now() + timedelta(days=7, minutes=1))

    assert (early, later) == (0, 1)
    assert pickup.earnings(leader.user_id)["available"] == 100
    assert ledger.check_ledger() == []


def test_leader_and_promoter_are_both_paid_within_the_cap(settings: Any) -> None:
    settings.JISHI_GROUPBUY = {"COMMISSION_CAP_BP": 1500}
    distribution.update_settings(None, {"levels": 1, "rates_bp": [800]})
    promoter = shopper()
    code = distribution.apply(promoter.user).code
    leader = make_leader()
    batch, (item,) = make_batch(prices=(1000,))
    s = shopper()
    distribution.bind(s.user, code)
    order = buy_paid(s, batch, leader, [(item, 1)])
    to_points(batch)
    pickup.receive_delivery(None, batch.pk, leader.pk)

    pickup.verify(leader.user, PickupOrder.objects.get(order=order).code)

    paid = dict(Commission.objects.values_list("source", "amount"))
    assert paid == {CommissionSource.DISTRIBUTION: 80, CommissionSource.LEADER: 70}  # 10% cut to the 15% cap
    assert ledger.check_ledger() == []


def test_leader_withdraws_available_commission() -> None:
    leader = make_leader()
    _items, order = _ready(leader, [(1, 5)], prices=(1000, 2000))
    pickup.verify(leader.user, PickupOrder.objects.get(order=order).code)
    deliver_pending()
    commission.unfreeze_due(timezone.now() + timedelta(days=8))

    response = Api(leader_token(leader)).post("groupbuy/leader/withdrawals", {"amount": 1000, "channel": "wallet"})

    assert response.status_code == 201
    assert pickup.earnings(leader.user_id)["available"] == 0
    assert ledger.check_ledger() == []


# --- uncollected --------------------------------------------------------------------


def _uncollected(leader: Any) -> tuple[Order, PickupOrder]:
    _items, order = _ready(leader, [(0, 2)])
    Batch.objects.filter(orders__order=order).update(pickup_date=timezone.localdate() - timedelta(days=4))
    assert pickup.mark_uncollected() == 1
    return order, PickupOrder.objects.get(order=order)


def test_operator_refunds_an_uncollected_order(operator_api: Api) -> None:
    order, p = _uncollected(make_leader())

    response = operator_api.post(f"admin/groupbuy/pickups/{p.pk}/decide", {"decision": "refund"})
    deliver_pending()

    order.refresh_from_db()
    assert response.json()["status"] == "refunded"
    assert (order.status, order.refunded_amount) == (OrderStatus.REFUNDED, 2000)
    assert ledger.check_ledger() == []


def test_operator_keeps_an_uncollected_order(operator_api: Api) -> None:
    leader = make_leader()
    order, p = _uncollected(leader)

    response = operator_api.post(f"admin/groupbuy/pickups/{p.pk}/decide", {"decision": "keep"})

    order.refresh_from_db()
    assert response.json()["status"] == "collected"
    assert order.status == OrderStatus.COMPLETED
    assert ledger.balance_of(leader.user_id, AccountKind.COMMISSION_FROZEN) == 200


def test_a_late_buyer_can_still_collect_an_uncollected_order() -> None:
    leader = make_leader()
    _order, p = _uncollected(leader)

    done = pickup.verify(leader.user, p.code)

    assert done.status == PickupStatus.COLLECTED


def test_leader_app_lists_orders_and_pick_list() -> None:
    leader = make_leader()
    _items, order = _ready(leader, [(0, 2)])
    api = Api(leader_token(leader))
    batch_id = PickupOrder.objects.get(order=order).batch_id

    ready = api.get("groupbuy/leader/orders?status=ready").json()
    picks = api.get(f"groupbuy/leader/pick-list?batch_id={batch_id}").json()
    me = api.get("groupbuy/leader/me").json()

    assert [i["order_id"] for i in ready["items"]] == [order.pk]
    assert [(p["quantity"], p["orders"]) for p in picks["products"]] == [(2, 1)]
    assert me["share_code"] == leader.share_code
    assert leaders.approved_leader_of(leader.user).pk == leader.pk


@given(
    quantities=st.lists(st.integers(min_value=1, max_value=5), min_size=1, max_size=4),
    price=st.integers(min_value=1, max_value=9999),
    data=st.data(),
)
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_shortage_refunds_are_exact_for_any_orders(quantities: list[int], price: int, data: Any) -> None:
    short = data.draw(st.integers(min_value=1, max_value=sum(quantities)))
    leader = make_leader()
    batch, (item,) = make_batch(prices=(10_000,), group_prices=(price,))
    placed = [buy_paid(shopper(), batch, leader, [(item, q)], wallet=price * q) for q in quantities]
    to_points(batch)

    pickup.receive_delivery(None, batch.pk, leader.pk, {item.sku_id: short})

    left, expected = short, []
    for q in reversed(quantities):  # the last orders bear the shortage first
        take = min(left, q)
        expected.append(take * price)
        left -= take
    refunded = [Order.objects.get(pk=o.pk).refunded_amount for o in reversed(placed)]
    assert refunded == expected
    assert Shortage.objects.get(delivery__batch=batch).refunded_amount == short * price
    assert ledger.check_ledger() == []
