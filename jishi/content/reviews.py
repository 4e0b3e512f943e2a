"""Product reviews: a buyer reviews a line of a completed order with stars, words and photos.

The review is a 测评 post linked to the product, so moderation, banned words and loyalty's review
points (on approval) work as for every review; ``ProductReview`` ties it to the order line, once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Avg, Count, Prefetch
from django.utils.translation import gettext_lazy as _

from jishi.accounts.models import User
from jishi.core.errors import Conflict, InvalidInput, NotFound
from jishi.orders.models import OrderLine, OrderStatus

from . import services
from .models import PostForm, PostImage, PostStatus, ProductReview

MAX_TEXT = 500
OVERALL = "总体"


def review_line(user: User, line_id: int, stars: int, text: str, image_ids: Sequence[int] = ()) -> ProductReview:
    """Raises NotFound (not the buyer's line), Conflict (order not completed, already reviewed),
    InvalidInput (stars outside 1–5, empty or long text, bad images)."""
    if not 1 <= stars <= 5:
        raise InvalidInput(_("请选择 1–5 星"), code="invalid_stars", fields={"stars": [str(stars)]})
    words = text.strip()
    if not words or len(words) > MAX_TEXT:
        raise InvalidInput(_("评价内容为 1–500 个字"), code="invalid_text", fields={"text": [str(len(words))]})
    line = OrderLine.objects.filter(pk=line_id, order__user=user).select_related("order").first()
    if line is None:
        raise NotFound(_("订单商品不存在"), code="order_line_not_found")
    if line.order.status != OrderStatus.COMPLETED:
        raise Conflict(_("确认收货后才能评价"), code="order_not_completed")
    if ProductReview.objects.filter(order_line=line).exists():
        raise Conflict(_("这件商品已经评价过了"), code="already_reviewed")
    data = services.PostInput(
        form=PostForm.REVIEW,
        title=str(_("%(name)s 的评价") % {"name": line.product_name[:60]}),
        body=words,
        product_ids=[line.product_id],
        image_ids=list(image_ids),
        scores=[{"aspect": OVERALL, "score": stars}],
    )
    try:
        with transaction.atomic():
            post = services.create_post(user, data)
            return ProductReview.objects.create(
                order_line=line, post=post, product_id=line.product_id, user=user, stars=stars
            )
    except IntegrityError as exc:  # a concurrent second review of the same line
        raise Conflict(_("这件商品已经评价过了"), code="already_reviewed") from exc


def reviewed_line_ids(line_ids: Sequence[int]) -> set[int]:
    return set(ProductReview.objects.filter(order_line_id__in=line_ids).values_list("order_line_id", flat=True))


@dataclass(frozen=True)
class ReviewSummary:
    count: int
    average: float  # 0 when none
    reviews: list[ProductReview]

    @property
    def stars_rounded(self) -> int:
        return round(self.average)


def product_reviews(product_id: int, limit: int = 10) -> ReviewSummary:
    """Approved reviews of a product, newest first, with author and photos (three queries)."""
    shown = ProductReview.objects.filter(product_id=product_id, post__status=PostStatus.APPROVED)
    totals = shown.aggregate(n=Count("id"), avg=Avg("stars"))
    rows = list(
        shown.select_related("post", "user").prefetch_related(
            Prefetch("post__images", queryset=PostImage.objects.order_by("sort", "id"))
        )[:limit]
    )
    return ReviewSummary(count=totals["n"] or 0, average=float(totals["avg"] or 0), reviews=rows)
