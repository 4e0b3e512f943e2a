"""``ledger.post_many``: the invariants of ``post`` for a batch, in a fixed number of statements."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from jishi.core import ledger
from jishi.core.models import Account, AccountKind, Entry, Transaction
from jishi.core.sql import insert_many_once, update_many
from jishi.testing.factories import UserFactory

pytestmark = pytest.mark.django_db


def topup() -> Account:
    return ledger.platform_account(AccountKind.PLATFORM_TOPUP)


def wallet(user_id: int) -> Account:
    return ledger.user_account(user_id, AccountKind.WALLET)


def funding(user_id: int, amount: int, key: str) -> ledger.PostingRequest:
    return ledger.PostingRequest(kind="topup", key=key, legs=[(topup(), -amount), (wallet(user_id), amount)])


def test_a_batch_posts_each_request_once_and_moves_balances() -> None:
    users = [UserFactory() for _ in range(3)]
    requests = [funding(u.pk, 100 * (i + 1), f"fund:{u.pk}") for i, u in enumerate(users)]
    postings = ledger.post_many(requests)
    assert [p.created for p in postings] == [True, True, True]
    assert [ledger.balance_of(u.pk, AccountKind.WALLET) for u in users] == [100, 200, 300]
    assert ledger.balance(topup()) == -600
    again = ledger.post_many(list(reversed(requests)))
    assert [p.created for p in again] == [False, False, False]
    assert [p.transaction_id for p in again] == [p.transaction_id for p in reversed(postings)]
    assert (Transaction.objects.count(), ledger.balance_of(users[2].pk, AccountKind.WALLET)) == (3, 300)
    assert ledger.check_ledger() == []


def test_a_batch_of_a_hundred_postings_takes_a_fixed_number_of_statements() -> None:
    users = [UserFactory() for _ in range(100)]
    accounts = ledger.user_accounts([u.pk for u in users], AccountKind.WALLET)
    topup()
    requests = [
        ledger.PostingRequest(kind="topup", key=f"k{u.pk}", legs=[(topup(), -5), (accounts[u.pk], 5)]) for u in users
    ]
    with CaptureQueriesContext(connection) as queries:
        ledger.post_many(requests)
    # insert the transactions, insert the entries, lock the balances, update them
    assert len(queries) <= 6, [q["sql"][:80] for q in queries]
    assert sum(ledger.balance_of(u.pk, AccountKind.WALLET) for u in users) == 500


def test_a_key_given_twice_with_other_legs_is_refused() -> None:
    user = UserFactory()
    with pytest.raises(ledger.KeyReused):
        ledger.post_many([funding(user.pk, 100, "same"), funding(user.pk, 101, "same")])
    assert Transaction.objects.count() == 0


def test_a_replayed_key_with_other_legs_is_refused() -> None:
    user = UserFactory()
    ledger.post_many([funding(user.pk, 100, "once")])
    with pytest.raises(ledger.KeyReused), transaction.atomic():
        ledger.post_many([funding(user.pk, 50, "new"), funding(user.pk, 999, "once")])
    assert (Transaction.objects.count(), ledger.balance_of(user.pk, AccountKind.WALLET)) == (1, 100)


def test_unbalanced_or_mixed_requests_are_refused_before_writing() -> None:
    user = UserFactory()
    bad = ledger.PostingRequest(kind="x", key="bad", legs=[(topup(), -5), (wallet(user.pk), 4)])
    with pytest.raises(ledger.LedgerError):
        ledger.post_many([funding(user.pk, 5, "good"), bad])
    points = ledger.user_account(user.pk, AccountKind.POINTS)
    mixed = ledger.PostingRequest(kind="x", key="mixed", legs=[(points, -5), (wallet(user.pk), 5)])
    with pytest.raises(ledger.LedgerError):
        ledger.post_many([mixed])
    assert Transaction.objects.count() == 0


def test_every_debit_must_be_covered_before_any_credit_of_the_batch() -> None:
    a, b = UserFactory(), UserFactory()
    ledger.post_many([funding(a.pk, 100, "fund-a")])
    spend = ledger.PostingRequest(kind="spend", key="spend", legs=[(wallet(a.pk), -150), (wallet(b.pk), 150)])
    refill = funding(a.pk, 100, "refill")
    # After both a would hold 50, but one order of the two postings overdraws it: refused whole.
    with pytest.raises(ledger.InsufficientBalance), transaction.atomic():
        ledger.post_many([refill, spend])
    assert (ledger.balance_of(a.pk, AccountKind.WALLET), ledger.balance_of(b.pk, AccountKind.WALLET)) == (100, 0)
    assert Entry.objects.count() == 2
    ledger.post_many([refill])
    ledger.post_many([spend])
    assert (ledger.balance_of(a.pk, AccountKind.WALLET), ledger.balance_of(b.pk, AccountKind.WALLET)) == (50, 150)
    assert ledger.check_ledger() == []


def test_one_tracked_account_overdrawn_alone_is_refused() -> None:
    a, b = UserFactory(), UserFactory()
    spend = ledger.PostingRequest(kind="spend", key="s", legs=[(wallet(a.pk), -1), (topup(), 1)])
    with pytest.raises(ledger.InsufficientBalance), transaction.atomic():
        ledger.post_many([spend])
    assert ledger.balance_of(b.pk, AccountKind.WALLET) == 0
    assert Transaction.objects.count() == 0


def test_insert_many_once_returns_only_the_new_rows() -> None:
    first = insert_many_once(
        Transaction,
        [
            {"key": "a", "kind": "k", "reference": "", "memo": ""},
            {"key": "b", "kind": "k", "reference": "", "memo": ""},
        ],
        conflict=["key"],
        returning=["key"],
    )
    second = insert_many_once(
        Transaction,
        [
            {"key": "b", "kind": "k", "reference": "", "memo": ""},
            {"key": "c", "kind": "k", "reference": "", "memo": ""},
        ],
        conflict=["key"],
        returning=["key"],
        chunk=1,
    )
    assert (sorted(first), second) == ([("a",), ("b",)], [("c",)])
    assert Transaction.objects.filter(created_at__isnull=False).count() == 3


def test_update_many_writes_each_row_its_own_values() -> None:
    users = [UserFactory() for _ in range(3)]
    accounts = list(ledger.user_accounts([u.pk for u in users], AccountKind.WALLET).values())
    for i, account in enumerate(accounts):
        account.balance, account.allow_negative = 10 * i - 5, i % 2 == 0
    update_many(Account, accounts, ["balance", "allow_negative"], chunk=2)
    stored = dict(Account.objects.filter(pk__in=[a.pk for a in accounts]).values_list("pk", "balance"))
    assert stored == {a.pk: 10 * i - 5 for i, a in enumerate(accounts)}
    assert list(
        Account.objects.filter(pk__in=[a.pk for a in accounts]).order_by("pk").values_list("allow_negative", flat=True)
    ) == [
        True,
        False,
        True,
    ]
