"""Commission life: granted frozen at payment, available after completion and the freeze, reversed
in proportion on refund (into a recorded debt when already withdrawn), and withdrawn.

Ledger (fen): grant ``platform expense → frozen``; unfreeze ``frozen → available`` (debt first);
reversal ``frozen|available|debt → platform expense``; withdrawal hold ``available → payable``,
payout ``payable → wallet|cash + fee revenue``, rejection ``payable → available``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jishi.accounts.models import User
from jishi.core import audit, events, ledger
from jishi.core.conf import setting
from jishi.core.errors import Conflict, InvalidInput, NotFound
from jishi.core.models import Account, AccountKind
from jishi.core.money import BP_DENOMINATOR, allocate, apply_rate
from jishi.core.sql import insert_many_once, insert_once, update_many
from jishi.orders.models import AfterSale, AfterSaleStatus, Order

from .models import (
    SHOP_ORDER_SOURCES,
    Commission,
    CommissionRefund,
    CommissionStatus,
    Withdrawal,
    WithdrawalChannel,
    WithdrawalStatus,
)


@dataclass(frozen=True)
class Share:
    """One beneficiary's commission on one order line, as a feature computed it."""

    beneficiary_id: int
    level: int
    line_id: int | None
    product_id: int | None
    base_amount: int
    amount: int
    rate_bp: int | None = None


OPEN_CASE_STATUSES = (AfterSaleStatus.PENDING, AfterSaleStatus.REFUNDING)


def _expense() -> Account:
    return ledger.platform_account(AccountKind.PLATFORM_EXPENSE, "commission")


def _payable() -> Account:
    return ledger.platform_account(AccountKind.PLATFORM_PAYABLE, "withdrawals")


def grant(
    source: str, *, order_id: int, order_number: str, buyer_id: int, shares: Sequence[Share], freeze_days: int
) -> list[Commission]:
    """Create frozen commissions for one order, all in one balanced ledger transaction."""
    shares = [s for s in shares if s.amount > 0]
    if not shares:
        return []
    with transaction.atomic():
        legs: list[tuple[Account, int]] = [(_expense(), -sum(s.amount for s in shares))]
        frozen = ledger.user_accounts((s.beneficiary_id for s in shares), AccountKind.COMMISSION_FROZEN)
        legs.extend((frozen[s.beneficiary_id], s.amount) for s in shares)
        posting = ledger.post(
            kind="commission_grant",
            key=f"commission:grant:{source}:{order_id}",
            legs=legs,
            reference=f"order:{order_id}",
        )
        if not posting.created:
            return list(Commission.objects.filter(source=source, order_id=order_id))
        owed: dict[int, int] = defaultdict(int)
        for s in shares:
            owed[s.beneficiary_id] += s.amount
        events.publish(
            "commission.frozen",
            {
                "source": source,
                "order_id": order_id,
                "order_number": order_number,
                "amounts": [{"user_id": uid, "amount": amount} for uid, amount in sorted(owed.items())],
                "freeze_days": freeze_days,
            },
        )
        return Commission.objects.bulk_create(
            Commission(
                key=f"{source}:{order_id}:{s.line_id}:{s.level}:{s.beneficiary_id}",
                source=source,
                beneficiary_id=s.beneficiary_id,
                buyer_id=buyer_id,
                order_id=order_id,
                order_number=order_number,
                line_id=s.line_id,
                product_id=s.product_id,
                level=s.level,
                base_amount=s.base_amount,
                rate_bp=s.rate_bp,
                amount=s.amount,
                freeze_days=freeze_days,
            )
            for s in shares
        )


def schedule_unfreeze(order_id: int, completed_at: datetime) -> int:
    """The order completed: each frozen commission becomes due after its freeze days, and never
    before the after-sales window closes (a commission must not be withdrawn while the order
    can still be refunded)."""
    scheduled = 0
    window = timedelta(days=setting("AFTER_SALE_DAYS"))
    rows = Commission.objects.filter(
        order_id=order_id, source__in=SHOP_ORDER_SOURCES, status=CommissionStatus.FROZEN, unfreeze_at__isnull=True
    )
    for days in set(rows.values_list("freeze_days", flat=True)):
        due = completed_at + max(timedelta(days=days), window)
        scheduled += rows.filter(freeze_days=days).update(unfreeze_at=due)
    return scheduled


def unfreeze_due(now: datetime | None = None, limit: int = 1000) -> int:
    """Move due commissions to available, order by order, skipping orders with an open
    after-sales case. The order is locked before the check, so a case opened meanwhile either
    waits for this or is seen by it."""
    now = now or timezone.now()
    due = Commission.objects.filter(status=CommissionStatus.FROZEN, unfreeze_at__lte=now)
    order_ids = sorted(set(due.order_by("id").values_list("order_id", flat=True)[:limit]))
    moved = 0
    for order_id in order_ids:
        with transaction.atomic():
            # The order's lock (when it is a shop order: a rebate network order is not) makes a
            # case opened meanwhile wait for this, or be seen by it.
            Order.objects.select_for_update().filter(pk=order_id).first()
            if AfterSale.objects.filter(order_id=order_id, status__in=OPEN_CASE_STATUSES).exists():
                continue
            for commission in due.filter(order_id=order_id).select_for_update().order_by("id"):
                _release(commission, now)
                moved += 1
    return moved


def release_now(source: str, order_id: int, now: datetime | None = None) -> int:
    """Make one order's frozen commissions of ``source`` available at once (the order settled
    elsewhere, e.g. a rebate network paid); debt is repaid first. Returns how many moved."""
    now = now or timezone.now()
    moved = 0
    with transaction.atomic():
        rows = Commission.objects.select_for_update().filter(source=source, order_id=order_id).order_by("id")
        for commission in rows:
            if commission.status == CommissionStatus.FROZEN:
                _release(commission, now)
                moved += 1
    return moved


def _release(commission: Commission, now: datetime) -> None:
    amount = commission.remaining
    if amount > 0:
        user_id = commission.beneficiary_id
        debt, owed = _open_debt(user_id)
        repay = min(amount, owed)
        legs = [(ledger.user_account(user_id, AccountKind.COMMISSION_FROZEN), -amount)]
        if repay:
            legs.append((debt, repay))
        if amount - repay:
            legs.append((ledger.user_account(user_id, AccountKind.COMMISSION_AVAILABLE), amount - repay))
        ledger.post(
            kind="commission_unfreeze",
            key=f"commission:unfreeze:{commission.pk}",
            legs=legs,
            reference=f"order:{commission.order_id}",
        )
    Commission.objects.filter(pk=commission.pk).update(status=CommissionStatus.AVAILABLE, available_at=now)
    events.publish(
        "commission.available",
        {
            "commission_id": commission.pk,
            "user_id": commission.beneficiary_id,
            "amount": amount,
            "order_number": commission.order_number,
            "source": commission.source,
        },
    )


def _targets(group: list[Commission], refunded_base: int, full: bool) -> list[int]:
    """Cumulative reversal each commission of a line should have reached: the proportional
    share of the group's total, split by the allocation helper so no fen is lost or invented."""
    amounts = [c.amount for c in group]
    base = group[0].base_amount
    if full or refunded_base >= base or base <= 0:
        return amounts
    total = sum(amounts)
    target_total = (total * refunded_base * 2 + base) // (2 * base)  # half up
    return allocate(target_total, amounts)


def reverse_for_refund(
    *, order_id: int, refund_key: str, lines: Sequence[dict[str, Any]], full: bool, source: str | None = None
) -> int:
    """Reverse commissions on refunded lines in proportion; returns fen reversed.

    ``source`` None means a shop order's refund (every shop-order source); a rebate names its own."""
    refunded_by_line = {int(line["line_id"]): int(line["amount"]) for line in lines}
    with transaction.atomic():
        marker = {"order_id": order_id, "refund_key": refund_key}
        if insert_once(CommissionRefund, marker, conflict=["order_id", "refund_key"]) is None:
            return 0  # a replay: refunded_base already counts this refund
        rows = list(
            Commission.objects.select_for_update()
            .filter(order_id=order_id, source__in=[source] if source else SHOP_ORDER_SOURCES)
            .exclude(status=CommissionStatus.REVERSED)
            .order_by("id")
        )
        groups: dict[int | None, list[Commission]] = defaultdict(list)
        for row in rows:
            if full or row.line_id in refunded_by_line:
                groups[row.line_id].append(row)
        legs: list[tuple[Account, int]] = []
        available: dict[int, Account] = {}  # each beneficiary's available balance, locked once
        total = 0
        for line_id, group in groups.items():
            refunded_base = group[0].refunded_base + refunded_by_line.get(line_id or 0, 0)
            for commission, target in zip(group, _targets(group, refunded_base, full), strict=True):
                delta = max(0, min(target, commission.amount) - commission.reversed_amount)
                reversed_amount = commission.reversed_amount + delta
                status = CommissionStatus.REVERSED if reversed_amount == commission.amount else commission.status
                Commission.objects.filter(pk=commission.pk).update(
                    reversed_amount=reversed_amount, refunded_base=refunded_base, status=status
                )
                if delta:
                    legs.extend(_reversal_legs(commission, delta, available))
                    total += delta
        if total:
            legs.append((_expense(), total))
            ledger.post(
                kind="commission_reversal",
                key=f"commission:reverse:{source + ':' if source else ''}{order_id}:{refund_key}",
                legs=legs,
                reference=f"order:{order_id}",
            )
    return total


def _reversal_legs(commission: Commission, delta: int, available: dict[int, Account]) -> list[tuple[Account, int]]:
    """Legs taking ``delta`` back from one commission. ``available`` carries each beneficiary's
    available balance through the posting, less what earlier legs of it already take, so two
    commissions of one promoter never both count the same fen."""
    user_id = commission.beneficiary_id
    if commission.status == CommissionStatus.FROZEN:
        return [(ledger.user_account(user_id, AccountKind.COMMISSION_FROZEN), -delta)]
    account = available.get(user_id)
    if account is None:
        account = ledger.user_account(user_id, AccountKind.COMMISSION_AVAILABLE)
        account = available[user_id] = Account.objects.select_for_update().get(pk=account.pk)
    take = min(delta, account.balance)
    account.balance -= take
    legs = []
    if take:
        legs.append((account, -take))
    if delta - take:
        # Already withdrawn (or held by a pending withdrawal): the rest becomes a debt that
        # later commissions, and any withdrawal returned or paid, settle first.
        legs.append((ledger.receivable_account(user_id, AccountKind.COMMISSION_DEBT), -(delta - take)))
    return legs


def _open_debt(user_id: int) -> tuple[Account, int]:
    """The beneficiary's debt account, locked, and what is owed on it (≥ 0)."""
    debt = ledger.receivable_account(user_id, AccountKind.COMMISSION_DEBT)
    debt = Account.objects.select_for_update().get(pk=debt.pk)
    return debt, max(0, -debt.balance)


# --- the same, a page of orders at a time ---------------------------------------------
# A rebate sync writes a hundred network orders a page: these do what ``grant``,
# ``release_now`` and ``reverse_for_refund`` do for each, with the same idempotency keys and
# ledger legs, in a fixed number of statements per page (rows locked in id order).


@dataclass(frozen=True)
class OrderGrant:
    order_id: int
    order_number: str
    buyer_id: int
    shares: Sequence[Share]
    freeze_days: int = 0


def grant_many(source: str, grants: Sequence[OrderGrant]) -> set[int]:
    """``grant`` for several orders; returns the order ids granted now (not before)."""
    grants = [g for g in grants if any(s.amount > 0 for s in g.shares)]
    if not grants:
        return set()
    with transaction.atomic():
        frozen = ledger.user_accounts(
            (s.beneficiary_id for g in grants for s in g.shares if s.amount > 0), AccountKind.COMMISSION_FROZEN
        )
        requests = []
        expense = _expense()
        for g in grants:
            shares = [s for s in g.shares if s.amount > 0]
            legs: list[tuple[Account, int]] = [(expense, -sum(s.amount for s in shares))]
            legs.extend((frozen[s.beneficiary_id], s.amount) for s in shares)
            requests.append(
                ledger.PostingRequest(
                    kind="commission_grant",
                    key=f"commission:grant:{source}:{g.order_id}",
                    legs=legs,
                    reference=f"order:{g.order_id}",
                )
            )
        postings = ledger.post_many(requests)
        new = [g for g, p in zip(grants, postings, strict=True) if p.created]
        announced: list[tuple[str, dict[str, Any]]] = []
        rows: list[Commission] = []
        for g in new:
            shares = [s for s in g.shares if s.amount > 0]
            owed: dict[int, int] = defaultdict(int)
            for s in shares:
                owed[s.beneficiary_id] += s.amount
            announced.append(
                (
                    "commission.frozen",
                    {
                        "source": source,
                        "order_id": g.order_id,
                        "order_number": g.order_number,
                        "amounts": [{"user_id": uid, "amount": amount} for uid, amount in sorted(owed.items())],
                        "freeze_days": g.freeze_days,
                    },
                )
            )
            rows.extend(
                Commission(
                    key=f"{source}:{g.order_id}:{s.line_id}:{s.level}:{s.beneficiary_id}",
                    source=source,
                    beneficiary_id=s.beneficiary_id,
                    buyer_id=g.buyer_id,
                    order_id=g.order_id,
                    order_number=g.order_number,
                    line_id=s.line_id,
                    product_id=s.product_id,
                    level=s.level,
                    base_amount=s.base_amount,
                    rate_bp=s.rate_bp,
                    amount=s.amount,
                    freeze_days=g.freeze_days,
                )
                for s in shares
            )
        events.publish_many(announced)
        Commission.objects.bulk_create(rows, batch_size=1000)
    return {g.order_id for g in new}


def _locked_accounts(user_ids: set[int], kind: str, receivable: bool = False) -> dict[int, Account]:
    """Each user's account of ``kind``, created if missing, locked in id order (one query once they exist)."""
    if not user_ids:
        return {}
    if receivable:
        keys = [f"user:{uid}:{kind}" for uid in user_ids]
        if Account.objects.filter(key__in=keys).count() < len(keys):
            Account.objects.bulk_create(
                [
                    Account(key=f"user:{uid}:{kind}", owner_id=uid, kind=kind, allow_negative=True)
                    for uid in sorted(user_ids)
                ],
                ignore_conflicts=True,
            )
    else:
        ledger.user_accounts(user_ids, kind)
    rows = Account.objects.select_for_update().filter(owner_id__in=list(user_ids), kind=kind).order_by("pk")
    return {a.owner_id: a for a in rows}  # type: ignore[misc]


def release_many(source: str, order_ids: Sequence[int], now: datetime | None = None) -> int:
    """``release_now`` for several orders of ``source``: frozen → available, debt repaid first."""
    now = now or timezone.now()
    if not order_ids:
        return 0
    with transaction.atomic():
        rows = list(
            Commission.objects.select_for_update()
            .filter(source=source, order_id__in=list(order_ids), status=CommissionStatus.FROZEN)
            .order_by("id")
        )
        if not rows:
            return 0
        users = {c.beneficiary_id for c in rows if c.remaining > 0}
        debts = _locked_accounts(users, AccountKind.COMMISSION_DEBT, receivable=True)
        frozen = ledger.user_accounts(users, AccountKind.COMMISSION_FROZEN)
        available = ledger.user_accounts(users, AccountKind.COMMISSION_AVAILABLE)
        owed = {uid: max(0, -debt.balance) for uid, debt in debts.items()}
        requests = []
        announced = []
        for commission in rows:
            amount = commission.remaining
            user_id = commission.beneficiary_id
            if amount > 0:
                repay = min(amount, owed[user_id])
                owed[user_id] -= repay
                legs = [(frozen[user_id], -amount)]
                if repay:
                    legs.append((debts[user_id], repay))
                if amount - repay:
                    legs.append((available[user_id], amount - repay))
                requests.append(
                    ledger.PostingRequest(
                        kind="commission_unfreeze",
                        key=f"commission:unfreeze:{commission.pk}",
                        legs=legs,
                        reference=f"order:{commission.order_id}",
                    )
                )
            announced.append(
                (
                    "commission.available",
                    {
                        "commission_id": commission.pk,
                        "user_id": user_id,
                        "amount": amount,
                        "order_number": commission.order_number,
                        "source": commission.source,
                    },
                )
            )
        ledger.post_many(requests)
        Commission.objects.filter(pk__in=[c.pk for c in rows]).update(
            status=CommissionStatus.AVAILABLE, available_at=now
        )
        events.publish_many(announced)
    return len(rows)


@dataclass(frozen=True)
class OrderReversal:
    """One ``reverse_for_refund`` call: ``lines`` maps line id → refunded base (ignored when ``full``)."""

    order_id: int
    refund_key: str
    lines: dict[int, int]
    full: bool


def reverse_many(source: str, reversals: Sequence[OrderReversal]) -> dict[int, int]:
    """``reverse_for_refund`` for several orders of ``source``; fen reversed by order id
    (0 for a replayed refund key). Each order's reversal is one posting under the same key."""
    out = {r.order_id: 0 for r in reversals}
    if not reversals:
        return out
    with transaction.atomic():
        fresh = insert_many_once(
            CommissionRefund,
            [{"order_id": r.order_id, "refund_key": r.refund_key} for r in reversals],
            conflict=["order_id", "refund_key"],
            returning=["order_id", "refund_key"],
        )
        applied = {(int(order_id), key) for order_id, key in fresh}
        todo = [r for r in reversals if (r.order_id, r.refund_key) in applied]
        if not todo:
            return out
        rows = list(
            Commission.objects.select_for_update()
            .filter(order_id__in=sorted({r.order_id for r in todo}), source=source)
            .exclude(status=CommissionStatus.REVERSED)
            .order_by("id")
        )
        by_order: dict[int, list[Commission]] = defaultdict(list)
        for row in rows:
            by_order[row.order_id].append(row)
        released_users = {c.beneficiary_id for c in rows if c.status != CommissionStatus.FROZEN}
        available = _locked_accounts(released_users, AccountKind.COMMISSION_AVAILABLE)
        frozen = ledger.user_accounts({c.beneficiary_id for c in rows}, AccountKind.COMMISSION_FROZEN)
        balances = {uid: a.balance for uid, a in available.items()}
        debt_users: set[int] = set()
        planned: list[tuple[OrderReversal, list[tuple[str, int, int]]]] = []  # (account role, user, fen)
        changed: list[Commission] = []
        for reversal in todo:
            groups: dict[int | None, list[Commission]] = defaultdict(list)
            for row in by_order.get(reversal.order_id, []):
                if reversal.full or row.line_id in reversal.lines:
                    groups[row.line_id].append(row)
            legs: list[tuple[str, int, int]] = []
            for line_id, group in groups.items():
                refunded_base = group[0].refunded_base + reversal.lines.get(line_id or 0, 0)
                for commission, target in zip(group, _targets(group, refunded_base, reversal.full), strict=True):
                    delta = max(0, min(target, commission.amount) - commission.reversed_amount)
                    was_frozen = commission.status == CommissionStatus.FROZEN
                    commission.reversed_amount += delta
                    commission.refunded_base = refunded_base
                    if commission.reversed_amount == commission.amount:
                        commission.status = CommissionStatus.REVERSED
                    changed.append(commission)
                    if not delta:
                        continue
                    user_id = commission.beneficiary_id
                    if was_frozen:
                        legs.append(("frozen", user_id, delta))
                        continue
                    take = min(delta, balances.get(user_id, 0))
                    balances[user_id] = balances.get(user_id, 0) - take
                    if take:
                        legs.append(("available", user_id, take))
                    if delta - take:
                        legs.append(("debt", user_id, delta - take))
                        debt_users.add(user_id)
            planned.append((reversal, legs))
        debts = _locked_accounts(debt_users, AccountKind.COMMISSION_DEBT, receivable=True)
        accounts = {"frozen": frozen, "available": available, "debt": debts}
        expense = _expense()
        requests = []
        for reversal, legs in planned:
            total = sum(fen for _role, _uid, fen in legs)
            out[reversal.order_id] += total
            if not total:
                continue
            requests.append(
                ledger.PostingRequest(
                    kind="commission_reversal",
                    key=f"commission:reverse:{source}:{reversal.order_id}:{reversal.refund_key}",
                    legs=[(accounts[role][uid], -fen) for role, uid, fen in legs] + [(expense, total)],
                    reference=f"order:{reversal.order_id}",
                )
            )
        update_many(Commission, changed, ["reversed_amount", "refunded_base", "status"])
        ledger.post_many(requests)
    return out


# --- totals and withdrawals ---------------------------------------------------------


def totals(user_id: int) -> dict[str, int]:
    withdrawn = Withdrawal.objects.filter(user_id=user_id, status=WithdrawalStatus.PAID).aggregate(s=Sum("amount"))["s"]
    pending = Withdrawal.objects.filter(user_id=user_id, status=WithdrawalStatus.PENDING).aggregate(s=Sum("amount"))[
        "s"
    ]
    return {
        "frozen": ledger.balance_of(user_id, AccountKind.COMMISSION_FROZEN),
        "available": ledger.balance_of(user_id, AccountKind.COMMISSION_AVAILABLE),
        "debt": -ledger.balance_of(user_id, AccountKind.COMMISSION_DEBT),
        "withdrawn": int(withdrawn or 0),
        "withdrawing": int(pending or 0),
    }


def request_withdrawal(
    user: User, amount: int, channel: str, account: str = "", *, minimum: int, fee_bp: int
) -> Withdrawal:
    if amount < minimum:
        raise InvalidInput(_("提现金额不能低于最低提现额"), code="below_minimum", fields={"amount": [str(minimum)]})
    if channel not in WithdrawalChannel.values:
        raise InvalidInput(code="invalid_channel", fields={"channel": [channel]})
    if channel != WithdrawalChannel.WALLET and not account.strip():
        raise InvalidInput(_("请填写收款账号"), code="account_required", fields={"account": ["required"]})
    if not 0 <= fee_bp < BP_DENOMINATOR:
        raise InvalidInput(code="invalid_fee", fields={"fee_bp": [str(fee_bp)]})
    fee = apply_rate(amount, fee_bp)
    with transaction.atomic():
        withdrawal = Withdrawal.objects.create(
            user=user, amount=amount, fee=fee, net=amount - fee, channel=channel, account=account.strip()[:120]
        )
        ledger.transfer(
            kind="withdrawal_hold",
            key=f"withdrawal:{withdrawal.pk}:hold",
            reference=f"withdrawal:{withdrawal.pk}",
            source=ledger.user_account(user.pk, AccountKind.COMMISSION_AVAILABLE),
            target=_payable(),
            amount=amount,
        )
    return withdrawal


def _pending_withdrawal(withdrawal_id: int) -> Withdrawal:
    withdrawal = Withdrawal.objects.select_for_update().filter(pk=withdrawal_id).first()
    if withdrawal is None:
        raise NotFound()
    if withdrawal.status != WithdrawalStatus.PENDING:
        raise Conflict(_("提现申请已处理"), code="withdrawal_closed")
    return withdrawal


def approve_withdrawal(actor: User, withdrawal_id: int, reference: str = "") -> Withdrawal:
    """Pay it out: to the wallet inside Jishi, or record the external transfer's reference."""
    with transaction.atomic():
        w = _pending_withdrawal(withdrawal_id)
        if w.channel != WithdrawalChannel.WALLET and not reference.strip():
            raise InvalidInput(_("请填写打款凭证号"), code="reference_required", fields={"reference": ["required"]})
        if w.channel == WithdrawalChannel.WALLET:
            target = ledger.user_account(w.user_id, AccountKind.WALLET)
        else:
            target = ledger.platform_account(AccountKind.PLATFORM_CASH, f"payout:{w.channel}")
        # A debt that arose while this was pending (a reversal of withdrawn commission) is
        # settled out of it first; the fee shrinks in proportion to what is still paid out.
        debt, owed = _open_debt(w.user_id)
        repay = min(owed, w.amount)
        fee = w.fee * (w.amount - repay) // w.amount
        net = w.amount - repay - fee
        legs = [(_payable(), -w.amount), (debt, repay), (target, net)]
        if fee:
            legs.append((ledger.platform_account(AccountKind.PLATFORM_REVENUE, "withdrawal_fee"), fee))
        ledger.post(
            kind="withdrawal_payout",
            key=f"withdrawal:{w.pk}:payout",
            legs=[(account, amount) for account, amount in legs if amount],
            reference=f"withdrawal:{w.pk}",
        )
        now = timezone.now()
        Withdrawal.objects.filter(pk=w.pk).update(
            status=WithdrawalStatus.PAID,
            fee=fee,
            net=net,
            debt_repaid=repay,
            reference=reference.strip()[:64],
            reviewed_by=actor,
            reviewed_at=now,
        )
        audit.record(
            actor, "withdrawal.approve", f"withdrawal:{w.pk}", amount=w.amount, channel=w.channel, reference=reference
        )
        events.publish(
            "withdrawal.paid",
            {"withdrawal_id": w.pk, "user_id": w.user_id, "amount": w.amount, "net": w.net, "channel": w.channel},
        )
        w.refresh_from_db()
    return w


def reject_withdrawal(actor: User, withdrawal_id: int, reason: str) -> Withdrawal:
    with transaction.atomic():
        w = _pending_withdrawal(withdrawal_id)
        # Back to available, but a debt that arose meanwhile is paid first.
        debt, owed = _open_debt(w.user_id)
        repay = min(owed, w.amount)
        legs = [
            (_payable(), -w.amount),
            (debt, repay),
            (ledger.user_account(w.user_id, AccountKind.COMMISSION_AVAILABLE), w.amount - repay),
        ]
        ledger.post(
            kind="withdrawal_return",
            key=f"withdrawal:{w.pk}:return",
            reference=f"withdrawal:{w.pk}",
            legs=[(account, amount) for account, amount in legs if amount],
        )
        Withdrawal.objects.filter(pk=w.pk).update(
            debt_repaid=repay,
            status=WithdrawalStatus.REJECTED,
            reject_reason=reason[:200],
            reviewed_by=actor,
            reviewed_at=timezone.now(),
        )
        audit.record(actor, "withdrawal.reject", f"withdrawal:{w.pk}", amount=w.amount, reason=reason)
        events.publish(
            "withdrawal.rejected",
            {"withdrawal_id": w.pk, "user_id": w.user_id, "amount": w.amount, "reason": reason[:200]},
        )
        w.refresh_from_db()
    return w


def earned_total(user_id: int, source: str | None = None) -> int:
    rows = Commission.objects.filter(beneficiary_id=user_id)
    if source:
        rows = rows.filter(source=source)
    agg = rows.aggregate(a=Sum("amount"), r=Sum("reversed_amount"))
    return int((agg["a"] or 0) - (agg["r"] or 0))


def leaderboard(source: str, since: datetime | None = None, limit: int = 20) -> list[dict[str, Any]]:
    rows = Commission.objects.filter(source=source)
    if since:
        rows = rows.filter(created_at__gte=since)
    top = (
        rows.values("beneficiary_id", "beneficiary__nickname", "beneficiary__phone")
        .annotate(earned=Sum("amount") - Sum("reversed_amount"), base=Sum("base_amount", filter=Q(level=1)))
        .order_by("-earned")[:limit]
    )
    return [
        {
            "user_id": r["beneficiary_id"],
            "nickname": r["beneficiary__nickname"],
            "phone": mask_phone(r["beneficiary__phone"] or ""),
            "earned": int(r["earned"] or 0),
            "sales": int(r["base"] or 0),
        }
        for r in top
    ]


def mask_phone(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 7 else phone
