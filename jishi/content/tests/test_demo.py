"""The content demo: posts in every form, topics, rewards and attributed orders, seeded once."""

from __future__ import annotations

import io

import pytest

from jishi.content.demo import STEPS as CONTENT_STEPS
from jishi.content.models import AttributedLine, Like, Post, RewardGrant, RewardRule, Topic
from jishi.core.ledger import check_ledger
from jishi.demo.seed import FRESH_PHONES, STEPS, Progress
from jishi.payments.demo import STEPS as PAYMENT_STEPS

pytestmark = pytest.mark.django_db


def run(steps: list) -> None:
    out = io.StringIO()
    for index, (name, step) in enumerate(steps, 1):
        step(Progress(out, index, len(steps), name))


def counts() -> tuple[int, ...]:
    return (
        Post.objects.count(),
        Topic.objects.count(),
        Like.objects.count(),
        RewardGrant.objects.count(),
        AttributedLine.objects.count(),
    )


def test_demo_content_is_seeded_once_and_leaves_fresh_buyers_alone() -> None:
    wallets_only = [s for s in PAYMENT_STEPS if "wallet" in s[0]]
    run([*STEPS, *wallets_only, *CONTENT_STEPS])
    first = counts()
    assert first[0] >= 30
    assert set(Post.objects.values_list("form", flat=True)) == {"list", "review", "share", "kol"}
    # Every post carries pictures: a cover drawn for it, then up to two of the product's own.
    image_counts = [p.images.count() for p in Post.objects.all()]
    assert min(image_counts) == 1 and max(image_counts) == 3
    assert first[1] == 4
    assert first[3] >= 1
    assert first[4] >= 1
    assert RewardRule.objects.filter(is_active=True, threshold=10).exists()
    assert Post.objects.filter(status="pending").exists()
    run(CONTENT_STEPS)
    assert counts() == first
    assert not Post.objects.filter(author__phone__in=FRESH_PHONES).exists()
    assert not Like.objects.filter(user__phone__in=FRESH_PHONES).exists()
    assert check_ledger() == []
