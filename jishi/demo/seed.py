"""The demo shop: a re-runnable seed of categories, products, stock, images and people.

Every step finds what an earlier run made by its natural key (phone, username, category
and product name) and only creates what is missing, so a second run changes nothing and
never resets stock that orders have since moved. Later features append their own steps
to ``STEPS`` and leave the buyers in ``FRESH_PHONES`` untouched.
"""

from __future__ import annotations

import importlib
import importlib.util
import random
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import Count

from jishi.accounts import services as accounts
from jishi.accounts.models import Address, Role, User
from jishi.catalog import services as catalog
from jishi.catalog.models import Category, Product, ProductStatus
from jishi.inventory import services as inventory
from jishi.inventory.models import StockItem

from .catalog_data import ADDRESSES, BUYER_NICKNAMES, CATALOG, DemoCategory, DemoProduct
from .images import product_image

DEMO_PASSWORD = "jishi-demo"
ADMIN_USERNAME = "admin"
BUYER_PHONES: tuple[str, ...] = tuple(f"138000000{i:02d}" for i in range(1, 21))
# Kept without addresses, orders or history so a visitor can try the first-time flows.
FRESH_PHONES: frozenset[str] = frozenset(BUYER_PHONES[15:])
STOCK_REFERENCE = "demo-seed"
BARCODE_PREFIX = "6920"  # 69x: the GS1 prefix of mainland China


class Writer(Protocol):
    def write(self, text: str, /) -> Any: ...


class Progress:
    """Progress lines for one step: ``[3/7] products 40/64``."""

    EVERY = 10

    def __init__(self, out: Writer, index: int, total: int, name: str) -> None:
        self.out, self.index, self.total, self.name = out, index, total, name
        self.done = 0
        self.of = 0

    def line(self, text: str) -> None:
        self.out.write(f"[{self.index}/{self.total}] {self.name} {text}\n")
        flush = getattr(self.out, "flush", None)
        if callable(flush):
            flush()

    def update(self, done: int, of: int) -> None:
        self.done, self.of = done, of
        if done < of and done % self.EVERY == 0:
            self.line(f"{done}/{of}")


Step = Callable[[Progress], int]  # returns how many rows it created


def demo_products() -> Iterator[tuple[int, int, DemoCategory, str, DemoProduct]]:
    """(position, category position, category, subcategory name, product) in catalogue order."""
    position = 0
    for cat_index, category in enumerate(CATALOG):
        for sub in category.subcategories:
            for product in sub.products:
                yield position, cat_index, category, sub.name, product
                position += 1


def _demo_products_by_name() -> dict[str, Product]:
    names = [p.name for _pos, _ci, _c, _s, p in demo_products()]
    found: dict[str, Product] = {}
    for product in Product.objects.filter(name__in=names).order_by("pk"):
        found.setdefault(product.name, product)
    return found


def demo_buyers(*, include_fresh: bool = False) -> list[User]:
    """The seeded buyers in phone order; later seed steps use these and skip the fresh ones."""
    phones = [p for p in BUYER_PHONES if include_fresh or p not in FRESH_PHONES]
    by_phone = {u.phone: u for u in User.objects.filter(phone__in=phones)}
    return [by_phone[p] for p in phones if p in by_phone]


# --- steps -------------------------------------------------------------------------------


def seed_categories(progress: Progress) -> int:
    existing = {(c.parent_id, c.name): c.pk for c in Category.objects.all()}
    wanted = sum(1 + len(c.subcategories) for c in CATALOG)
    created = done = 0
    for index, category in enumerate(CATALOG):
        top_id = existing.get((None, category.name))
        if top_id is None:
            top_id = catalog.save_category({"name": category.name, "sort": index * 10, "icon": category.icon}).pk
            created += 1
        done += 1
        for sub_index, sub in enumerate(category.subcategories):
            if (top_id, sub.name) not in existing:
                catalog.save_category({"name": sub.name, "sort": sub_index * 10, "parent_id": top_id})
                created += 1
            done += 1
            progress.update(done, wanted)
    return created


def seed_operator(progress: Progress) -> int:
    created = 0
    admin = User.objects.filter(username=ADMIN_USERNAME).first()
    if admin is None:
        # No service creates staff accounts: the operator console itself is Django's admin.
        admin = User.objects.create_superuser(
            username=ADMIN_USERNAME, email="", password=DEMO_PASSWORD, nickname="集市运营"
        )
        created = 1
    for role in (Role.OPERATOR, Role.ADMIN):
        accounts.grant_role(admin, role)
    progress.update(1, 1)
    return created


def seed_buyers(progress: Progress) -> int:
    existing = set(User.objects.filter(phone__in=BUYER_PHONES).values_list("phone", flat=True))
    created = 0
    for done, (phone, nickname) in enumerate(zip(BUYER_PHONES, BUYER_NICKNAMES, strict=True), 1):
        if phone not in existing:
            accounts.register_buyer(phone, DEMO_PASSWORD, nickname=nickname)
            created += 1
        progress.update(done, len(BUYER_PHONES))
    return created


def seed_addresses(progress: Progress) -> int:
    buyers = demo_buyers()
    with_address = set(Address.objects.filter(user__in=buyers).values_list("user_id", flat=True).distinct())
    created = 0
    for done, (buyer, row) in enumerate(zip(buyers, ADDRESSES, strict=False), 1):
        if buyer.pk not in with_address:
            contact, province, city, district, detail = row
            accounts.save_address(
                buyer,
                {
                    "contact": contact,
                    "phone": buyer.phone,
                    "province": province,
                    "city": city,
                    "district": district,
                    "detail": detail,
                    "is_default": True,
                },
            )
            created += 1
        progress.update(done, len(buyers))
    return created


def ean13(position: int, sku_index: int) -> str:
    body = f"{BARCODE_PREFIX}{position:04d}{sku_index:04d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def _original_price(price: int) -> int:
    """A strike-through price about a quarter above the price, in whole yuan."""
    return -(-price * 5 // 4 // 100) * 100


def product_payload(position: int, category_id: int, product: DemoProduct) -> dict[str, Any]:
    """What ``create_product`` needs: specs, and one priced SKU per spec combination."""
    specs: list[dict[str, Any]] = [{"name": name, "values": list(values)} for name, values in product.specs]
    priced = product.priced_by or (product.specs[0][0] if product.specs else "")
    priced_values = dict(product.specs).get(priced, ())
    skus = []
    for sku_index, combo in enumerate(catalog.spec_combinations(specs)):
        step = priced_values.index(combo[priced]) if priced in combo else 0
        price = product.price + product.step * step
        skus.append(
            {
                "specs": combo,
                "price": price,
                "original_price": _original_price(price) if product.original_price else 0,
                "weight_g": product.weight_g * (step + 1) if product.step else product.weight_g,
                "barcode": ean13(position, sku_index),
            }
        )
    return {
        "category_id": category_id,
        "name": product.name,
        "subtitle": product.subtitle,
        "description": product.description,
        "specs": specs,
        "skus": skus,
        "status": ProductStatus.PUBLISHED,
        # Products list newest-sort first: keep the catalogue's order on the storefront.
        "sort": 1000 - position,
    }


def seed_products(progress: Progress) -> int:
    tops = {c.name: c.pk for c in Category.objects.filter(parent__isnull=True)}
    subs = {(c.parent_id, c.name): c.pk for c in Category.objects.filter(parent__isnull=False)}
    existing = _demo_products_by_name()
    rows = list(demo_products())
    created = 0
    for done, (position, _ci, category, sub_name, product) in enumerate(rows, 1):
        if product.name not in existing:
            category_id = subs[(tops[category.name], sub_name)]
            payload = product_payload(position, category_id, product)
            catalog.create_product(payload)
            created += 1
        progress.update(done, len(rows))
    return created


def images_wanted(position: int) -> int:
    return 1 + position % 3


def seed_images(progress: Progress) -> int:
    products = _demo_products_by_name()
    have = dict(
        Product.objects.filter(pk__in=[p.pk for p in products.values()])
        .annotate(n=Count("images"))
        .values_list("pk", "n")
    )
    rows = list(demo_products())
    created = 0
    for done, (position, cat_index, category, _s, demo) in enumerate(rows, 1):
        product = products.get(demo.name)
        if product is not None:
            for variant in range(have.get(product.pk, 0), images_wanted(position)):
                raw = product_image(cat_index, demo.name, variant, category=category.name, subtitle=demo.subtitle)
                catalog.add_image(product.pk, raw, sort=variant)
                created += 1
        progress.update(done, len(rows))
    return created


def opening_stock(product_name: str, spec_key: str) -> int:
    """A stable, plausible count per SKU: mostly plenty, a few running low."""
    rng = random.Random(f"{product_name}|{spec_key}")
    return rng.choice((8, 12, 25)) if rng.random() < 0.1 else rng.randint(60, 400)


def seed_stock(progress: Progress) -> int:
    products = _demo_products_by_name()
    location = inventory.default_location()
    stocked = set(
        StockItem.objects.filter(location=location, sku__product__in=products.values()).values_list("sku_id", flat=True)
    )
    created = 0
    names = list(products)
    for done, name in enumerate(names, 1):
        product = products[name]
        with transaction.atomic():
            for sku in product.skus.order_by("pk"):
                if sku.pk not in stocked:
                    quantity = opening_stock(name, sku.spec_key)
                    inventory.set_on_hand(sku.pk, quantity, location, reference=STOCK_REFERENCE)
                    created += 1
        progress.update(done, len(names))
    return created


STEPS: list[tuple[str, Step]] = [
    ("categories", seed_categories),
    ("operator", seed_operator),
    ("buyers", seed_buyers),
    ("addresses", seed_addresses),
    ("products", seed_products),
    ("images", seed_images),
    ("stock", seed_stock),
]


# Each feature app may ship ``jishi/<app>/demo.py`` with its own ``STEPS``; they run after the
# shop's own steps, in this (dependency) order.
FEATURE_APPS = (
    "payments",
    "marketing",
    "loyalty",
    "content",
    "distribution",
    "notify",
    "community",
    "groupbuy",
    "retail",
    "rebate",
)


def all_steps() -> list[tuple[str, Step]]:
    steps = list(STEPS)
    for app in FEATURE_APPS:
        try:
            module = importlib.import_module(f"jishi.{app}.demo")
        except ModuleNotFoundError as exc:
            if exc.name != f"jishi.{app}.demo":
                raise
            continue
        steps.extend(getattr(module, "STEPS", []))
    return steps


def seed_demo(stdout: Writer | None = None, steps: list[tuple[str, Step]] | None = None) -> dict[str, int]:
    """Run every step of the shop and of each feature (or just ``steps``); returns rows created per step."""
    out: Writer = stdout if stdout is not None else sys.stdout
    started = time.monotonic()
    created: dict[str, int] = {}
    steps = all_steps() if steps is None else steps
    for index, (name, step) in enumerate(steps, 1):
        progress = Progress(out, index, len(steps), name)
        step_started = time.monotonic()
        created[name] = step(progress)
        counted = f"{progress.done}/{progress.of}" if progress.of else "done"
        seconds = time.monotonic() - step_started
        progress.line(f"{counted} ({created[name]} new, {seconds:.1f}s)")
    total = sum(created.values())
    out.write(f"demo data ready: {total} rows created in {time.monotonic() - started:.1f}s\n")
    return created


def seed_orders(n: int, stdout: Writer | None = None) -> int:
    """Place and pay (wallet) ``n`` orders for the non-fresh buyers: load-test data.

    Goes through the order and payment services, one transaction per order. A buyer whose
    wallet is short is topped up through the ledger first, and a SKU running low is
    restocked, so the run never stops half-way for want of money or stock.
    """
    from jishi.catalog.models import Sku
    from jishi.core import ledger
    from jishi.core.models import AccountKind
    from jishi.orders import services as orders
    from jishi.payments import services as payments

    out: Writer = stdout if stdout is not None else sys.stdout
    buyers = demo_buyers()
    addresses: dict[int, int] = {}
    for user_id, address_id in Address.objects.filter(user__in=buyers).values_list("user_id", "pk"):
        addresses.setdefault(user_id, address_id)  # default addresses come first
    buyers = [b for b in buyers if b.pk in addresses]
    if not buyers:
        raise CommandError("No demo buyers with addresses: run `jishi seed` first.")
    skus = list(
        Sku.objects.filter(is_active=True, product__status=ProductStatus.PUBLISHED, price__gt=0)
        .order_by("pk")
        .values_list("pk", "price")
    )
    if len(skus) < 3:
        raise CommandError("Not enough published SKUs: run `jishi seed` first.")
    location = inventory.default_location()
    top_up_source = ledger.platform_account(AccountKind.PLATFORM_TOPUP)
    wallets = {b.pk: ledger.user_account(b.pk, AccountKind.WALLET) for b in buyers}
    # Orders reserve at the default location: track what is left there and restock before it runs out.
    sellable = {
        sku_id: on_hand - reserved
        for sku_id, on_hand, reserved in StockItem.objects.filter(location=location).values_list(
            "sku_id", "on_hand", "reserved"
        )
    }
    rng = random.Random()
    batch = f"{time.time_ns():x}"
    every = max(1, n // 10)
    started = time.monotonic()
    for done in range(1, n + 1):
        buyer = buyers[done % len(buyers)]
        lines = [(sku_id, rng.randint(1, 2)) for sku_id, _p in rng.sample(skus, rng.randint(1, 3))]
        with transaction.atomic():
            for sku_id, quantity in lines:
                if sellable.get(sku_id, 0) < quantity:
                    on_hand = StockItem.objects.filter(sku_id=sku_id, location=location).values_list(
                        "on_hand", flat=True
                    )
                    inventory.set_on_hand(sku_id, (on_hand.first() or 0) + 500, location, reference="demo-load")
                    sellable[sku_id] = sellable.get(sku_id, 0) + 500
                sellable[sku_id] -= quantity
            order = orders.place_order(buyer, lines, addresses[buyer.pk])
            if ledger.balance_of(buyer.pk, AccountKind.WALLET) < order.payable:
                ledger.transfer(
                    kind="wallet_topup",
                    key=f"demo-load-topup:{batch}:{done}",
                    reference=f"user:{buyer.pk}",
                    memo="压测充值",
                    source=top_up_source,
                    target=wallets[buyer.pk],
                    amount=max(order.payable, 500_000),
                )
            payments.pay_with_wallet(buyer, order.pk)
        if done % every == 0 or done == n:
            rate = done / max(time.monotonic() - started, 1e-6)
            out.write(f"orders {done}/{n} ({done * 100 // n}%, {rate:.0f}/s)\n")
            flush = getattr(out, "flush", None)
            if callable(flush):
                flush()
    return n


def login_lines() -> list[str]:
    first, last = BUYER_PHONES[0], BUYER_PHONES[-1]
    fresh = sorted(FRESH_PHONES)
    lines = [
        "Demo logins (password for all: jishi-demo)",
        f"  operator      {ADMIN_USERNAME} / {DEMO_PASSWORD}",
        f"  buyers        {first}–{last} / {DEMO_PASSWORD}",
        f"  fresh buyers  {fresh[0]}–{fresh[-1]} (no addresses, orders or history)",
    ]
    for app in FEATURE_APPS:  # a feature app's own logins (retail: a clerk per store)
        module = importlib.util.find_spec(f"jishi.{app}.demo") and importlib.import_module(f"jishi.{app}.demo")
        lines.extend(getattr(module, "login_lines", list)())
    return lines
