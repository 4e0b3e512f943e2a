"""The loyalty demo steps: something to see, idempotent, fresh buyers untouched."""

from __future__ import annotations

import io

import pytest

from jishi.core.ledger import check_ledger
from jishi.core.models import Transaction
from jishi.demo.seed import BUYER_PHONES, FRESH_PHONES, Progress
from jishi.loyalty.demo import STEPS
from jishi.loyalty.models import MallItem, Member, RedPacket, SignIn
from jishi.testing.factories import UserFactory
from jishi.testing.shop import skus

from .conftest import points_of

pytestmark = pytest.mark.django_db


def run_steps() -> dict[str, int]:
    out = io.StringIO()
    return {name: step(Progress(out, i, len(STEPS), name)) for i, (name, step) in enumerate(STEPS, 1)}


def counts() -> tuple[int, ...]:
    return (
        Member.objects.count(),
        SignIn.objects.count(),
        MallItem.objects.count(),
        RedPacket.objects.count(),
        Transaction.objects.count(),
    )


def test_demo_seeds_once_and_leaves_fresh_buyers_alone() -> None:
    users = {phone: UserFactory(phone=phone) for phone in BUYER_PHONES}
    skus(990, 1990, 2990, 3990, stock=100)

    first = run_steps()
    before = counts()
    second = run_steps()

    assert all(n > 0 for n in first.values()), first
    assert all(n == 0 for n in second.values()), second
    assert counts() == before
    levels_seen = set(Member.objects.values_list("level__name", flat=True))
    assert {"钻石会员", "金卡会员", "银卡会员", "普通会员"} <= levels_seen
    assert MallItem.objects.filter(stock__gt=0).count() == 4
    for phone in FRESH_PHONES:
        assert points_of(users[phone]) == 0
        assert not Member.objects.filter(user=users[phone]).exists()
    assert check_ledger() == []
