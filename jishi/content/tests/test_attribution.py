"""Attribution: a purchase within the window after opening a post goes to the post (last post wins),
and pays the creator a content commission that the commission app unfreezes and reverses."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from jishi.commission.models import Commission, CommissionStatus
from jishi.content import services
from jishi.content.models import AttributedLine, Post, PostView
from jishi.core.events import deliver_pending
from jishi.core.ledger import balance_of, check_ledger
from jishi.core.models import AccountKind
from jishi.orders import services as orders
from jishi.orders.models import OrderLine
from jishi.payments.services import pay_with_wallet
from jishi.testing.shop import shopper

from .conftest import published_post

pytestmark = pytest.mark.django_db


def buy(buyer: Any, sku: Any, qty: int = 1) -> Any:
    order = orders.place_order(buyer.user, [(sku.pk, qty)], buyer.address.pk)
    pay_with_wallet(buyer.user, order.pk)
    deliver_pending()
    return order


@pytest.fixture
def reader() -> Any:
    return shopper(wallet=100_000)


def test_line_bought_after_reading_a_post_earns_the_creator_commission(
    creator: Any, moderator: Any, sku: Any, reader: Any
) -> None:
    post = published_post(creator.user, moderator, product_ids=[sku.product_id])
    services.record_view(reader.user, post)
    order = buy(reader, sku, 2)
    line = OrderLine.objects.get(order=order)
    assert line.meta == {"post_id": post.pk}
    attributed = AttributedLine.objects.get()
    assert (attributed.post_id, attributed.paid_amount, attributed.commission) == (post.pk, 20_000, 1_000)
    commission = Commission.objects.get(source="content")
    assert (commission.beneficiary_id, commission.amount, commission.rate_bp) == (creator.user.pk, 1_000, 500)
    assert balance_of(creator.user.pk, AccountKind.COMMISSION_FROZEN) == 1_000
    assert check_ledger() == []


def test_last_post_opened_wins(creator: Any, moderator: Any, sku: Any, reader: Any) -> None:
    first = published_post(creator.user, moderator, product_ids=[sku.product_id], title="一")
    other = shopper()
    second = published_post(other.user, moderator, product_ids=[sku.product_id], title="二")
    now = timezone.now()
    services.record_view(reader.user, second, now=now - timedelta(hours=2))
    services.record_view(reader.user, first, now=now - timedelta(hours=1))
    buy(reader, sku)
    assert AttributedLine.objects.get().post_id == first.pk


def test_no_attribution_after_the_window(creator: Any, moderator: Any, sku: Any, reader: Any) -> None:
    post = published_post(creator.user, moderator, product_ids=[sku.product_id])
    services.record_view(reader.user, post, now=timezone.now() - timedelta(days=7, minutes=1))
    order = buy(reader, sku)
    assert OrderLine.objects.get(order=order).meta == {}
    assert AttributedLine.objects.count() == 0


def test_other_products_are_not_attributed(creator: Any, moderator: Any, sku: Any, reader: Any) -> None:
    from jishi.testing.shop import skus

    post = published_post(creator.user, moderator, product_ids=[sku.product_id])
    services.record_view(reader.user, post)
    unrelated = skus(3000)[0]
    buy(reader, unrelated)
    assert AttributedLine.objects.count() == 0


def test_buying_through_ones_own_post_pays_no_commission(creator: Any, moderator: Any, sku: Any) -> None:
    post = published_post(creator.user, moderator, product_ids=[sku.product_id])
    creator.fund(50_000)
    services.record_view(creator.user, post)
    assert PostView.objects.count() == 0
    buy(creator, sku)
    assert Commission.objects.count() == 0


def test_refund_reverses_commission_and_attributed_gmv(
    creator: Any, moderator: Any, sku: Any, reader: Any, operator: Any
) -> None:
    post = published_post(creator.user, moderator, product_ids=[sku.product_id])
    services.record_view(reader.user, post)
    order = buy(reader, sku)
    orders.refund_whole_order(order, "缺货")
    deliver_pending()
    assert Commission.objects.get().status == CommissionStatus.REVERSED
    assert balance_of(creator.user.pk, AccountKind.COMMISSION_FROZEN) == 0
    line = AttributedLine.objects.get()
    assert line.refunded_amount == line.paid_amount == 10_000
    stats = services.my_posts(creator.user)[0]
    assert (stats["orders"], stats["gmv"]) == (1, 0)
    assert check_ledger() == []


def test_creator_stats_count_views_orders_gmv_and_rewards(creator: Any, moderator: Any, sku: Any, reader: Any) -> None:
    post = published_post(creator.user, moderator, product_ids=[sku.product_id])
    services.record_view(reader.user, post)
    buy(reader, sku, 3)
    Post.objects.filter(pk=post.pk).update(like_count=4)
    stats = services.my_posts(creator.user)[0]
    assert {k: stats[k] for k in ("views", "interactions", "orders", "gmv", "commission")} == {
        "views": 1,
        "interactions": 4,
        "orders": 1,
        "gmv": 30_000,
        "commission": 1_500,
    }


def test_checkout_adds_one_query_for_attribution(creator: Any, moderator: Any, sku: Any, reader: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from jishi.content.attribution import AttributionStep
    from jishi.orders.pipeline import register_step, unregister_step

    post = published_post(creator.user, moderator, product_ids=[sku.product_id])
    services.record_view(reader.user, post)
    orders.preview(reader.user, [(sku.pk, 1)], reader.address.pk)  # warm every rules cache, as in a running shop
    with CaptureQueriesContext(connection) as with_step:
        orders.preview(reader.user, [(sku.pk, 1)], reader.address.pk)
    unregister_step(AttributionStep.code)
    try:
        with CaptureQueriesContext(connection) as without:
            orders.preview(reader.user, [(sku.pk, 1)], reader.address.pk)
    finally:
        register_step(AttributionStep())
    assert len(with_step) - len(without) == 1
