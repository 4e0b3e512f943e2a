"""The payments demo: funded wallets and an order history in every status, seeded once."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.db.models import Sum

from jishi.accounts.models import User
from jishi.core import ledger
from jishi.core.models import Account, AccountKind, Entry, Transaction
from jishi.demo.seed import FRESH_PHONES, seed_demo
from jishi.orders.models import AfterSale, AfterSaleStatus, Order, OrderStatus
from jishi.payments.demo import MARKER, SCENARIOS, TOPUP_AMOUNT
from jishi.payments.models import Payment, Refund


@pytest.fixture(autouse=True)
def _media_in_tmp(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


def seed() -> dict[str, int]:
    """The shop and this feature's demo steps only: other features seed (and test) their own."""
    from jishi.demo.seed import STEPS as SHOP_STEPS
    from jishi.payments.demo import STEPS as PAYMENT_STEPS

    return seed_demo(io.StringIO(), [*SHOP_STEPS, *PAYMENT_STEPS])


@pytest.fixture
def seeded(db: Any) -> dict[str, int]:
    return seed()


def counts() -> dict[str, int]:
    models = (Order, Payment, Refund, AfterSale, Transaction, Entry, Account)
    out = {m.__name__: m.objects.count() for m in models}
    out["wallets"] = Account.objects.filter(kind=AccountKind.WALLET).aggregate(n=Sum("balance"))["n"] or 0
    return out


def test_first_run_creates_every_scenario_and_tops_up_twenty_wallets(seeded: dict[str, int]) -> None:
    assert seeded["wallets"] == 20
    assert seeded["order history"] == len(SCENARIOS) == 29
    assert Order.objects.filter(meta__has_key=MARKER).count() == 29


def test_second_run_creates_nothing_and_changes_no_count(seeded: dict[str, int]) -> None:
    before = counts()

    again = seed()

    assert again["wallets"] == 0
    assert again["order history"] == 0
    assert counts() == before


def test_fresh_buyers_have_no_orders_and_only_the_wallet_top_up(seeded: dict[str, int]) -> None:
    fresh = User.objects.filter(phone__in=FRESH_PHONES)

    assert fresh.count() == 5
    assert Order.objects.filter(user__in=fresh).count() == 0
    accounts = list(Account.objects.filter(owner__in=fresh).values_list("kind", "balance"))
    assert accounts == [(AccountKind.WALLET, TOPUP_AMOUNT)] * 5


def test_ledger_is_sound_after_seeding_twice(seeded: dict[str, int]) -> None:
    seed()

    assert ledger.check_ledger() == []


def test_each_demo_buyer_got_one_demo_topup_of_2000_yuan(seeded: dict[str, int]) -> None:
    seed()
    credits = Entry.objects.filter(transaction__key__startswith="demo-topup:", amount__gt=0)

    assert sorted(credits.values_list("account__owner__phone", flat=True)) == sorted(
        User.objects.filter(phone__startswith="138000000").values_list("phone", flat=True)
    )
    assert {e.amount for e in credits} == {TOPUP_AMOUNT}


def test_orders_exist_in_each_status(seeded: dict[str, int]) -> None:
    expected = {
        OrderStatus.PENDING_PAYMENT: 2,
        OrderStatus.CLOSED: 1,
        OrderStatus.PAID: 5,
        OrderStatus.SHIPPED: 7,
        OrderStatus.COMPLETED: 13,  # 12 confirmed plus the partly refunded one
        OrderStatus.REFUNDING: 1,
    }
    found = {status: Order.objects.filter(meta__has_key=MARKER, status=status).count() for status in expected}
    assert found == expected


def test_partial_refund_returned_one_unit_and_kept_the_order_completed(seeded: dict[str, int]) -> None:
    case = AfterSale.objects.get(order__meta__has_key=MARKER, status=AfterSaleStatus.REFUNDED)
    order = case.order
    line = order.lines.order_by("pk").first()

    assert order.status == OrderStatus.COMPLETED
    assert line is not None and line.quantity == 2 and line.refunded_quantity == 1
    assert order.refunded_amount == case.amount == line.paid_amount // 2
    assert Refund.objects.get(payment__order=order).amount == case.amount


def test_pending_after_sale_case_waits_for_review(seeded: dict[str, int]) -> None:
    case = AfterSale.objects.get(order__meta__has_key=MARKER, status=AfterSaleStatus.PENDING)

    assert case.order.status == OrderStatus.REFUNDING
    assert case.order.status_before_refund == OrderStatus.SHIPPED


def test_history_spreads_over_past_weeks_with_pending_orders_still_payable(seeded: dict[str, int]) -> None:
    orders = Order.objects.filter(meta__has_key=MARKER)
    oldest = orders.order_by("created_at").first()
    pending = orders.filter(status=OrderStatus.PENDING_PAYMENT)

    assert oldest is not None and (pending[0].created_at - oldest.created_at).days >= 14
    assert all(o.pay_deadline > o.created_at for o in pending)
    assert all(o.paid_at and o.paid_at < o.shipped_at for o in orders.filter(status=OrderStatus.SHIPPED))
