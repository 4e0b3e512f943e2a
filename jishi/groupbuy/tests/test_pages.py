"""Group-buy pages without a browser: English, refusals and what a non-leader may not open."""

from __future__ import annotations

import pytest
from django.test import Client

from jishi.groupbuy.models import Delivery, PickupOrder, PickupStatus
from jishi.testing.factories import UserFactory
from jishi.testing.shop import shopper

from .conftest import buy_paid, make_batch, make_leader, to_points

pytestmark = pytest.mark.django_db


def _client(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def test_application_form_speaks_english() -> None:
    page = _client(UserFactory()).get("/groupbuy/apply/", HTTP_ACCEPT_LANGUAGE="en")

    assert page.status_code == 200
    assert "Run a pickup point in your neighbourhood" in page.content.decode()
    assert "Point type" in page.content.decode()


def test_a_buyer_who_is_not_a_leader_cannot_open_deliveries() -> None:
    page = _client(UserFactory()).get("/groupbuy/leader/deliveries/")

    assert page.status_code == 403


def test_a_shortage_above_the_pick_list_is_refused_on_the_page() -> None:
    leader = make_leader()
    batch, (eggs,) = make_batch()
    buy_paid(shopper(), batch, leader, [(eggs, 2)])
    to_points(batch)

    sent = _client(leader.user).post(f"/groupbuy/leader/deliveries/{batch.pk}/", {f"short_{eggs.sku_id}": "3"})

    assert sent.status_code == 302
    assert not Delivery.objects.exists()
    assert PickupOrder.objects.get().status == PickupStatus.PAID


def test_receiving_without_shortages_makes_orders_ready() -> None:
    leader = make_leader()
    batch, (eggs,) = make_batch()
    buy_paid(shopper(), batch, leader, [(eggs, 2)])
    to_points(batch)
    client = _client(leader.user)

    client.post(f"/groupbuy/leader/deliveries/{batch.pk}/", {f"short_{eggs.sku_id}": "0"})
    again = client.post(f"/groupbuy/leader/deliveries/{batch.pk}/", {f"short_{eggs.sku_id}": "1"})
    record = client.get(f"/groupbuy/leader/deliveries/{batch.pk}/")

    assert again.status_code == 302
    assert Delivery.objects.get().shortages.count() == 0  # a second post changes nothing
    assert PickupOrder.objects.get().status == PickupStatus.READY
    assert "delivery-record" in record.content.decode()


def test_another_leaders_batch_is_404_on_the_delivery_page() -> None:
    mine, theirs = make_leader("A"), make_leader("B")
    batch, (eggs,) = make_batch()
    buy_paid(shopper(), batch, theirs, [(eggs, 1)])
    to_points(batch)

    page = _client(mine.user).get(f"/groupbuy/leader/deliveries/{batch.pk}/")

    assert page.status_code == 404


def test_leader_withdraws_available_commission_on_the_page() -> None:
    from datetime import timedelta

    from django.utils import timezone

    from jishi.commission import services as commission
    from jishi.commission.models import Withdrawal
    from jishi.core import ledger
    from jishi.core.events import deliver_pending
    from jishi.groupbuy import pickup

    leader = make_leader()
    batch, (eggs,) = make_batch(prices=(2000,))
    order = buy_paid(shopper(), batch, leader, [(eggs, 5)])
    to_points(batch)
    pickup.receive_delivery(None, batch.pk, leader.pk)
    pickup.verify(leader.user, PickupOrder.objects.get(order=order).code)
    deliver_pending()
    commission.unfreeze_due(timezone.now() + timedelta(days=8))
    client = _client(leader.user)

    page = client.get("/groupbuy/leader/withdraw/")
    sent = client.post("/groupbuy/leader/withdraw/", {"amount": "10.00", "channel": "wallet"})
    too_much = client.post("/groupbuy/leader/withdraw/", {"amount": "10.00", "channel": "wallet"})

    assert page.status_code == 200
    assert 'id="withdraw-available">¥10.00' in page.content.decode()
    assert sent.status_code == 302
    assert Withdrawal.objects.get(user=leader.user).amount == 1000
    assert too_much.status_code == 409
    assert pickup.earnings(leader.user_id)["available"] == 0
    assert ledger.check_ledger() == []


def test_a_buyer_who_is_not_a_leader_cannot_withdraw_on_the_leader_page() -> None:
    assert _client(UserFactory()).get("/groupbuy/leader/withdraw/").status_code == 403
