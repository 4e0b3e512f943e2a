"""The home page's blocks: the banner carousel, then 限时秒杀, 拼团, 新品 and 种草推荐 — each read through
its own app's service, each empty block left out by the template, in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Prefetch, prefetch_related_objects
from django.utils import timezone

from jishi.catalog import api as catalog_api
from jishi.catalog.models import Product, ProductImage, ProductStatus
from jishi.content import services as content
from jishi.content.models import Post
from jishi.marketing import banners, flash, groups
from jishi.marketing.models import Banner, FlashItem, GroupBuyCampaign

FLASH_ITEMS = 6
GROUP_CAMPAIGNS = 3
NEW_PRODUCTS = 6
POSTS = 4
POST_CANDIDATES = 12


@dataclass
class FlashBlock:
    ends_at: datetime
    items: list[dict[str, Any]]


@dataclass
class HomeBlocks:
    banners: list[Banner]
    flash: FlashBlock | None
    groups: list[dict[str, Any]]
    new_products: list[dict[str, Any]]
    posts: list[Post]


def _ordered_images() -> Prefetch:
    return Prefetch("images", queryset=ProductImage.objects.order_by("sort", "id"))


def _first_images(products: list[Product]) -> dict[int, str]:
    """Each product's first picture, in one query for all of them."""
    if not products:
        return {}
    prefetch_related_objects(products, _ordered_images())
    out = {}
    for product in products:
        first = next(iter(product.images.all()), None)
        if first is not None:
            out[product.pk] = first.image.url
    return out


def _flash_card(item: FlashItem, images: dict[int, str]) -> dict[str, Any]:
    product = item.sku.product
    sold = item.total_stock - item.stock_left
    return {
        "product_id": product.pk,
        "name": product.name,
        "image": images.get(product.pk),
        "price": item.flash_price,
        "original_price": item.sku.price,
        "stock_left": item.stock_left,
        "sold_percent": min(100, sold * 100 // item.total_stock) if item.total_stock else 100,
    }


def _group_card(campaign: GroupBuyCampaign, open_groups: list[Any], images: dict[int, str]) -> dict[str, Any]:
    product = campaign.sku.product
    return {
        "product_id": product.pk,
        "name": product.name,
        "image": images.get(product.pk),
        "price": campaign.group_price,
        "original_price": campaign.sku.price,
        "size": campaign.group_size,
        "open_groups": len(open_groups),
    }


def _recommended_posts() -> list[Post]:
    """Approved posts with a cover, 精选 first, then the feed's own order (pinned, newest)."""
    posts, _total = content.feed(sort="latest", limit=POST_CANDIDATES)
    with_cover = [p for p in posts if p.images.all()]
    with_cover.sort(key=lambda p: not p.featured)
    return with_cover[:POSTS]


def blocks(now: datetime | None = None) -> HomeBlocks:
    now = now or timezone.now()
    live = next((v for v in flash.current_sessions(now) if v.live and v.items), None)
    flash_items = live.items[:FLASH_ITEMS] if live else []
    running = groups.running_campaigns(now, groups_per_campaign=GROUP_CAMPAIGNS)[:GROUP_CAMPAIGNS]
    newest = list(
        Product.objects.filter(status=ProductStatus.PUBLISHED)
        .order_by("-created_at", "-id")
        .prefetch_related(_ordered_images())[:NEW_PRODUCTS]
    )
    images = _first_images([i.sku.product for i in flash_items] + [c.sku.product for c, _open in running])
    return HomeBlocks(
        banners=banners.live_banners(now),
        flash=FlashBlock(live.ends_at, [_flash_card(i, images) for i in flash_items]) if live else None,
        groups=[_group_card(c, open_groups, images) for c, open_groups in running],
        new_products=[catalog_api.card(p) for p in newest],
        posts=_recommended_posts(),
    )
