"""Red-packet races with real threads: every share claimed once, no member twice, the book balanced."""

from __future__ import annotations

from collections import Counter

import pytest

from conftest import Api
from jishi.accounts.services import issue_token
from jishi.community import red_packets
from jishi.community.models import GroupRedPacket, PacketStatus, RedPacketShare
from jishi.core import ledger
from jishi.core.ledger import check_ledger
from jishi.core.models import AccountKind
from jishi.testing.concurrency import race

from .conftest import make_group, member

pytestmark = pytest.mark.django_db(transaction=True)


def test_forty_members_race_for_ten_shares() -> None:
    group = make_group()
    funder = member(group, wallet=100_000)
    racers = [member(group) for _ in range(40)]
    packet = red_packets.send(funder, group.pk, amount=8_888, shares=10, split="random")
    tokens = [issue_token(u) for u in racers]

    def claim(i: int) -> int:
        return Api(tokens[i]).post(f"community/red-packets/{packet.pk}/claim").status_code

    assert Counter(race(40, claim)) == {200: 10, 409: 30}
    packet.refresh_from_db()
    assert (packet.status, packet.claimed_count, packet.claimed_amount) == (PacketStatus.EMPTY, 10, 8_888)
    winners = RedPacketShare.objects.filter(packet=packet, user__isnull=False)
    assert winners.values("user").distinct().count() == 10
    assert sum(ledger.balance_of(u.pk, AccountKind.WALLET) for u in racers) == 8_888
    assert check_ledger() == []


def test_one_member_double_clicks() -> None:
    group = make_group()
    funder = member(group, wallet=10_000)
    clicker = member(group)
    packet = red_packets.send(funder, group.pk, amount=1_000, shares=1, split="even")
    token = issue_token(clicker)

    def claim(i: int) -> int:
        return Api(token).post(f"community/red-packets/{packet.pk}/claim").status_code

    assert Counter(race(8, claim)) == {200: 1, 409: 7}
    assert ledger.balance_of(clicker.pk, AccountKind.WALLET) == 1_000
    assert GroupRedPacket.objects.get(pk=packet.pk).claimed_count == 1
    assert check_ledger() == []


def test_refund_job_racing_the_last_claims_pays_each_fen_once() -> None:
    from datetime import timedelta

    from django.utils import timezone

    group = make_group()
    funder = member(group, wallet=10_000)
    racers = [member(group) for _ in range(6)]
    packet = red_packets.send(funder, group.pk, amount=600, shares=6, split="even")
    due = timezone.now() + timedelta(hours=24)
    GroupRedPacket.objects.filter(pk=packet.pk).update(expires_at=due)
    before = due - timedelta(seconds=1)

    def work(i: int) -> object:
        if i == 6:
            return red_packets.refund_due(now=due)
        return red_packets.claim(racers[i], packet.pk, now=before).amount

    race(7, work)
    packet.refresh_from_db()
    assert packet.claimed_amount + packet.refunded_amount == 600
    paid = sum(ledger.balance_of(u.pk, AccountKind.WALLET) for u in racers)
    assert paid == packet.claimed_amount
    assert ledger.balance_of(funder.pk, AccountKind.WALLET) == 10_000 - 600 + packet.refunded_amount
    assert check_ledger() == []
