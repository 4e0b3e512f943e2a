"""Demo campaigns: claimable coupons, an always-live flash sale, open 拼团 groups, a bargain under way,
and the home page banners that point at them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.urls import reverse
from django.utils import timezone

from jishi.catalog.models import Category, Product, ProductStatus, Sku
from jishi.core import ledger
from jishi.core.events import deliver_pending
from jishi.core.models import AccountKind
from jishi.demo.images import banner_image
from jishi.demo.seed import Progress, demo_buyers
from jishi.inventory.services import sellable
from jishi.payments.services import pay_with_wallet

from . import banners, bargains, flash, groups
from .models import (
    Banner,
    Bargain,
    BargainCampaign,
    CouponKind,
    CouponScope,
    CouponTemplate,
    FlashSession,
    Group,
    GroupBuyCampaign,
    GroupStatus,
)

FLASH_SESSION = "限时秒杀 · 每两小时一场"
CAMPAIGN_DAYS = 365


def _skus(n: int, offset: int = 0) -> list[Sku]:
    """Published demo SKUs in a stable order (one per product), skipping ``offset`` products."""
    products = Product.objects.filter(status=ProductStatus.PUBLISHED).order_by("-sort", "pk")[offset : offset + n]
    out = []
    for product in products:
        sku = product.skus.filter(is_active=True).order_by("price", "pk").first()
        if sku is not None:
            out.append(sku)
    return out


def seed_coupons(progress: Progress) -> int:
    now = timezone.now()
    until = now + timedelta(days=CAMPAIGN_DAYS)
    first_category = (
        Product.objects.filter(status=ProductStatus.PUBLISHED)
        .order_by("-sort", "pk")
        .values_list("category_id", flat=True)
        .first()
    )
    wanted: list[dict[str, Any]] = [
        {
            "name": "满99减10",
            "kind": CouponKind.THRESHOLD,
            "amount": 1000,
            "min_spend": 9900,
            "stack_with_coupons": True,
        },
        {"name": "满199减30", "kind": CouponKind.THRESHOLD, "amount": 3000, "min_spend": 19900},
        {
            "name": "全场9折券",
            "kind": CouponKind.PERCENT,
            "percent_off_bp": 1000,
            "max_discount": 5000,
            "stack_with_coupons": True,
        },
        {
            "name": "新人立减15",
            "kind": CouponKind.FIXED,
            "amount": 1500,
            "new_member_only": True,
            "auto_issue_new_member": True,
        },
        {
            "name": "秒杀拼团可用5元券",
            "kind": CouponKind.FIXED,
            "amount": 500,
            "min_spend": 3000,
            "stack_with_activity": True,
        },
    ]
    if first_category:
        wanted.append(
            {
                "name": "精选类目立减20",
                "kind": CouponKind.THRESHOLD,
                "amount": 2000,
                "min_spend": 10000,
                "scope": CouponScope.CATEGORIES,
                "category_ids": [first_category],
            }
        )
    have = set(CouponTemplate.objects.filter(name__in=[w["name"] for w in wanted]).values_list("name", flat=True))
    created = 0
    for done, values in enumerate(wanted, 1):
        if values["name"] not in have:
            CouponTemplate.objects.create(valid_until=until, total_quantity=10_000, per_person_limit=1, **values)
            created += 1
        progress.update(done, len(wanted))
    return created


def seed_flash_sale(progress: Progress) -> int:
    """A rolling two-hour session started on the hour before seeding: live whenever the demo runs."""
    if FlashSession.objects.filter(name=FLASH_SESSION).exists():
        progress.update(1, 1)
        return 0
    now = timezone.now()
    start = now.replace(minute=0, second=0, microsecond=0)
    session = FlashSession.objects.create(
        name=FLASH_SESSION, starts_at=start, ends_at=start + timedelta(hours=2), rolling=True
    )
    created = 1

    for i, sku in enumerate(_skus(6)):
        free = sellable([sku.pk]).get(sku.pk, 0)
        flash.add_item(
            None,
            session.pk,
            {
                "sku_id": sku.pk,
                "flash_price": max(1, sku.price * (40 + 5 * i) // 100),
                "stock": min(50 + 25 * i, free // 2),  # half of what the shelf holds is set aside
                "per_person_limit": 1 + i % 2,
                "sort": i,
            },
        )
        created += 1
        progress.update(i + 1, 6)
    return created


def _fund(user: Any, amount: int) -> None:
    ledger.transfer(
        kind="wallet_topup",
        key=f"demo-marketing-fund:{user.pk}",
        source=ledger.platform_account(AccountKind.PLATFORM_TOPUP),
        target=ledger.user_account(user.pk, AccountKind.WALLET),
        amount=amount,
    )


def seed_group_buys(progress: Progress) -> int:
    """Two 拼团 campaigns, each with an open group (its leader paid) waiting for others."""
    now = timezone.now()
    leaders = demo_buyers()[:4]
    created = 0
    for index, sku in enumerate(_skus(2, offset=6)):
        name = f"{sku.product.name} {3 if index == 0 else 2}人团"
        campaign = GroupBuyCampaign.objects.filter(name=name).first()
        if campaign is None:
            campaign = GroupBuyCampaign.objects.create(
                name=name,
                sku=sku,
                group_price=max(1, sku.price * 7 // 10),
                group_size=3 if index == 0 else 2,
                starts_at=now - timedelta(hours=1),
                ends_at=now + timedelta(days=CAMPAIGN_DAYS),
                complete_percent=0,
            )
            created += 1
        if (
            not Group.objects.filter(campaign=campaign, status=GroupStatus.OPEN, expires_at__gt=now).exists()
            and leaders
        ):
            leader = leaders[index % len(leaders)]
            _fund(leader, 500_000)
            _group, order = groups.open_group(leader, campaign.pk, now=now)
            pay_with_wallet(leader, order.pk)
            deliver_pending()
            created += 2
        progress.update(index + 1, 2)
    return created


def seed_bargain(progress: Progress) -> int:
    """A bargain campaign and one buyer's bargain that two friends have already helped."""
    now = timezone.now()
    created = 0
    buyers = demo_buyers()
    skus = _skus(1, offset=8)
    if not skus or len(buyers) < 8:
        return 0
    sku = skus[0]
    name = f"砍价：{sku.product.name}"
    campaign = BargainCampaign.objects.filter(name=name).first()
    if campaign is None:
        campaign = BargainCampaign.objects.create(
            name=name,
            sku=sku,
            floor_price=max(0, sku.price // 10),
            helpers_needed=5,
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(days=CAMPAIGN_DAYS),
            time_limit_hours=24 * 30,
        )
        created += 1
    starter, helpers = buyers[5], buyers[6:8]
    if not Bargain.objects.filter(campaign=campaign, user=starter).exists():
        bargain = bargains.start(starter, campaign.pk, now=now)
        created += 1
        for helper in helpers:
            bargains.help_cut(helper, bargain.pk, now=now)
            created += 1
    progress.update(1, 1)
    return created


def seed_banners(progress: Progress) -> int:
    """Three carousel slides: the flash sale, the 拼团 page and the first category."""
    category = Category.objects.filter(is_active=True, parent__isnull=True).order_by("sort", "id").first()
    wanted = [
        ("限时秒杀 每两小时一场", "爆款低至 4 折，手慢无", "整点开抢", reverse("storefront:mkt_flash"), 1),
        ("邻里拼团 越拼越省", "好友成团立享 7 折", "拼团特惠", reverse("storefront:mkt_groups"), 2),
    ]
    if category is not None:
        link = reverse("storefront:category", args=[category.pk])
        wanted.append((f"{category.name}节 产地直发", "精选好物 满99减10", "新品上市", link, 0))
    have = set(Banner.objects.filter(title__in=[w[0] for w in wanted]).values_list("title", flat=True))
    created = 0
    for sort, (title, subtitle, badge, link, palette) in enumerate(wanted):
        if title not in have:
            data = {"title": title, "subtitle": subtitle, "link": link, "sort": sort}
            banners.create_banner(data, banner_image(palette, title, subtitle, badge))
            created += 1
        progress.update(sort + 1, len(wanted))
    return created


STEPS: list[tuple[str, Callable[[Progress], int]]] = [
    ("coupons", seed_coupons),
    ("flash sale", seed_flash_sale),
    ("group buys", seed_group_buys),
    ("bargain", seed_bargain),
    ("banners", seed_banners),
]
