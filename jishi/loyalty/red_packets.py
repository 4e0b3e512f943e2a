"""Red packets: cash from a named platform budget to a buyer's wallet, through the ledger.

Budget (PLATFORM_BUDGET ``red_packet:<code>``) is funded from PLATFORM_EXPENSE. Granting reserves
the amount with a conditional update of ``remaining`` (so a budget is never overspent under any
interleaving) and moves it to the buyer's RED_PACKET account; claiming moves it on to the wallet;
a packet not claimed in time goes back to the budget. The budget account's balance always equals
``remaining`` plus nothing in flight: granted-but-unclaimed money sits on the buyer's RED_PACKET account.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jishi.core import audit, events, ledger
from jishi.core.errors import Conflict, InvalidInput, NotFound
from jishi.core.models import AccountKind
from jishi.core.sql import insert_once

from .conf import loyalty_settings
from .models import RedPacket, RedPacketBudget, RedPacketStatus


class BudgetExhausted(Conflict):
    code = "budget_exhausted"
    default_message = gettext_lazy("红包预算不足")


def budget_account(budget: RedPacketBudget) -> Any:
    return ledger.platform_account(AccountKind.PLATFORM_BUDGET, budget.account_name)


def _budget(budget: RedPacketBudget | str | int) -> RedPacketBudget:
    if isinstance(budget, RedPacketBudget):
        return budget
    rows = (
        RedPacketBudget.objects.filter(code=budget)
        if isinstance(budget, str)
        else RedPacketBudget.objects.filter(pk=budget)
    )
    found = rows.first()
    if found is None:
        raise NotFound(_("红包预算不存在"), code="budget_not_found")
    return found


def create_budget(actor: Any, code: str, name: str) -> RedPacketBudget:
    budget, _created = RedPacketBudget.objects.get_or_create(code=code, defaults={"name": name})
    audit.record(actor, "red_packet_budget.create", f"red_packet_budget:{budget.pk}", code=code, name=name)
    return budget


def fund_budget(
    actor: Any, budget: RedPacketBudget | str | int, amount: int, key: str, note: str = ""
) -> RedPacketBudget:
    """Put ``amount`` fen from platform expense into the budget (once per ``key``), audited."""
    if amount <= 0:
        raise InvalidInput(fields={"amount": [_("须大于 0")]})
    found = _budget(budget)
    with transaction.atomic():
        posting = ledger.transfer(
            kind="red_packet_budget_fund",
            key=f"red_packet_budget:fund:{key}",
            source=ledger.platform_account(AccountKind.PLATFORM_EXPENSE),
            target=budget_account(found),
            amount=amount,
            reference=f"red_packet_budget:{found.pk}",
            memo=note,
        )
        if posting.created:
            RedPacketBudget.objects.filter(pk=found.pk).update(
                funded=F("funded") + amount, remaining=F("remaining") + amount
            )
            audit.record(actor, "red_packet_budget.fund", f"red_packet_budget:{found.pk}", amount=amount, note=note)
    found.refresh_from_db()
    return found


def grant_red_packet(
    user: Any,
    amount: int,
    budget: RedPacketBudget | str | int,
    reason: str,
    key: str,
    *,
    valid_days: int | None = None,
    now: datetime | None = None,
    actor: Any = None,
) -> RedPacket:
    """Grant a red packet once per ``key`` (a replay returns the first packet); 409 if the budget runs short."""
    if amount <= 0:
        raise InvalidInput(fields={"amount": [_("须大于 0")]})
    found = _budget(budget)
    now = now or timezone.now()
    days = loyalty_settings().red_packet_valid_days if valid_days is None else valid_days
    with transaction.atomic():
        packet_id = insert_once(
            RedPacket,
            {
                "user": user.pk,
                "budget": found.pk,
                "key": key[:160],
                "amount": amount,
                "reason": reason[:120],
                "status": RedPacketStatus.PENDING,
                "expires_at": now + timedelta(days=days),
                "granted_at": now,
            },
            conflict=["key"],
        )
        if packet_id is None:
            return RedPacket.objects.get(key=key[:160])
        if not RedPacketBudget.objects.filter(pk=found.pk, is_active=True, remaining__gte=amount).update(
            remaining=F("remaining") - amount
        ):
            raise BudgetExhausted(fields={"budget": [found.code]})
        ledger.transfer(
            kind="red_packet_grant",
            key=f"red_packet:grant:{packet_id}",
            source=budget_account(found),
            target=ledger.user_account(user.pk, AccountKind.RED_PACKET),
            amount=amount,
            reference=f"red_packet:{packet_id}",
            memo=reason[:120],
        )
        events.publish(
            "red_packet.granted",
            {"packet_id": packet_id, "user_id": user.pk, "amount": amount, "reason": reason[:120]},
        )
        if actor is not None:
            audit.record(actor, "red_packet.grant", f"red_packet:{packet_id}", amount=amount, user=user.pk)
    return RedPacket.objects.get(pk=packet_id)


def packets_of(user: Any, status: str | None = None) -> list[RedPacket]:
    rows = RedPacket.objects.filter(user=user)
    if status:
        rows = rows.filter(status=status)
    return list(rows.order_by("-id")[:100])


def claim(user: Any, packet_id: int, now: datetime | None = None) -> RedPacket:
    """Move a pending, unexpired packet to the buyer's wallet. Someone else's packet is 404."""
    now = now or timezone.now()
    with transaction.atomic():
        packet = RedPacket.objects.filter(pk=packet_id, user=user).first()
        if packet is None:
            raise NotFound()
        if packet.status == RedPacketStatus.CLAIMED:
            raise Conflict(_("红包已领取"), code="red_packet_claimed")
        if packet.status == RedPacketStatus.EXPIRED or packet.expires_at <= now:
            raise Conflict(_("红包已过期"), code="red_packet_expired")
        if not RedPacket.objects.filter(pk=packet.pk, status=RedPacketStatus.PENDING, expires_at__gt=now).update(
            status=RedPacketStatus.CLAIMED, claimed_at=now
        ):
            raise Conflict(_("红包已领取"), code="red_packet_claimed")
        ledger.transfer(
            kind="red_packet_claim",
            key=f"red_packet:claim:{packet.pk}",
            source=ledger.user_account(user.pk, AccountKind.RED_PACKET),
            target=ledger.user_account(user.pk, AccountKind.WALLET),
            amount=packet.amount,
            reference=f"red_packet:{packet.pk}",
        )
    packet.refresh_from_db()
    return packet


def expire_red_packets(now: datetime | None = None, limit: int = 500) -> int:
    """Unclaimed packets past their time go back to their budget. Returns how many expired."""
    now = now or timezone.now()
    done = 0
    due = list(
        RedPacket.objects.filter(status=RedPacketStatus.PENDING, expires_at__lte=now)
        .select_related("budget")
        .order_by("id")[:limit]
    )
    for packet in due:
        with transaction.atomic():
            if not RedPacket.objects.filter(pk=packet.pk, status=RedPacketStatus.PENDING).update(
                status=RedPacketStatus.EXPIRED
            ):
                continue  # claimed in the meantime
            ledger.transfer(
                kind="red_packet_expire",
                key=f"red_packet:expire:{packet.pk}",
                source=ledger.user_account(packet.user_id, AccountKind.RED_PACKET),
                target=budget_account(packet.budget),
                amount=packet.amount,
                reference=f"red_packet:{packet.pk}",
            )
            RedPacketBudget.objects.filter(pk=packet.budget_id).update(remaining=F("remaining") + packet.amount)
            done += 1
    return done
