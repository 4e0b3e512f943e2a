"""Group red packets: splits, sending from the wallet, claiming once, refunds once, the ledger check."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from conftest import Api
from jishi.accounts.services import issue_token
from jishi.community import red_packets
from jishi.community.models import GroupRedPacket, PacketStatus, RedPacketShare
from jishi.core import ledger
from jishi.core.events import deliver_event, deliver_pending
from jishi.core.ledger import check_ledger
from jishi.core.models import AccountKind, HandlerRun, OutboxEvent
from jishi.notify.models import Message
from jishi.testing.factories import UserFactory

from .conftest import make_group, member


def wallet_of(user) -> int:
    return ledger.balance_of(user.pk, AccountKind.WALLET)


@given(
    amount=st.integers(min_value=1, max_value=2_000_000),
    shares=st.integers(min_value=1, max_value=500),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_random_split_gives_every_share_a_fen_and_sums_exactly(amount: int, shares: int, seed: int) -> None:
    shares = min(shares, amount)
    parts = red_packets.split_shares(amount, shares, "random", random.Random(seed))
    assert len(parts) == shares
    assert sum(parts) == amount
    assert min(parts) >= 1


@given(amount=st.integers(min_value=1, max_value=2_000_000), shares=st.integers(min_value=1, max_value=500))
def test_even_split_differs_by_at_most_a_fen(amount: int, shares: int) -> None:
    shares = min(shares, amount)
    parts = red_packets.split_shares(amount, shares, "even")
    assert sum(parts) == amount
    assert max(parts) - min(parts) <= 1
    assert min(parts) >= 1


def test_split_refuses_less_than_a_fen_per_share() -> None:
    with pytest.raises(ValueError):
        red_packets.split_shares(2, 3, "random")


@pytest.mark.django_db
class TestSendAndClaim:
    def setup_group(self, n: int = 3, wallet: int = 10_000):
        group = make_group()
        funder = member(group, wallet=wallet)
        others = [member(group) for _ in range(n)]
        return group, funder, others

    def test_a_member_sends_from_the_wallet(self) -> None:
        group, funder, _others = self.setup_group()
        res = Api(issue_token(funder)).post(
            f"community/groups/{group.pk}/red-packets",
            {"amount": 888, "shares": 3, "split": "random", "source": "wallet"},
        )
        assert res.status_code == 201
        body = res.json()
        assert (body["amount"], body["shares"], body["status"]) == (888, 3, "active")
        packet = GroupRedPacket.objects.get(pk=body["id"])
        assert sum(RedPacketShare.objects.filter(packet=packet).values_list("amount", flat=True)) == 888
        assert wallet_of(funder) == 10_000 - 888
        assert ledger.balance(red_packets.packet_account(packet.pk)) == 888
        assert check_ledger() == []

    def test_short_wallet_writes_nothing(self) -> None:
        group, funder, _others = self.setup_group(wallet=100)
        res = Api(issue_token(funder)).post(
            f"community/groups/{group.pk}/red-packets", {"amount": 888, "shares": 3, "split": "even"}
        )
        assert (res.status_code, res.json()["error"]["code"]) == (409, "insufficient_balance")
        assert GroupRedPacket.objects.count() == 0
        assert RedPacketShare.objects.count() == 0
        assert wallet_of(funder) == 100

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"amount": 2, "shares": 3, "split": "even"}, "amount"),
            ({"amount": 100, "shares": 10, "split": "even"}, "shares"),  # more shares than members
            ({"amount": 0, "shares": 1, "split": "even"}, "amount"),
            ({"amount": 100, "shares": 1, "split": "lucky"}, "split"),
            ({"amount": 100, "shares": 1, "split": "even", "source": "budget"}, "source"),
        ],
    )
    def test_bad_packets_are_422(self, body: dict, field: str) -> None:
        group, funder, _others = self.setup_group()
        res = Api(issue_token(funder)).post(f"community/groups/{group.pk}/red-packets", body)
        assert res.status_code == 422
        assert field in res.json()["error"]["fields"]
        assert GroupRedPacket.objects.count() == 0

    def test_only_members_who_read_the_rules_send(self) -> None:
        group = make_group()
        newcomer = member(group, ack=False, wallet=1000)
        outsider = UserFactory()
        body = {"amount": 100, "shares": 1, "split": "even"}
        res = Api(issue_token(newcomer)).post(f"community/groups/{group.pk}/red-packets", body)
        assert res.json()["error"]["code"] == "rules_not_acknowledged"
        res = Api(issue_token(outsider)).post(f"community/groups/{group.pk}/red-packets", body)
        assert res.json()["error"]["code"] == "not_member"

    def test_claims_once_each_until_empty(self) -> None:
        group, funder, others = self.setup_group(n=3)
        packet = red_packets.send(funder, group.pk, amount=301, shares=2, split="even")
        first, second, third = (Api(issue_token(u)) for u in others)
        res = first.post(f"community/red-packets/{packet.pk}/claim")
        assert res.status_code == 200
        assert res.json() == {"amount": 151, "packet_id": packet.pk}
        again = first.post(f"community/red-packets/{packet.pk}/claim")
        assert (again.status_code, again.json()["error"]["code"]) == (409, "already_claimed")
        assert second.post(f"community/red-packets/{packet.pk}/claim").json()["amount"] == 150
        empty = third.post(f"community/red-packets/{packet.pk}/claim")
        assert (empty.status_code, empty.json()["error"]["code"]) == (409, "red_packet_empty")
        packet.refresh_from_db()
        assert (packet.status, packet.claimed_count, packet.claimed_amount) == (PacketStatus.EMPTY, 2, 301)
        assert [wallet_of(u) for u in others] == [151, 150, 0]
        detail = first.get(f"community/red-packets/{packet.pk}").json()
        assert [c["amount"] for c in detail["claims"]] == [151, 150]
        assert detail["mine"] == 151
        assert check_ledger() == []

    def test_non_members_get_403(self) -> None:
        group, funder, _others = self.setup_group()
        packet = red_packets.send(funder, group.pk, amount=300, shares=3, split="random")
        res = Api(issue_token(UserFactory())).post(f"community/red-packets/{packet.pk}/claim")
        assert (res.status_code, res.json()["error"]["code"]) == (403, "not_member")
        assert Api(issue_token(UserFactory())).post("community/red-packets/999999/claim").status_code == 404

    def test_claim_queries_are_bounded_and_the_packet_row_is_touched_last(self) -> None:
        group, funder, others = self.setup_group()
        packet = red_packets.send(funder, group.pk, amount=300, shares=3, split="random")
        red_packets.claim(others[0], packet.pk)
        ledger.user_account(others[1].pk, AccountKind.WALLET)  # a member who has a wallet already
        with CaptureQueriesContext(connection) as ctx:
            red_packets.claim(others[1], packet.pk)
        statements = [q["sql"] for q in ctx.captured_queries]
        # Read packet, membership and a claim at once; take a share; the two accounts (the packet's is kept
        # in-process after a commit, which this test never makes); the posting (3); touch; outbox;
        # the packet's counters; one savepoint pair.
        assert len(statements) == 12, "\n".join(statements)
        packet_table = GroupRedPacket._meta.db_table
        writes = [i for i, sql in enumerate(statements) if sql.startswith("UPDATE") and packet_table in sql]
        assert len(writes) == 1
        # Nothing but savepoint releases follows the counter update: its row lock is held
        # for that statement and the commit, never across the ledger posting.
        assert all(sql.startswith("RELEASE SAVEPOINT") for sql in statements[writes[0] + 1 :])
        assert not any("FOR UPDATE" in sql and packet_table in sql.split("FROM")[1][:60] for sql in statements)

    def test_unclaimed_remainder_goes_back_once(self) -> None:
        group, funder, others = self.setup_group()
        packet = red_packets.send(funder, group.pk, amount=1000, shares=3, split="random")
        share = red_packets.claim(others[0], packet.pk)
        later = timezone.now() + timedelta(hours=24, seconds=1)
        assert red_packets.refund_due(now=timezone.now()) == 0
        assert red_packets.refund_due(now=later) == 1
        assert red_packets.refund_due(now=later) == 0  # a replayed job changes nothing
        packet.refresh_from_db()
        assert (packet.status, packet.refunded_amount) == (PacketStatus.REFUNDED, 1000 - share.amount)
        assert wallet_of(funder) == 10_000 - share.amount
        assert ledger.balance(red_packets.packet_account(packet.pk)) == 0
        res = Api(issue_token(others[1])).post(f"community/red-packets/{packet.pk}/claim")
        assert res.json()["error"]["code"] == "red_packet_empty"
        assert check_ledger() == []

    def test_expired_but_not_yet_refunded_cannot_be_claimed(self) -> None:
        group, funder, others = self.setup_group()
        packet = red_packets.send(funder, group.pk, amount=300, shares=3, split="even")
        with pytest.raises(red_packets.RedPacketExpired):
            red_packets.claim(others[0], packet.pk, now=timezone.now() + timedelta(hours=25))

    def test_an_emptied_packet_is_not_refunded(self) -> None:
        group, funder, others = self.setup_group(n=1)
        packet = red_packets.send(funder, group.pk, amount=500, shares=1, split="random")
        red_packets.claim(others[0], packet.pk)
        assert red_packets.refund_due(now=timezone.now() + timedelta(days=2)) == 0
        assert wallet_of(others[0]) == 500

    def test_operator_budget_packet_refunds_to_expense(self, operator_api: Api) -> None:
        group, _funder, others = self.setup_group()
        res = operator_api.post(
            f"admin/community/groups/{group.pk}/red-packets", {"amount": 600, "shares": 2, "split": "even"}
        )
        assert res.status_code == 201
        packet_id = res.json()["id"]
        expense = ledger.platform_account(AccountKind.PLATFORM_EXPENSE)
        before = ledger.balance(expense)
        red_packets.claim(others[0], packet_id)
        red_packets.refund_due(now=timezone.now() + timedelta(days=2))
        assert ledger.balance(expense) == before + 300
        assert check_ledger() == []

    def test_check_ledger_sees_a_packet_out_of_step(self) -> None:
        group, funder, others = self.setup_group()
        packet = red_packets.send(funder, group.pk, amount=300, shares=3, split="even")
        GroupRedPacket.objects.filter(pk=packet.pk).update(claimed_amount=100)
        problems = check_ledger()
        assert len(problems) == 2
        assert problems[0] == (
            f"community: group red packet {packet.pk}: account platform:platform_budget:group_red_packet:{packet.pk} "
            "holds 300, expected 200"
        )


@pytest.mark.django_db
def test_budget_packets_are_for_operators(buyer_api: Api) -> None:
    group = make_group()
    member(group)
    res = buyer_api.post(
        f"admin/community/groups/{group.pk}/red-packets", {"amount": 600, "shares": 1, "split": "even"}
    )
    assert res.status_code == 403


@pytest.mark.django_db
class TestNotices:
    """Red-packet notices reach the inbox through the outbox, once per fact."""

    def redeliver(self, name: str) -> None:
        for event in OutboxEvent.objects.filter(name=name):
            HandlerRun.objects.filter(event=event).delete()
            deliver_event(event)

    def test_the_claimer_is_told_once(self) -> None:
        group = make_group()
        funder = member(group, wallet=10_000)
        claimer = member(group)
        packet = red_packets.send(funder, group.pk, amount=500, shares=1, split="random")
        red_packets.claim(claimer, packet.pk)
        deliver_pending()
        self.redeliver("community.red_packet.claimed")

        messages = list(Message.objects.filter(user=claimer))
        assert [(m.category, m.title, m.link) for m in messages] == [
            ("community", "你领到一个 ¥5.00 群红包", f"/community/red-packets/{packet.pk}/")
        ]
        assert messages[0].body == "¥5.00 已存入你的余额。"
        assert not Message.objects.filter(user=funder).exists()

    def test_the_funder_is_told_once_when_the_remainder_comes_back(self) -> None:
        group = make_group()
        funder = member(group, wallet=10_000)
        claimer = member(group)
        member(group)
        packet = red_packets.send(funder, group.pk, amount=1000, shares=2, split="even")
        red_packets.claim(claimer, packet.pk)
        later = timezone.now() + timedelta(hours=24, seconds=1)
        red_packets.refund_due(now=later)
        red_packets.refund_due(now=later)
        deliver_pending()
        self.redeliver("community.red_packet.refunded")

        messages = list(Message.objects.filter(user=funder))
        assert [(m.title, m.body) for m in messages] == [
            ("群红包未领完，已退回 ¥5.00", "你发的群红包被领取 1/2 份，剩余 ¥5.00 已退回你的余额。")
        ]

    def test_an_emptied_packet_tells_no_funder(self) -> None:
        group = make_group()
        funder = member(group, wallet=10_000)
        claimer = member(group)
        packet = red_packets.send(funder, group.pk, amount=300, shares=1, split="even")
        red_packets.claim(claimer, packet.pk)
        red_packets.refund_due(now=timezone.now() + timedelta(days=2))
        deliver_pending()
        assert not Message.objects.filter(user=funder).exists()
        assert Message.objects.filter(user=claimer).count() == 1

    def test_an_operator_budget_packet_refund_tells_no_one(self, operator_api: Api) -> None:
        group = make_group()
        claimer = member(group)
        member(group)
        res = operator_api.post(
            f"admin/community/groups/{group.pk}/red-packets", {"amount": 600, "shares": 2, "split": "even"}
        )
        red_packets.claim(claimer, res.json()["id"])
        red_packets.refund_due(now=timezone.now() + timedelta(days=2))
        deliver_pending()
        assert OutboxEvent.objects.filter(name="community.red_packet.refunded").count() == 1
        assert Message.objects.exclude(user=claimer).count() == 0
