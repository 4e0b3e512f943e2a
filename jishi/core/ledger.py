"""The double-entry ledger: accounts, balanced postings, and the whole-book check."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Case, Count, F, Q, Sum, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import local_cache
from .errors import Conflict
from .models import Account, AccountKind, Entry, Transaction, Unit
from .sql import CachedQuery, insert_many_once, insert_once

log = logging.getLogger(__name__)

POINT_KINDS = {AccountKind.POINTS, AccountKind.PLATFORM_POINTS}
# Balances nobody spends directly (only the system moves them, by rules that never overdraw):
# summed from entries, so a promoter earning from thousands of orders is no lock hot spot.
UNTRACKED_USER_KINDS = {AccountKind.COMMISSION_FROZEN}


class LedgerError(Exception):
    """A programming error: an unbalanced or mixed-unit posting."""


class KeyReused(Conflict):
    """A posting's unique key was used before for a different posting."""

    code = "key_reused"
    default_message = _("该幂等键已用于另一笔不同金额的记账")


class InsufficientBalance(Conflict):
    code = "insufficient_balance"
    default_message = _("余额不足")

    def __init__(self, account: Account) -> None:
        super().__init__(fields={"account": [account.kind]})
        self.account = account


@dataclass(frozen=True)
class Posting:
    transaction_id: int
    created: bool


def _unit_for(kind: str) -> str:
    return Unit.POINT if kind in POINT_KINDS else Unit.FEN


_ACCOUNT = CachedQuery(lambda key: Account.objects.filter(key=key), key=str)


def user_account(user_id: int, kind: str) -> Account:
    """The user's account of ``kind``, created on first use. User balances never go negative."""
    found: Account | None = _ACCOUNT.first(key=f"user:{user_id}:{kind}")
    if found is not None:
        return found
    account, _created = Account.objects.get_or_create(
        key=f"user:{user_id}:{kind}",
        defaults={
            "owner_id": user_id,
            "kind": kind,
            "unit": _unit_for(kind),
            "track_balance": kind not in UNTRACKED_USER_KINDS,
        },
    )
    return account


def user_accounts(user_ids: Iterable[int], kind: str) -> dict[int, Account]:
    """Several users' accounts of ``kind`` in one query (two more if some must be created)."""
    keys = {f"user:{uid}:{kind}": uid for uid in set(user_ids)}
    found = {a.owner_id: a for a in Account.objects.filter(key__in=list(keys))}
    missing = [uid for key, uid in keys.items() if uid not in found]
    if missing:
        Account.objects.bulk_create(
            [
                Account(
                    key=f"user:{uid}:{kind}",
                    owner_id=uid,
                    kind=kind,
                    unit=_unit_for(kind),
                    track_balance=kind not in UNTRACKED_USER_KINDS,
                )
                for uid in missing
            ],
            ignore_conflicts=True,
        )
        found.update((a.owner_id, a) for a in Account.objects.filter(key__in=[f"user:{uid}:{kind}" for uid in missing]))
    return {uid: found[uid] for uid in keys.values() if uid in found}  # type: ignore[misc]


def receivable_account(user_id: int, kind: str) -> Account:
    """What a user owes the platform (e.g. commission debt): it goes negative by design."""
    account, _created = Account.objects.get_or_create(
        key=f"user:{user_id}:{kind}",
        defaults={"owner_id": user_id, "kind": kind, "unit": _unit_for(kind), "allow_negative": True},
    )
    return account


_platform_accounts: dict[str, Account] = {}


@local_cache.register
def _forget_platform_accounts() -> None:
    _platform_accounts.clear()


def platform_account(kind: str, name: str = "") -> Account:
    """A platform account; these hold the other side of every user balance and may go negative.

    Kept in-process once read: the row never changes (its balance is the sum of its entries)."""
    key = f"platform:{kind}" + (f":{name}" if name else "")
    account = _platform_accounts.get(key)
    if account is None:
        account, _created = Account.objects.get_or_create(
            key=key, defaults={"kind": kind, "unit": _unit_for(kind), "allow_negative": True, "track_balance": False}
        )
        if not account.track_balance:
            # Only once committed: a row created in a transaction that rolls back must not linger here.
            found = account
            transaction.on_commit(lambda: _platform_accounts.setdefault(key, found))
    return account


def balance(account: Account | str) -> int:
    """Any account's balance: the running one, or the sum of entries for untracked accounts."""
    if isinstance(account, str):
        found = Account.objects.filter(key=account).first()
        if found is None:
            return 0
        account = found
    if account.track_balance:
        return int(Account.objects.filter(pk=account.pk).values_list("balance", flat=True).get())
    return int(Entry.objects.filter(account=account).aggregate(total=Sum("amount", default=0))["total"])


def balance_of(user_id: int, kind: str) -> int:
    return balance(f"user:{user_id}:{kind}")


def _insert_transaction_once(key: str, kind: str, reference: str, memo: str) -> int | None:
    return insert_once(
        Transaction,
        {
            "key": key,
            "kind": kind,
            "reference": reference[:120],
            "memo": memo[:255],
            "created_at": timezone.now(),
        },
        conflict=["key"],
    )


def post(
    *,
    kind: str,
    key: str,
    legs: Sequence[tuple[Account, int]],
    reference: str = "",
    memo: str = "",
) -> Posting:
    """Post one balanced transaction, once per ``key``.

    Balances change by conditional updates taken in account-id order, so two postings
    never deadlock and a user balance can never go below zero: the update that would
    overdraw matches no row and the whole posting rolls back with InsufficientBalance.
    """
    merged: dict[int, int] = defaultdict(int)
    accounts: dict[int, Account] = {}
    for account, amount in legs:
        merged[account.pk] += amount
        accounts[account.pk] = account
    if sum(merged.values()) != 0:
        raise LedgerError(f"unbalanced posting {key}: {dict(merged)}")
    if len({a.unit for a in accounts.values()}) > 1:
        raise LedgerError(f"posting {key} mixes units")
    # No savepoint: a failed posting fails the caller's transaction with it (a caller that
    # wants to carry on after InsufficientBalance wraps the call in its own atomic block).
    with transaction.atomic(savepoint=False):
        transaction_id = _insert_transaction_once(key, kind, reference, memo)
        if transaction_id is None:
            existing = Transaction.objects.only("id").get(key=key)
            posted = dict(Entry.objects.filter(transaction_id=existing.pk).values_list("account_id", "amount"))
            wanted = {account_id: amount for account_id, amount in merged.items() if amount}
            if posted != wanted:
                # Same key, other money: silently answering "already posted" would drop the second
                # posting. Refused (409 through the API, where a client chose the key) and logged.
                log.error("posting %s replayed with other legs: %s != %s", key, wanted, posted)
                raise KeyReused(fields={"key": [key]})
            return Posting(existing.pk, created=False)
        Entry.objects.bulk_create(
            Entry(transaction_id=transaction_id, account_id=account_id, amount=amount)
            for account_id, amount in merged.items()
            if amount
        )
        for account_id in sorted(merged):
            amount = merged[account_id]
            if not amount:
                continue
            account = accounts[account_id]
            if not account.track_balance:
                continue  # summed from entries when asked (see ``balance``)
            rows = Account.objects.filter(pk=account_id)
            if not account.allow_negative and amount < 0:
                rows = rows.filter(balance__gte=-amount)
            if rows.update(balance=F("balance") + amount) != 1:
                raise InsufficientBalance(account)
    return Posting(transaction_id, created=True)


@dataclass(frozen=True)
class PostingRequest:
    """One balanced transaction for ``post_many``: the arguments ``post`` takes."""

    kind: str
    key: str
    legs: Sequence[tuple[Account, int]]
    reference: str = ""
    memo: str = ""


def _merged(request: PostingRequest) -> tuple[dict[int, int], dict[int, Account]]:
    merged: dict[int, int] = defaultdict(int)
    accounts: dict[int, Account] = {}
    for account, amount in request.legs:
        merged[account.pk] += amount
        accounts[account.pk] = account
    if sum(merged.values()) != 0:
        raise LedgerError(f"unbalanced posting {request.key}: {dict(merged)}")
    if len({a.unit for a in accounts.values()}) > 1:
        raise LedgerError(f"posting {request.key} mixes units")
    return {pk: amount for pk, amount in merged.items() if amount}, accounts


def post_many(requests: Sequence[PostingRequest]) -> list[Posting]:
    """Post several balanced transactions, each once per key, in a handful of statements
    whatever their number (a page of rebate orders, a batch of releases). One ``Posting`` per
    request, in order.

    The invariants of ``post`` hold for each request: balanced, one unit, a key replayed with
    the same legs is answered ``created=False`` and with other legs refused (``KeyReused``).
    Tracked balances are locked in account-id order and each must cover every debit of the
    batch before any credit of it (so no order of the postings could have overdrawn it); one
    that cannot fails the whole batch with InsufficientBalance, like ``post`` fails its caller.
    """
    if not requests:
        return []
    wanted: dict[str, dict[int, int]] = {}
    accounts: dict[int, Account] = {}
    first: dict[str, PostingRequest] = {}
    for request in requests:
        merged, legs = _merged(request)
        accounts.update(legs)
        if request.key in wanted:
            if wanted[request.key] != merged:
                log.error("posting %s given twice with other legs", request.key)
                raise KeyReused(fields={"key": [request.key]})
            continue
        wanted[request.key] = merged
        first[request.key] = request
    with transaction.atomic(savepoint=False):
        inserted = insert_many_once(
            Transaction,
            [
                {"key": r.key, "kind": r.kind, "reference": r.reference[:120], "memo": r.memo[:255]}
                for r in first.values()
            ],
            conflict=["key"],
            returning=["id", "key"],
        )
        ids = {key: int(pk) for pk, key in inserted}
        created = set(ids)
        replayed = [key for key in first if key not in created]
        if replayed:
            posted: dict[str, dict[int, int]] = {key: {} for key in replayed}
            rows = Entry.objects.filter(transaction__key__in=replayed).values_list(
                "transaction__key", "transaction_id", "account_id", "amount"
            )
            for key, transaction_id, account_id, amount in rows:
                ids[key] = transaction_id
                posted[key][account_id] = amount
            for key in replayed:
                if key not in ids:
                    ids[key] = Transaction.objects.only("id").get(key=key).pk
                if posted[key] != wanted[key]:
                    log.error("posting %s replayed with other legs: %s != %s", key, wanted[key], posted[key])
                    raise KeyReused(fields={"key": [key]})
        Entry.objects.bulk_create(
            [
                Entry(transaction_id=ids[key], account_id=account_id, amount=amount)
                for key in first
                if key in created
                for account_id, amount in wanted[key].items()
            ],
            batch_size=2000,
        )
        net: dict[int, int] = defaultdict(int)
        debits: dict[int, int] = defaultdict(int)
        for key in created:
            for account_id, amount in wanted[key].items():
                if accounts[account_id].track_balance:
                    net[account_id] += amount
                    debits[account_id] += min(0, amount)
        _apply_balances(net, debits, accounts)
    return [Posting(ids[r.key], created=r.key in created and first[r.key] is r) for r in requests]


def _apply_balances(net: dict[int, int], debits: dict[int, int], accounts: dict[int, Account]) -> None:
    """Tracked balances changed by ``net``, each row locked (id order) and checked against its debits."""
    ids = sorted(pk for pk in net if net[pk] or debits[pk])
    if not ids:
        return
    if len(ids) == 1:
        account_id = ids[0]
        rows = Account.objects.filter(pk=account_id)
        if not accounts[account_id].allow_negative and debits[account_id] < 0:
            rows = rows.filter(balance__gte=-debits[account_id])
        if rows.update(balance=F("balance") + net[account_id]) != 1:
            raise InsufficientBalance(accounts[account_id])
        return
    locked = (
        Account.objects.select_for_update()
        .filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk", "balance", "allow_negative")
    )
    for account_id, current, allow_negative in locked:
        if not allow_negative and current + debits[account_id] < 0:
            raise InsufficientBalance(accounts[account_id])
    changed = [pk for pk in ids if net[pk]]
    if changed:
        Account.objects.filter(pk__in=changed).update(
            balance=F("balance") + Case(*(When(pk=pk, then=Value(net[pk])) for pk in changed), default=Value(0))
        )


def transfer(
    *,
    kind: str,
    key: str,
    source: Account,
    target: Account,
    amount: int,
    reference: str = "",
    memo: str = "",
) -> Posting:
    """Move ``amount`` from ``source`` to ``target`` in one posting."""
    if amount <= 0:
        raise LedgerError("transfer amount must be positive")
    return post(
        kind=kind,
        key=key,
        reference=reference,
        memo=memo,
        legs=[(source, -amount), (target, amount)],
    )


def history(account: Account, limit: int = 50, offset: int = 0) -> Iterable[Entry]:
    return (
        Entry.objects.filter(account=account)
        .select_related("transaction")
        .order_by("-transaction_id")[offset : offset + limit]
    )


DomainCheck = Callable[[], list[str]]
_domain_checks: dict[str, DomainCheck] = {}


def register_check(name: str) -> Callable[[DomainCheck], DomainCheck]:
    """Register a check that holds the book against an app's own rows (payments against
    postings, commissions against their balances...). Apps register theirs in ``ready()``."""

    def register(func: DomainCheck) -> DomainCheck:
        _domain_checks[name] = func
        return func

    return register


def posted_amounts(kind: str, keys: Iterable[str] | None = None) -> dict[str, int]:
    """What each transaction of ``kind`` moved (the sum of its positive legs), by key."""
    rows = Entry.objects.filter(transaction__kind=kind, amount__gt=0)
    if keys is not None:
        rows = rows.filter(transaction__key__in=list(keys))
    return {
        key: int(total)
        for key, total in rows.values("transaction__key")
        .annotate(total=Sum("amount"))
        .values_list("transaction__key", "total")
    }


def balances_by_owner(kind: str) -> dict[int, int]:
    """Every user's balance of ``kind`` (tracked or summed from entries), by user id."""
    out: dict[int, int] = {}
    tracked = Account.objects.filter(kind=kind, owner__isnull=False, track_balance=True)
    out.update((owner, int(b)) for owner, b in tracked.values_list("owner_id", "balance"))
    untracked = (
        Entry.objects.filter(account__kind=kind, account__owner__isnull=False, account__track_balance=False)
        .values("account__owner_id")
        .annotate(total=Sum("amount"))
        .values_list("account__owner_id", "total")
    )
    for owner, total in untracked:
        out[owner] = out.get(owner, 0) + int(total)
    return out


def check_ledger() -> list[str]:
    """Every invariant of the book, and the book held against the domain (each app's registered
    checks, dead events); an empty list means the ledger is sound."""
    problems = _check_book()
    from .models import OutboxEvent

    dead = OutboxEvent.objects.filter(dead=True, dispatched_at__isnull=True)
    for name, pk, error in dead.values_list("name", "id", "last_error")[:100]:
        problems.append(f"event {name}#{pk} is dead (never applied): {error[:200]}")
    for name, check in sorted(_domain_checks.items()):
        problems.extend(f"{name}: {p}" for p in check())
    return problems


def _check_book() -> list[str]:
    problems: list[str] = []
    unbalanced = (
        Entry.objects.values("transaction_id", "transaction__key").annotate(total=Sum("amount")).exclude(total=0)
    )
    for row in unbalanced[:100]:
        problems.append(f"transaction {row['transaction__key']} does not balance: {row['total']}")
    empty = Transaction.objects.annotate(n=Count("entries")).filter(n=0)
    for key in empty.values_list("key", flat=True)[:100]:
        problems.append(f"transaction {key} has no entries")
    mixed = (
        Entry.objects.values("transaction_id", "transaction__key")
        .annotate(units=Count("account__unit", distinct=True))
        .filter(units__gt=1)
    )
    for row in mixed[:100]:
        problems.append(f"transaction {row['transaction__key']} mixes units")
    drift = (
        Account.objects.filter(track_balance=True)
        .annotate(entries_total=Sum("entries__amount", default=0))
        .exclude(balance=F("entries_total"))
    )
    for acc in drift[:100]:
        problems.append(f"account {acc.key} balance {acc.balance} != entries {acc.entries_total}")
    negative = Account.objects.filter(Q(allow_negative=False) & Q(balance__lt=0))
    for account in negative[:100]:
        problems.append(f"account {account.key} is negative: {account.balance}")
    negative_untracked = (
        Account.objects.filter(track_balance=False, allow_negative=False)
        .annotate(entries_total=Sum("entries__amount", default=0))
        .filter(entries_total__lt=0)
    )
    for acc in negative_untracked[:100]:
        problems.append(f"account {acc.key} is negative: {acc.entries_total}")
    return problems
