"""The community demo: three groups with members, topics, a live red packet, a guest Q&A, sign-up lists; once."""

from __future__ import annotations

import io

import pytest

from jishi.community.demo import STEPS as COMMUNITY_STEPS
from jishi.community.models import Group, GroupCoupon, GroupRedPacket, GuestSession, Membership, PacketStatus, Topic
from jishi.core.ledger import check_ledger
from jishi.demo.seed import FRESH_PHONES, STEPS, Progress
from jishi.payments.demo import STEPS as PAYMENT_STEPS

pytestmark = pytest.mark.django_db


def run(steps: list) -> None:
    out = io.StringIO()
    for index, (name, step) in enumerate(steps, 1):
        step(Progress(out, index, len(steps), name))


def test_demo_groups_are_seeded_once() -> None:
    wallets_only = [s for s in PAYMENT_STEPS if "wallet" in s[0]]
    run([*STEPS, *wallets_only, *COMMUNITY_STEPS])
    assert list(Group.objects.order_by("id").values_list("name", "join_mode")) == [
        ("茶友会", "open"),
        ("宝妈团", "approval"),
        ("本地生活", "invite"),
    ]
    packet = GroupRedPacket.objects.get()
    assert (packet.status, packet.claimed_count, packet.shares) == (PacketStatus.ACTIVE, 2, 5)
    assert GuestSession.objects.get().announced_count == 6
    assert Topic.objects.filter(kind="signup").count() == 2
    coupon = GroupCoupon.objects.select_related("group", "template").get()
    assert (coupon.group.name, coupon.template.audience, coupon.template.issued) == ("茶友会", "community_group", 1)
    counts = (Membership.objects.count(), Topic.objects.count(), GroupRedPacket.objects.count())
    run(COMMUNITY_STEPS)
    assert (Membership.objects.count(), Topic.objects.count(), GroupRedPacket.objects.count()) == counts
    assert not Membership.objects.filter(user__phone__in=FRESH_PHONES).exists()
    assert check_ledger() == []
