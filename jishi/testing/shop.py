"""A small shop for order and payment tests: SKUs in stock, a funded buyer with an address."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jishi.accounts.models import Address, User
from jishi.accounts.services import issue_token
from jishi.catalog.models import Sku
from jishi.core import ledger
from jishi.core.models import AccountKind

from .factories import AddressFactory, SkuFactory, UserFactory


@dataclass
class Shopper:
    user: User
    token: str
    address: Address

    def fund(self, amount: int) -> None:
        fund_wallet(self.user, amount)


# A valid body for POST /api/v1/addresses.
ADDRESS_BODY = {
    "contact": "李四",
    "phone": "13800000000",
    "province": "浙江省",
    "city": "杭州市",
    "district": "西湖区",
    "detail": "文一路 1 号",
}


def fund_wallet(user: User, amount: int, key: str | None = None) -> None:
    ledger.transfer(
        kind="wallet_topup",
        key=key or f"test-fund:{user.pk}:{amount}:{ledger.balance_of(user.pk, AccountKind.WALLET)}",
        source=ledger.platform_account(AccountKind.PLATFORM_TOPUP),
        target=ledger.user_account(user.pk, AccountKind.WALLET),
        amount=amount,
    )


def shopper(wallet: int = 0, **user_kwargs: Any) -> Shopper:
    user = UserFactory(**user_kwargs)
    address = AddressFactory(user=user)
    s = Shopper(user=user, token=issue_token(user), address=address)
    if wallet:
        s.fund(wallet)
    return s


def skus(*prices: int, stock: int = 10) -> list[Sku]:
    return [SkuFactory(price=p, stock=stock, product__price=p) for p in prices]
