"""Demo new retail: three Hangzhou stores with overlapping 3 km areas, stock per store, a clerk
login per store, offline sales for online members, and store orders in every board state."""

from __future__ import annotations

from collections.abc import Callable
from datetime import time, timedelta

from django.utils import timezone

from jishi.accounts import services as accounts
from jishi.accounts.models import Address, User
from jishi.catalog.models import ProductStatus, Sku
from jishi.core import geo
from jishi.core.events import deliver_pending
from jishi.demo.seed import DEMO_PASSWORD, Progress, demo_buyers
from jishi.inventory import services as inventory
from jishi.payments.services import pay_with_wallet

from . import checkout, fulfilment, pos, stores
from .models import Fulfilment, Store

# name, (lat, lng), clerk phone: about 2 km apart, so their 3 km areas overlap
STORES = [
    ("集市·西湖文三店", (30.2781, 120.1405), "13900009001"),
    ("集市·武林店", (30.2741, 120.1640), "13900009002"),
    ("集市·黄龙店", (30.2640, 120.1520), "13900009003"),
]
TIERS = (stores.FeeTier(3000, 500),)


def _skus(n: int = 24) -> list[Sku]:
    return list(Sku.objects.filter(is_active=True, product__status=ProductStatus.PUBLISHED).order_by("id")[:n])


def seed_stores(progress: Progress) -> int:
    created = 0
    skus = _skus()
    for index, (name, (lat, lng), phone) in enumerate(STORES):
        store = Store.objects.filter(name=name).first()
        if store is None:
            store = stores.create_store(
                None,
                name=name,
                city="杭州",
                address=f"杭州市{name[3:]}",
                latitude=lat,
                longitude=lng,
                phone=f"0571-8800{index + 1:04d}",
                area=stores.AreaSpec(
                    radius_m=3000, fee_tiers=TIERS, fee_per_km_beyond=100, fee_cap=2000, min_order_amount=2000
                ),
            )
            stores.set_hours(store, [(d, time(8), time(22)) for d in range(7)])
            for sku in skus:
                inventory.set_on_hand(sku.pk, 30 + 10 * index, location=store.location, reference="demo")
            created += 1
        clerk = User.objects.filter(phone=phone).first() or accounts.register_buyer(
            phone, DEMO_PASSWORD, nickname=f"{name[3:]}店员"
        )
        stores.add_staff(None, store, clerk, "manager" if index == 0 else "clerk")
        today = timezone.localdate()
        for day in (today, today + timedelta(days=1)):
            for hour in (10, 12, 18):
                if not store.slots.filter(date=day, starts=time(hour)).exists():
                    fulfilment.create_slot(store, day, time(hour), time(hour + 1), 20)
    return created


def _address_near(user: User, store: Store, meters: float) -> Address:
    lat, lng = geo.destination(store.latitude, store.longitude, 45, meters)
    return Address.objects.create(
        user=user,
        contact=str(user),
        phone=user.phone or "13800000000",
        province="浙江省",
        city="杭州市",
        district="西湖区",
        detail=f"{store.name[3:]}附近 {int(meters)} 米",
        latitude=lat,
        longitude=lng,
        is_default=False,
    )


# (buyer index, store index, mode, board steps after paying)
ORDERS = [
    (0, 0, "delivery", []),
    (1, 0, "delivery", ["picking"]),
    (2, 1, "delivery", ["picking", "ready"]),
    (3, 1, "delivery", ["picking", "ready", "out_for_delivery"]),
    (4, 2, "delivery", ["picking", "ready", "out_for_delivery", "delivered"]),
    (5, 2, "pickup", ["picking", "ready_for_pickup"]),
    (6, 0, "pickup", ["picking", "ready_for_pickup", "picked_up"]),
]


def seed_store_orders(progress: Progress) -> int:
    if Fulfilment.objects.exclude(mode="offline").exists():
        return 0
    buyers, skus = demo_buyers(), _skus()
    shops = [Store.objects.get(name=name) for name, _p, _c in STORES]
    clerks = [User.objects.get(phone=phone) for _n, _p, phone in STORES]
    made = 0
    for i, (b, s, mode, steps) in enumerate(ORDERS):
        buyer, store = buyers[b], shops[s]
        address = _address_near(buyer, store, 1200 + 300 * i).pk if mode == "delivery" else None
        slot = store.slots.order_by("date", "starts").first() if mode == "delivery" else None
        lines = [(skus[i].pk, 1), (skus[i + 8].pk, 2)]
        [order] = checkout.place(
            buyer, lines, address, {"coupon_ids": []}, mode=mode, store_id=store.pk, slot_id=slot.pk if slot else None
        )
        pay_with_wallet(buyer, order.pk)
        for step in steps:
            if step == "picked_up":
                fulfilment.verify_pickup(clerks[s], store.pk, Fulfilment.objects.get(order=order).pickup_code)
            else:
                fulfilment.advance(clerks[s], order.pk, step)
        made += 1
    deliver_pending()
    return made


def seed_counter_sales(progress: Progress) -> int:
    if Fulfilment.objects.filter(mode="offline").exists():
        return 0
    buyers, skus = demo_buyers(), _skus()
    shops = [Store.objects.get(name=name) for name, _p, _c in STORES]
    clerks = [User.objects.get(phone=phone) for _n, _p, phone in STORES]
    tenders = ["cash", "card", "wallet", "cash", "card", "wallet"]
    for i, tender in enumerate(tenders):
        s = i % 3
        basket = [
            pos.BasketLine(1 + i % 2, sku_id=skus[(i * 3) % len(skus)].pk),
            pos.BasketLine(1, sku_id=skus[(i * 3 + 1) % len(skus)].pk),
        ]
        pos.ring_up(clerks[s], shops[s].pk, buyers[i % len(buyers)], basket, tender=tender)
    deliver_pending()
    return len(tenders)


def login_lines() -> list[str]:
    return [f"  clerk         {phone} / {DEMO_PASSWORD} ({name})" for name, _p, phone in STORES]


STEPS: list[tuple[str, Callable[[Progress], int]]] = [
    ("retail stores", seed_stores),
    ("retail store orders", seed_store_orders),
    ("retail counter sales", seed_counter_sales),
]
