"""Affiliate goods: upserted from feeds, searched like the catalogue, priced per viewer, and
their dead coupons expired by a job."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Case, IntegerField, Max, Q, QuerySet, Sum, Value, When
from django.utils import timezone

from jishi.catalog.search import query_conditions, terms_for
from jishi.core.money import apply_rate
from jishi.distribution.models import Promoter, PromoterStatus

from .models import GoodsSearchTerm, RebateGoods
from .splits import split_for


def coupon_live(goods: RebateGoods, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    if goods.coupon_amount <= 0 or goods.coupon_remaining <= 0:
        return False
    if goods.coupon_start and goods.coupon_start > now:
        return False
    return not (goods.coupon_end and goods.coupon_end <= now)


def price_after_coupon(goods: RebateGoods, now: datetime | None = None) -> int:
    if coupon_live(goods, now) and goods.price >= goods.coupon_threshold:
        return max(0, goods.price - goods.coupon_amount)
    return goods.price


@dataclass(frozen=True)
class Offer:
    """What one viewer sees on a goods card: the price after the coupon, what buying through us
    saves (coupon + the buyer's 自购 rebate), and what sharing earns a promoter (分享)."""

    price_after_coupon: int
    coupon: int
    self_rebate: int
    save: int
    share_earn: int | None


def offer(goods: RebateGoods, *, is_promoter: bool, now: datetime | None = None) -> Offer:
    pay = price_after_coupon(goods, now)
    commission = apply_rate(pay, goods.commission_rate_bp)
    rule = split_for(goods.network)
    self_rebate = apply_rate(commission, rule.buyer_bp)
    coupon = goods.price - pay
    earn = apply_rate(commission, rule.promoter_bp) if is_promoter else None
    return Offer(pay, coupon, self_rebate, coupon + self_rebate, earn)


def viewer_is_promoter(user_id: int | None) -> bool:
    if not user_id:
        return False
    return Promoter.objects.filter(user_id=user_id, status=PromoterStatus.ACTIVE).exists()


GOODS_FIELDS = (
    "title",
    "image_urls",
    "category",
    "shop_name",
    "price",
    "coupon_amount",
    "coupon_threshold",
    "coupon_start",
    "coupon_end",
    "coupon_remaining",
    "commission_rate_bp",
    "sales",
    "item_url",
    "coupon_url",
)


def upsert_goods(network: str, item_id: str, fields: dict[str, Any]) -> tuple[RebateGoods, bool]:
    """Create or refresh one item (a feed row or a network search result) and its search terms.
    An item the expiry job took off the feed comes back when the network lists it with a live coupon."""
    with transaction.atomic():
        goods, created = RebateGoods.objects.update_or_create(
            network=network, item_id=item_id, defaults={k: fields[k] for k in GOODS_FIELDS if k in fields}
        )
        if not goods.is_active and coupon_live(goods):
            RebateGoods.objects.filter(pk=goods.pk).update(is_active=True)
            goods.is_active = True
        reindex(goods)
    return goods, created


def reindex(goods: RebateGoods) -> None:
    terms = terms_for(goods.title, goods.shop_name, goods.category)
    GoodsSearchTerm.objects.filter(goods=goods).delete()
    GoodsSearchTerm.objects.bulk_create(GoodsSearchTerm(goods=goods, term=t, weight=w) for t, w in terms.items())


def ranked_goods_ids(q: str, goods: QuerySet[RebateGoods], cap: int = 500) -> list[int]:
    """Ids of ``goods`` matching ``q`` (Chinese words, characters, pinyin), all terms first."""
    conditions = query_conditions(q)
    if not conditions:
        return []
    any_term = Q()
    for condition in conditions:
        any_term |= condition
    matched = sum(
        (Max(Case(When(c, then=Value(1)), default=Value(0), output_field=IntegerField())) for c in conditions),
        start=Value(0, output_field=IntegerField()),
    )
    rows = list(
        GoodsSearchTerm.objects.filter(any_term, goods__in=goods)
        .values("goods_id")
        .annotate(matched=matched, score=Sum("weight"))
        .order_by("-matched", "-score", "-goods_id")[:cap]
    )
    if not rows:
        return []
    best = rows[0]["matched"]
    return [r["goods_id"] for r in rows if r["matched"] == best]


def feed(network: str | None = None, q: str = "", category: str = "") -> QuerySet[RebateGoods]:
    rows = RebateGoods.objects.filter(is_active=True)
    if network:
        rows = rows.filter(network=network)
    if category:
        rows = rows.filter(category=category)
    if q.strip():
        ids = ranked_goods_ids(q, rows)
        order = Case(*(When(pk=pk, then=Value(i)) for i, pk in enumerate(ids)), output_field=IntegerField())
        return rows.filter(pk__in=ids).order_by(order) if ids else rows.none()
    return rows.order_by("-sales", "id")


def expire_dead_coupons(now: datetime | None = None) -> int:
    """Goods whose coupon ended or ran out leave the feed (the feed is of coupon goods)."""
    now = now or timezone.now()
    dead = Q(coupon_end__lte=now) | Q(coupon_remaining=0)
    return RebateGoods.objects.filter(dead, is_active=True).update(is_active=False)
