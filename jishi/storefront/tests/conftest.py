"""Shop data for the storefront tests: a small tea shop with a category tree, and buyers."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client

from jishi.catalog import search
from jishi.catalog import services as catalog
from jishi.catalog.models import Category, Product, ProductStatus, Sku
from jishi.inventory import services as inventory
from jishi.testing.factories import CategoryFactory, ProductFactory, SkuFactory
from jishi.testing.shop import Shopper, shopper


@dataclass
class Shop:
    tea: Category
    green_tea: Category
    fruit: Category
    longjing: Product
    pu_erh: Product
    apple: Product
    draft: Product


def indexed(product: Product) -> Product:
    search.reindex(product)
    return product


@pytest.fixture
def shop(db: None) -> Shop:
    tea = CategoryFactory(name="茶叶", icon="🍵", sort=1)
    green_tea = CategoryFactory(name="绿茶", parent=tea)
    fruit = CategoryFactory(name="水果", sort=2)
    longjing = catalog.create_product(
        {
            "category_id": green_tea.pk,
            "name": "西湖龙井茶",
            "subtitle": "明前特级 250g",
            "description": "产自杭州西湖。\n冲泡水温 80℃。",
            "specs": [{"name": "规格", "values": ["250g", "500g"]}],
            "skus": [
                {"specs": {"规格": "250g"}, "price": 12800, "original_price": 15800},
                {"specs": {"规格": "500g"}, "price": 23900, "original_price": 26900},
            ],
            "status": ProductStatus.PUBLISHED,
        }
    )
    small, large = longjing.skus.order_by("price")
    inventory.set_on_hand(small.pk, 12)
    inventory.set_on_hand(large.pk, 0)
    pu_erh = indexed(ProductFactory(category=tea, name="云南普洱茶饼", price=6650))
    SkuFactory(product=pu_erh, price=6650, stock=3)
    apple = indexed(ProductFactory(category=fruit, name="烟台红富士苹果", price=3990))
    SkuFactory(product=apple, price=3990, stock=50)
    draft = indexed(ProductFactory(category=tea, name="未上架白茶", status=ProductStatus.DRAFT))
    SkuFactory(product=draft, stock=5)
    return Shop(tea, green_tea, fruit, longjing, pu_erh, apple, draft)


@pytest.fixture
def me(db: None) -> Shopper:
    """A signed-up buyer with a default address and an empty wallet."""
    return shopper()


@pytest.fixture
def me_client(client: Client, me: Shopper) -> Client:
    client.force_login(me.user)
    return client


@pytest.fixture
def other(db: None) -> Shopper:
    return shopper()


def sku_of(product: Product, price: int | None = None) -> Sku:
    skus = product.skus.order_by("price")
    return skus.get(price=price) if price is not None else skus.first()  # type: ignore[return-value]
