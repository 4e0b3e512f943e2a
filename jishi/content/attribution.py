"""Sales through posts: the checkout step that marks lines bought after opening a post about the
product (last post wins, within the attribution window), and the creator's content commission.

The mark travels as ``line.meta["post_id"]`` into ``OrderLine.meta`` and the order events; on
``order.paid`` the line is recorded and the creator is granted a frozen commission through
``jishi.commission`` (which unfreezes it on completion and reverses it on refund for every source).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import F
from django.utils import timezone

from jishi.commission import services as commission
from jishi.commission.models import CommissionSource
from jishi.core.money import apply_rate
from jishi.core.sql import CachedQuery
from jishi.orders.pipeline import SHIPPING, BaseStep, Checkout, campaign_pays

from .models import AttributedLine, Post, PostStatus, PostView

if TYPE_CHECKING:
    from jishi.orders.models import Order

STEP_POSITION = SHIPPING + 100  # prices nothing: runs after every pricing step


_VIEWED_POSTS = CachedQuery(
    lambda user_id, product_ids: (
        PostView.objects.filter(
            user_id=user_id,
            post__status=PostStatus.APPROVED,
            post__product_links__product_id__in=product_ids,
        )
        .exclude(post__author_id=user_id)
        .order_by("-last_viewed_at", "-id")
        .values_list("post__product_links__product_id", "post_id", "last_viewed_at")
    ),
    user_id=int,
    product_ids=list,
)


def attributed_posts(user_id: int, product_ids: list[int], now: Any = None) -> dict[int, int]:
    """product id → the post this buyer opened most recently (within the window) that links it.

    One indexed query on every checkout; the rules row is read only when the buyer has opened a
    post about one of the products at all (most checkouts have none)."""
    from .services import get_settings

    rows = _VIEWED_POSTS.rows(user_id=user_id, product_ids=product_ids)
    if not rows:
        return {}
    since = (now or timezone.now()) - timedelta(days=get_settings().attribution_days)
    out: dict[int, int] = {}
    for product_id, post_id, viewed_at in rows:
        if viewed_at >= since:
            out.setdefault(product_id, post_id)
    return out


class AttributionStep(BaseStep):
    code = "content_attribution"
    position = STEP_POSITION

    def apply(self, checkout: Checkout) -> None:
        user_id = getattr(checkout.user, "pk", None)
        if not user_id or not checkout.lines:
            return
        found = attributed_posts(user_id, sorted({line.product_id for line in checkout.lines}))
        for line in checkout.lines:
            if line.product_id in found:
                line.meta["post_id"] = found[line.product_id]

    def commit(self, checkout: Checkout, order: Order) -> None:
        return None


def settle_paid_order(payload: dict[str, Any]) -> int:
    """order.paid: record attributed lines and grant the creators' content commission; returns fen granted."""
    from .services import get_settings

    lines = [line for line in payload["lines"] if (line.get("meta") or {}).get("post_id")]
    if not lines:
        return 0
    rules = get_settings()
    posts = {p.pk: p for p in Post.objects.filter(pk__in={int(line["meta"]["post_id"]) for line in lines})}
    pays = rules.commission_bp > 0 and campaign_pays(payload.get("meta"), "commission")
    shares: list[commission.Share] = []
    for line in lines:
        post = posts.get(int(line["meta"]["post_id"]))
        if post is None:
            continue
        base = int(line["paid_amount"])
        earns = pays and not post.by_operator and post.author_id != payload["user_id"] and base > 0
        amount = apply_rate(base, rules.commission_bp) if earns else 0
        AttributedLine.objects.get_or_create(
            line_id=line["line_id"],
            defaults={
                "post": post,
                "creator_id": post.author_id,
                "buyer_id": payload["user_id"],
                "order_id": payload["order_id"],
                "product_id": line["product_id"],
                "quantity": line["quantity"],
                "paid_amount": base,
                "commission": amount,
            },
        )
        if amount > 0:
            shares.append(
                commission.Share(
                    beneficiary_id=post.author_id,
                    level=1,
                    line_id=line["line_id"],
                    product_id=line["product_id"],
                    base_amount=base,
                    amount=amount,
                    rate_bp=rules.commission_bp,
                )
            )
    commission.grant(
        CommissionSource.CONTENT,
        order_id=payload["order_id"],
        order_number=payload.get("number", ""),
        buyer_id=payload["user_id"],
        shares=shares,
        freeze_days=rules.commission_freeze_days,
    )
    return sum(s.amount for s in shares)


def record_refund(payload: dict[str, Any]) -> int:
    """order.refunded: attributed GMV drops by what was refunded on each line (commission reversal is
    the commission app's). Returns the lines touched."""
    touched = 0
    for line in payload["lines"]:
        amount = int(line.get("amount") or 0)
        if amount <= 0:
            continue
        touched += AttributedLine.objects.filter(
            line_id=line["line_id"], refunded_amount__lte=F("paid_amount") - amount
        ).update(refunded_amount=F("refunded_amount") + amount)
    return touched
