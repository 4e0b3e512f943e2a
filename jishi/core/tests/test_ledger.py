from __future__ import annotations

import threading
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import F

from jishi.core import ledger
from jishi.core.models import Account, AccountKind, Entry, Transaction
from jishi.testing.factories import UserFactory

pytestmark = pytest.mark.django_db


def fund(user_id: int, amount: int, key: str = "fund") -> Account:
    wallet = ledger.user_account(user_id, AccountKind.WALLET)
    ledger.transfer(
        kind="topup",
        key=f"{key}:{user_id}",
        source=ledger.platform_account(AccountKind.PLATFORM_TOPUP),
        target=wallet,
        amount=amount,
    )
    return wallet


def test_balanced_posting_moves_balances() -> None:
    user = UserFactory()
    fund(user.pk, 5000)
    assert ledger.balance_of(user.pk, AccountKind.WALLET) == 5000
    assert ledger.balance("platform:platform_topup") == -5000
    assert ledger.check_ledger() == []


def test_replay_with_same_key_posts_nothing_twice() -> None:
    user = UserFactory()
    wallet = fund(user.pk, 5000)
    again = ledger.transfer(
        kind="topup",
        key=f"fund:{user.pk}",
        source=ledger.platform_account(AccountKind.PLATFORM_TOPUP),
        target=wallet,
        amount=5000,
    )
    assert again.created is False
    assert ledger.balance_of(user.pk, AccountKind.WALLET) == 5000
    assert Transaction.objects.filter(key=f"fund:{user.pk}").count() == 1
    assert Entry.objects.count() == 2


def test_unbalanced_posting_is_refused() -> None:
    user = UserFactory()
    wallet = ledger.user_account(user.pk, AccountKind.WALLET)
    with pytest.raises(ledger.LedgerError):
        ledger.post(kind="x", key="bad", legs=[(wallet, 100)])
    assert Transaction.objects.count() == 0


def test_mixed_units_are_refused() -> None:
    user = UserFactory()
    wallet = ledger.user_account(user.pk, AccountKind.WALLET)
    points = ledger.user_account(user.pk, AccountKind.POINTS)
    with pytest.raises(ledger.LedgerError):
        ledger.post(kind="x", key="mixed", legs=[(wallet, 100), (points, -100)])


def test_overdraft_rolls_back_the_whole_posting() -> None:
    user = UserFactory()
    wallet = fund(user.pk, 100)
    revenue = ledger.platform_account(AccountKind.PLATFORM_REVENUE)
    with pytest.raises(ledger.InsufficientBalance) as err, transaction.atomic():
        ledger.transfer(kind="pay", key="pay-1", source=wallet, target=revenue, amount=101)
    assert err.value.code == "insufficient_balance"
    assert err.value.status == 409
    assert ledger.balance_of(user.pk, AccountKind.WALLET) == 100
    assert not Transaction.objects.filter(key="pay-1").exists()
    assert ledger.check_ledger() == []


def test_check_ledger_finds_a_tampered_balance() -> None:
    user = UserFactory()
    fund(user.pk, 100)
    Account.objects.filter(key=f"user:{user.pk}:wallet").update(balance=F("balance") + 1)
    problems = ledger.check_ledger()
    assert len(problems) == 1
    assert "!= entries" in problems[0]
    with pytest.raises(Exception, match="ledger check failed"):
        call_command("check_ledger")


def test_check_ledger_finds_an_unbalanced_transaction() -> None:
    user = UserFactory()
    fund(user.pk, 100)
    Entry.objects.filter(account__key=f"user:{user.pk}:wallet").update(amount=99)
    Account.objects.filter(key=f"user:{user.pk}:wallet").update(balance=99)
    problems = ledger.check_ledger()
    assert any("does not balance" in p for p in problems)


def test_check_ledger_command_passes_on_a_sound_book(capsys: Any) -> None:
    user = UserFactory()
    fund(user.pk, 100)
    call_command("check_ledger")
    assert "ledger ok: 1 transactions" in capsys.readouterr().out


@pytest.mark.django_db(transaction=True)
def test_parallel_spending_never_overdraws() -> None:
    """20 threads each spend ¥1 from a ¥10 wallet: exactly 10 succeed, the balance ends at 0."""
    user = UserFactory()
    fund(user.pk, 1000)
    revenue = ledger.platform_account(AccountKind.PLATFORM_REVENUE)
    wallet = ledger.user_account(user.pk, AccountKind.WALLET)
    results: list[str] = []
    barrier = threading.Barrier(20)

    def spend(i: int) -> None:
        try:
            barrier.wait()
            ledger.transfer(kind="pay", key=f"spend-{i}", source=wallet, target=revenue, amount=100)
            results.append("ok")
        except ledger.InsufficientBalance:
            results.append("short")
        finally:
            connection.close()

    threads = [threading.Thread(target=spend, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 10
    assert results.count("short") == 10
    assert ledger.balance_of(user.pk, AccountKind.WALLET) == 0
    assert ledger.check_ledger() == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_replays_post_once() -> None:
    user = UserFactory()
    wallet = ledger.user_account(user.pk, AccountKind.WALLET)
    source = ledger.platform_account(AccountKind.PLATFORM_TOPUP)
    created: list[bool] = []
    barrier = threading.Barrier(8)

    def post() -> None:
        try:
            barrier.wait()
            created.append(
                ledger.transfer(kind="topup", key="same-key", source=source, target=wallet, amount=700).created
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert created.count(True) == 1
    assert len(created) == 8
    assert ledger.balance_of(user.pk, AccountKind.WALLET) == 700


def test_a_replayed_key_with_other_legs_is_refused_loudly() -> None:
    source = ledger.platform_account(AccountKind.PLATFORM_TOPUP)
    target = ledger.user_account(UserFactory().pk, AccountKind.WALLET)
    ledger.transfer(kind="t", key="same-key", source=source, target=target, amount=100)

    assert not ledger.transfer(kind="t", key="same-key", source=source, target=target, amount=100).created
    with pytest.raises(ledger.KeyReused), transaction.atomic():
        ledger.transfer(kind="t", key="same-key", source=source, target=target, amount=101)
    assert ledger.balance(target) == 100
