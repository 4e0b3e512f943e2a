"""Demo campaigns: live right after seeding, idempotent, fresh buyers untouched."""

from __future__ import annotations

import io

import pytest
from django.utils import timezone
from PIL import Image

from jishi.accounts.models import User
from jishi.catalog.models import Category
from jishi.demo import seed
from jishi.marketing import banners, demo, flash, groups
from jishi.marketing.models import Bargain, Coupon, CouponTemplate, GroupMember
from jishi.orders.models import Order

pytestmark = pytest.mark.django_db


def run(steps: list[tuple[str, seed.Step]]) -> dict[str, int]:
    out = io.StringIO()
    return {name: step(seed.Progress(out, i, len(steps), name)) for i, (name, step) in enumerate(steps, 1)}


def test_demo_campaigns_are_live_and_seeding_twice_creates_nothing() -> None:
    run([s for s in seed.STEPS if s[0] != "images"])

    first = run(demo.STEPS)
    second = run(demo.STEPS)

    assert all(first.values())
    assert second == {name: 0 for name, _step in demo.STEPS}
    assert CouponTemplate.objects.count() == 6
    (live,) = [v for v in flash.current_sessions() if v.live]
    assert len(live.items) == 6
    assert [len(open_groups) for _c, open_groups in groups.running_campaigns()] == [1, 1]
    assert Bargain.objects.get().helper_count == 2
    first_category = Category.objects.filter(parent__isnull=True).order_by("sort", "id").first()
    assert first_category is not None
    assert [b.link for b in banners.live_banners()] == ["/flash/", "/groups/", f"/c/{first_category.pk}/"]
    with Image.open(banners.live_banners()[0].image.path) as picture:
        assert picture.size == banners.BANNER_SIZE
    fresh = User.objects.filter(phone__in=seed.FRESH_PHONES)
    assert not Order.objects.filter(user__in=fresh).exists()
    assert not Coupon.objects.filter(user__in=fresh).exists()
    assert not GroupMember.objects.filter(user__in=fresh).exists()


def test_the_rolling_flash_session_is_live_days_later() -> None:
    run([s for s in seed.STEPS if s[0] != "images"])
    run(demo.STEPS)

    later = timezone.now() + timezone.timedelta(days=9, minutes=17)

    assert [v.live for v in flash.current_sessions(later)] == [True]
