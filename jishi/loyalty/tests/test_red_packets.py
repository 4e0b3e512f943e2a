"""Red packets: from a funded budget to the buyer's wallet, once per key; expiry back to the budget."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import Api
from jishi.core import ledger
from jishi.core.events import deliver_pending
from jishi.core.ledger import check_ledger
from jishi.core.models import AccountKind, AuditLog
from jishi.loyalty import red_packets
from jishi.loyalty.models import RedPacket, RedPacketBudget, RedPacketStatus
from jishi.notify.models import Message
from jishi.testing.factories import UserFactory

from .conftest import wallet_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def budget(operator):
    b = red_packets.create_budget(operator, "content", "内容激励")
    return red_packets.fund_budget(operator, b, 10_000, key="fund-1")


def test_grant_then_claim_moves_cash_to_the_wallet(buyer, buyer_api: Api, budget) -> None:
    packet = red_packets.grant_red_packet(buyer, 888, "content", "笔记获赞奖励", key="post:1:reward")
    budget.refresh_from_db()
    assert budget.remaining == 10_000 - 888
    assert ledger.balance_of(buyer.pk, AccountKind.RED_PACKET) == 888
    deliver_pending()
    assert Message.objects.get(user=buyer, key=f"red_packet:{packet.pk}").title == "你收到一个 ¥8.88 红包"

    response = buyer_api.post(f"loyalty/red-packets/{packet.pk}/claim")

    assert response.status_code == 200
    assert response.json()["status"] == "claimed"
    assert wallet_of(buyer) == 888
    assert ledger.balance_of(buyer.pk, AccountKind.RED_PACKET) == 0
    again = buyer_api.post(f"loyalty/red-packets/{packet.pk}/claim")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "red_packet_claimed")
    assert check_ledger() == []


def test_the_same_key_grants_once(buyer, budget) -> None:
    first = red_packets.grant_red_packet(buyer, 100, "content", "r", key="k")
    second = red_packets.grant_red_packet(buyer, 100, "content", "r", key="k")
    assert first.pk == second.pk
    budget.refresh_from_db()
    assert budget.remaining == 9_900


def test_over_budget_is_409(buyer, budget) -> None:
    with pytest.raises(red_packets.BudgetExhausted):
        red_packets.grant_red_packet(buyer, 10_001, "content", "r", key="big")
    assert RedPacket.objects.count() == 0


def test_unclaimed_packets_expire_back_to_the_budget(buyer, buyer_api: Api, budget) -> None:
    now = timezone.now()
    packet = red_packets.grant_red_packet(buyer, 500, "content", "r", key="k", valid_days=1, now=now)
    assert red_packets.expire_red_packets(now=now + timedelta(hours=23)) == 0
    assert red_packets.expire_red_packets(now=now + timedelta(days=1)) == 1
    packet.refresh_from_db()
    assert packet.status == RedPacketStatus.EXPIRED
    budget.refresh_from_db()
    assert budget.remaining == 10_000
    assert ledger.balance(red_packets.budget_account(budget)) == 10_000
    late = buyer_api.post(f"loyalty/red-packets/{packet.pk}/claim")
    assert (late.status_code, late.json()["error"]["code"]) == (409, "red_packet_expired")
    assert check_ledger() == []


def test_someone_elses_packet_is_404(buyer, budget, other_buyer_api: Api) -> None:
    packet = red_packets.grant_red_packet(buyer, 100, "content", "r", key="k")
    assert other_buyer_api.post(f"loyalty/red-packets/{packet.pk}/claim").status_code == 404
    assert other_buyer_api.get("loyalty/red-packets").json() == []


def test_operator_funds_and_grants_through_the_api(operator_api: Api, buyer) -> None:
    created = operator_api.post("admin/loyalty/budgets", {"code": "ops", "name": "运营红包"}).json()
    funded = operator_api.post(f"admin/loyalty/budgets/{created['id']}/fund", {"amount": 5000, "key": "f1"})
    replay = operator_api.post(f"admin/loyalty/budgets/{created['id']}/fund", {"amount": 5000, "key": "f1"})
    assert funded.json()["remaining"] == replay.json()["remaining"] == 5000
    granted = operator_api.post(
        "admin/loyalty/red-packets",
        {"user_id": buyer.pk, "budget_id": created["id"], "amount": 1200, "reason": "客服补偿", "key": "cs-1"},
    )
    assert granted.status_code == 201
    assert granted.json()["amount"] == 1200
    assert AuditLog.objects.filter(action="red_packet.grant").count() == 1
    assert AuditLog.objects.filter(action="red_packet_budget.fund").count() == 1


def test_buyers_cannot_use_the_operator_api(buyer_api: Api) -> None:
    assert buyer_api.post("admin/loyalty/budgets", {"code": "x", "name": "x"}).status_code == 403
    assert UserFactory() is not None


def test_a_funding_key_reused_for_another_amount_is_a_409_and_moves_nothing(operator_api: Api) -> None:
    """Found by the served schemathesis run: a reused key with other money was a 500."""
    created = operator_api.post("admin/loyalty/budgets", {"code": "ops", "name": "运营"}).json()
    assert (
        operator_api.post(f"admin/loyalty/budgets/{created['id']}/fund", {"amount": 100, "key": "0"}).status_code == 200
    )

    again = operator_api.post(f"admin/loyalty/budgets/{created['id']}/fund", {"amount": 99_999_999_999, "key": "0"})

    assert (again.status_code, again.json()["error"]["code"]) == (409, "key_reused")
    assert RedPacketBudget.objects.get(pk=created["id"]).remaining == 100
