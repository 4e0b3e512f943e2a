"""Demo loyalty data: levels, buyers across levels with points histories and sign-ins, a stocked mall, red packets.

Every step is idempotent (ledger keys, unique rows, "only up to" growth) and leaves FRESH_PHONES alone.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.core.files.base import ContentFile
from django.utils import timezone

from jishi.catalog.models import ProductStatus, Sku
from jishi.demo.seed import Progress, demo_buyers

from . import levels, points, red_packets, signin
from .models import MallItem, MemberLevel, RedPacket, RedPacketBudget, SignIn

LEVELS = [
    {"name": "普通会员", "threshold": 0},
    {"name": "银卡会员", "threshold": 500, "points_multiplier_bp": 11000, "description": "1.1 倍购物积分"},
    {
        "name": "金卡会员",
        "threshold": 2000,
        "discount_bp": 200,
        "points_multiplier_bp": 12000,
        "description": "购物立减 2%，1.2 倍积分",
    },
    {
        "name": "钻石会员",
        "threshold": 8000,
        "discount_bp": 500,
        "free_shipping": True,
        "points_multiplier_bp": 15000,
        "description": "购物立减 5%，包邮，1.5 倍积分",
    },
]
# (growth, points earned from past orders, days of sign-in streak ending yesterday) per demo buyer, cycled.
PROFILES = [(9200, 3200, 12), (2600, 1500, 6), (800, 620, 3), (120, 80, 1), (3100, 2400, 0)]
MALL = [
    ("帆布环保购物袋", 300, 0, 50, 2),
    ("定制陶瓷马克杯", 800, 0, 30, 1),
    ("精选茶叶礼盒（积分+现金）", 1500, 2990, 20, 1),
    ("满 50 减 10 运费券礼包", 200, 0, 100, 0),
]


def seed_levels(progress: Progress) -> int:
    created = 0
    for i, spec in enumerate(LEVELS, 1):
        _level, made = MemberLevel.objects.get_or_create(threshold=spec["threshold"], defaults=spec)
        created += made
        progress.update(i, len(LEVELS))
    levels.forget_level_table()
    return created


def seed_members(progress: Progress) -> int:
    """Growth (only ever raised to the profile), earned points and past sign-ins for each demo buyer."""
    buyers = demo_buyers()
    created = 0
    today = timezone.now()
    for index, buyer in enumerate(buyers):
        growth, earned, streak = PROFILES[index % len(PROFILES)]
        current = levels.growth_of(buyer.pk)
        if current < growth:
            levels.change_growth(buyer.pk, growth - current, reference="demo")
            created += 1
        for part in range(4):
            created += bool(
                points.credit(
                    buyer.pk,
                    earned // 4,
                    kind="points_order",
                    key=f"demo:points:{buyer.pk}:{part}",
                    reference="demo",
                    now=today - timedelta(days=60 - part * 15),
                )
            )
        for days_ago in range(streak, 0, -1):
            when = today - timedelta(days=days_ago)
            if not SignIn.objects.filter(user=buyer, day=timezone.localdate(when)).exists():
                signin.sign_in(buyer, now=when)
                created += 1
        progress.update(index + 1, len(buyers))
    return created


def seed_mall(progress: Progress) -> int:
    skus = list(
        Sku.objects.filter(is_active=True, product__status=ProductStatus.PUBLISHED).order_by("price", "id")[: len(MALL)]
    )
    created = 0
    for i, ((name, cost, cash, stock, limit), sku) in enumerate(zip(MALL, skus, strict=False), 1):
        item, made = MallItem.objects.get_or_create(
            name=name,
            defaults={"sku": sku, "points": cost, "cash": cash, "stock": stock, "per_person_limit": limit, "sort": i},
        )
        created += made
        if not item.image:
            from jishi.demo.images import mall_image

            item.image.save(f"mall-{i}.jpg", ContentFile(mall_image(name)), save=True)
        progress.update(i, len(MALL))
    return created


def seed_red_packets(progress: Progress) -> int:
    budget = RedPacketBudget.objects.filter(code="demo-welcome").first()
    created = 0
    if budget is None:
        budget = red_packets.create_budget(None, "demo-welcome", "新人与活动红包")
        created += 1
    red_packets.fund_budget(None, budget, 50_000, key="demo-welcome-initial", note="演示预算")
    buyers = demo_buyers()[:6]
    for i, buyer in enumerate(buyers):
        key = f"demo:red_packet:{buyer.pk}"
        if not RedPacket.objects.filter(key=key).exists():
            red_packets.grant_red_packet(buyer, 188 + i * 100, budget, "会员日红包", key=key, valid_days=7)
            created += 1
        progress.update(i + 1, len(buyers))
    return created


def _forgetting(step: Callable[[Progress], int]) -> Callable[[Progress], int]:
    """Leave no cached level table behind (a seed inside a rolled-back test must not outlive it)."""

    def run(progress: Progress) -> int:
        try:
            return step(progress)
        finally:
            levels.forget_level_table()

    return run


STEPS: list[tuple[str, Callable[[Progress], int]]] = [
    ("loyalty levels", _forgetting(seed_levels)),
    ("loyalty members", _forgetting(seed_members)),
    ("points mall", seed_mall),
    ("red packets", seed_red_packets),
]
