"""Content fixtures: a creator, a product to link, a funded reward rule, and one-line post helpers."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from PIL import Image

from jishi.accounts.models import User
from jishi.catalog.models import Sku
from jishi.content import services
from jishi.content.models import Post, RewardRule
from jishi.core.events import deliver_pending
from jishi.loyalty.red_packets import create_budget
from jishi.loyalty.services import fund_budget
from jishi.testing.factories import OperatorFactory, UserFactory
from jishi.testing.shop import Shopper, shopper, skus


def photo(size: tuple[int, int] = (1600, 900), colour: tuple[int, int, int] = (200, 80, 60)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


def old_user(**kwargs: Any) -> User:
    """A buyer whose account predates any post made in the test (anti-gaming counts them)."""
    user = UserFactory(**kwargs)
    User.objects.filter(pk=user.pk).update(date_joined=timezone.now() - timedelta(days=30))
    user.refresh_from_db()
    return user


@pytest.fixture
def sku(db: Any) -> Sku:
    return skus(10000, stock=50)[0]


@pytest.fixture
def creator(db: Any) -> Shopper:
    s = shopper()
    User.objects.filter(pk=s.user.pk).update(date_joined=timezone.now() - timedelta(days=60))
    s.user.refresh_from_db()
    return s


@pytest.fixture
def moderator(db: Any) -> User:
    return OperatorFactory()


def write_post(author: User, *, product_ids: list[int] | None = None, **overrides: Any) -> Post:
    data = {"form": "kol", "title": "夏日必备好物", "body": "真的好用，推荐！", "product_ids": product_ids or []}
    data.update(overrides)
    return services.create_post(author, services.PostInput(**data))


def published_post(author: User, moderator: User, **kwargs: Any) -> Post:
    post = write_post(author, **kwargs)
    services.approve_post(moderator, post.pk)
    deliver_pending()
    post.refresh_from_db()
    return post


@pytest.fixture
def reward_rule(db: Any, moderator: User) -> RewardRule:
    """¥5.00 and 20 points at 10 interactions, ¥50 a day; loyalty's "content" budget holds ¥100."""
    create_budget(moderator, "content", "内容奖励")
    fund_budget(moderator, "content", 10_000, key="test-content-budget")
    return RewardRule.objects.create(
        name="10 赞红包", threshold=10, red_packet=500, points=20, daily_budget=5_000, daily_points_budget=1_000
    )
