"""Product reviews: only a completed order's line, once, by its buyer; shown once approved."""

from __future__ import annotations

import pytest

from jishi.content import reviews, services
from jishi.content.models import Post, PostForm, PostStatus, ProductReview
from jishi.core.errors import Conflict, InvalidInput, NotFound
from jishi.orders import services as orders
from jishi.orders.models import Order
from jishi.payments.services import pay_with_wallet
from jishi.testing.factories import OperatorFactory
from jishi.testing.shop import Shopper, shopper, skus

pytestmark = pytest.mark.django_db


def completed_order(me: Shopper) -> Order:
    (sku,) = skus(2000)
    order = orders.place_order(me.user, [(sku.pk, 1)], me.address.pk)
    pay_with_wallet(me.user, order.pk)
    orders.ship_order(OperatorFactory(), order.pk, "顺丰速运", "SF1")
    orders.confirm_receipt(me.user, order.pk)
    return Order.objects.get(pk=order.pk)


def test_a_review_is_a_pending_review_post_with_stars() -> None:
    me = shopper(wallet=10_000)
    order = completed_order(me)
    line = order.lines.get()

    review = reviews.review_line(me.user, line.pk, 4, "  很好喝  ")

    post = Post.objects.get(pk=review.post_id)
    assert (review.stars, review.product_id, review.user_id) == (4, line.product_id, me.user.pk)
    assert (post.form, post.status, post.body, post.scores) == (
        PostForm.REVIEW,
        PostStatus.PENDING,
        "很好喝",
        [{"aspect": "总体", "score": 4}],
    )
    assert list(post.product_links.values_list("product_id", flat=True)) == [line.product_id]


def test_a_line_is_reviewed_once() -> None:
    me = shopper(wallet=10_000)
    line = completed_order(me).lines.get()
    reviews.review_line(me.user, line.pk, 5, "好")

    with pytest.raises(Conflict) as caught:
        reviews.review_line(me.user, line.pk, 3, "再来一条")

    assert caught.value.code == "already_reviewed"
    assert ProductReview.objects.count() == 1


def test_only_a_completed_order_can_be_reviewed() -> None:
    me = shopper(wallet=10_000)
    (sku,) = skus(2000)
    order = orders.place_order(me.user, [(sku.pk, 1)], me.address.pk)
    pay_with_wallet(me.user, order.pk)

    with pytest.raises(Conflict) as caught:
        reviews.review_line(me.user, order.lines.get().pk, 5, "好")

    assert caught.value.code == "order_not_completed"
    assert Post.objects.count() == 0


def test_someone_elses_line_is_not_found() -> None:
    me, other = shopper(wallet=10_000), shopper()
    line = completed_order(me).lines.get()

    with pytest.raises(NotFound):
        reviews.review_line(other.user, line.pk, 5, "好")


@pytest.mark.parametrize(
    ("stars", "text", "code"),
    [
        (0, "好", "invalid_stars"),
        (6, "好", "invalid_stars"),
        (5, "  ", "invalid_text"),
        (5, "长" * 501, "invalid_text"),
    ],
)
def test_bad_stars_or_text_are_refused(stars: int, text: str, code: str) -> None:
    me = shopper(wallet=10_000)
    line = completed_order(me).lines.get()

    with pytest.raises(InvalidInput) as caught:
        reviews.review_line(me.user, line.pk, stars, text)

    assert caught.value.code == code
    assert Post.objects.count() == 0


def test_product_summary_counts_approved_reviews_only() -> None:
    me, you = shopper(wallet=10_000), shopper(wallet=10_000)
    first = reviews.review_line(me.user, completed_order(me).lines.get().pk, 5, "好")
    second = reviews.review_line(you.user, completed_order(you).lines.get().pk, 2, "一般")
    ProductReview.objects.filter(pk=second.pk).update(product_id=first.product_id)
    services.approve_post(OperatorFactory(), first.post_id)

    summary = reviews.product_reviews(first.product_id)
    assert (summary.count, summary.average, [r.pk for r in summary.reviews]) == (1, 5.0, [first.pk])

    services.approve_post(OperatorFactory(), second.post_id)
    summary = reviews.product_reviews(first.product_id)
    assert (summary.count, summary.average, summary.stars_rounded) == (2, 3.5, 4)


def test_an_approved_review_earns_the_review_points() -> None:
    from jishi.core.events import deliver_pending
    from jishi.loyalty import points
    from jishi.loyalty.conf import loyalty_settings

    me = shopper(wallet=10_000)
    review = reviews.review_line(me.user, completed_order(me).lines.get().pk, 5, "好")
    deliver_pending()
    before = points.balance(me.user.pk)

    services.approve_post(OperatorFactory(), review.post_id)
    deliver_pending()

    assert points.balance(me.user.pk) - before == loyalty_settings().review_points
