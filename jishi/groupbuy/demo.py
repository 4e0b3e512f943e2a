"""Demo community group-buy: four approved leaders around Hangzhou's 西湖区 and one application
waiting for review; today's batch of 8 products on sale with orders across the leaders; yesterday's
batch at the pickup points with some codes verified (fresh buyers untouched)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from django.utils import timezone

from jishi.accounts.models import User
from jishi.catalog.models import ProductStatus, Sku
from jishi.core.events import deliver_pending
from jishi.demo.seed import Progress, demo_buyers
from jishi.payments.services import pay_with_wallet

from . import batches, leaders, pickup
from .models import Batch, BatchStatus, Leader, LeaderStatus, PickupOrder, PickupStatus

# phone suffix → (real name, point name, type, address, latitude, longitude, hours)
LEADERS = {
    "07": (
        "王秀英",
        "文三路邻里便利店",
        "convenience",
        "杭州市西湖区文三路 259 号",
        30.27652,
        120.14298,
        "07:30-22:00",
    ),
    "08": ("陈丽", "黄龙小区宝妈团", "mom", "杭州市西湖区黄龙路 5 号 3 幢", 30.27021, 120.14903, "09:00-20:00"),
    "09": ("刘建国", "古荡快递驿站", "parcel", "杭州市西湖区古墩路 88 号", 30.28104, 120.13302, "08:00-21:00"),
    "10": ("赵敏", "翠苑一区物业", "property", "杭州市西湖区翠苑一区物业中心", 30.28733, 120.13815, "08:30-18:00"),
}
PENDING = ("11", ("孙强", "城西银泰门店", "store", "杭州市拱墅区丰潭路 380 号", 30.29215, 120.11012, "10:00-22:00"))
MEMBERS = {"01": "07", "02": "07", "03": "08", "04": "09", "05": "10", "06": "08"}
TODAY, YESTERDAY = "今日团", "昨日团"


def _by_suffix() -> dict[str, User]:
    return {u.phone[-2:]: u for u in demo_buyers() if u.phone}


def _application(data: tuple[str, str, str, str, float, float, str], phone: str) -> dict[str, object]:
    name, point, kind, address, lat, lng, hours = data
    return {
        "name": name,
        "phone": phone,
        "id_number": "33010619850101" + phone[-4:],
        "pickup_point": {
            "name": point,
            "type": kind,
            "address": address,
            "latitude": lat,
            "longitude": lng,
            "hours": hours,
            "daily_capacity": 150,
        },
    }


def seed_leaders(progress: Progress) -> int:
    people = _by_suffix()
    created = 0
    for done, (suffix, data) in enumerate([*LEADERS.items(), PENDING], 1):
        user = people[suffix]
        if not Leader.objects.filter(user=user).exists():
            leader = leaders.apply(user, _application(data, user.phone or ""))
            if suffix in LEADERS:
                leaders.review(None, leader.pk, "approve")
            created += 1
        progress.update(done, len(LEADERS) + 1)
    for member, leader_suffix in MEMBERS.items():
        leader = Leader.objects.get(user=people[leader_suffix])
        leaders.bind(people[member], leader.pk)
    return created


def _skus() -> list[Sku]:
    return list(
        Sku.objects.filter(product__status=ProductStatus.PUBLISHED, is_active=True, price__range=(500, 10000))
        .select_related("product")
        .order_by("id")[:8]
    )


def _cutoff() -> datetime:
    """Today's 23:00 (截单), or two hours from now when that is too close."""
    now = timezone.now()
    late = timezone.localtime(now).replace(hour=23, minute=0, second=0, microsecond=0)
    return late if late > now + timedelta(minutes=30) else now + timedelta(hours=2)


def _batch(name: str, days_ago: int) -> Batch:
    now = timezone.now()
    batch = batches.create_batch(
        None,
        {
            "name": name,
            "sale_starts_at": now - timedelta(days=days_ago, hours=2),
            "cutoff_at": _cutoff(),
            "delivery_date": timezone.localdate() + timedelta(days=1 - days_ago),
            "pickup_date": timezone.localdate() + timedelta(days=1 - days_ago),
        },
    )
    for index, sku in enumerate(_skus()):
        group_price = max(100, sku.price * 8 // 10 // 10 * 10 - 10)  # about 20% off, ending in 9
        batches.add_item(None, batch.pk, {"sku_id": sku.pk, "group_price": group_price, "stock": 200, "sort": index})
    return batch


def _orders(batch: Batch) -> int:
    people = _by_suffix()
    items = batches.batch_items(batch)
    placed = 0
    for index, member in enumerate(MEMBERS):
        lines = [(items[index % len(items)].sku_id, 1 + index % 2), (items[(index + 3) % len(items)].sku_id, 1)]
        order = batches.buy(people[member], batch.pk, lines)
        pay_with_wallet(people[member], order.pk)
        placed += 1
    deliver_pending()
    return placed


def seed_today(progress: Progress) -> int:
    if Batch.objects.filter(name=TODAY).exists() or len(_skus()) < 8:
        return 0
    batch = _batch(TODAY, 0)
    placed = _orders(batch)
    progress.update(1, 1)
    return placed


def seed_yesterday(progress: Progress) -> int:
    if Batch.objects.filter(name=YESTERDAY).exists() or len(_skus()) < 8:
        return 0
    batch = _batch(YESTERDAY, 1)
    placed = _orders(batch)
    Batch.objects.filter(pk=batch.pk).update(cutoff_at=timezone.now())
    batches.cut_off(batch.pk)
    batches.start_purchasing(None, batch.pk)
    batches.start_delivering(None, batch.pk)
    for leader in Leader.objects.filter(status=LeaderStatus.APPROVED).order_by("id"):
        if PickupOrder.objects.filter(batch=batch, leader=leader).exists():
            pickup.receive_delivery(None, batch.pk, leader.pk)
    ready = list(PickupOrder.objects.filter(batch=batch, status=PickupStatus.READY).select_related("leader__user"))
    for p in ready[: len(ready) // 2]:  # half collected, half still waiting at the points
        pickup.verify(p.leader.user, p.code)
    deliver_pending()
    assert Batch.objects.get(pk=batch.pk).status == BatchStatus.AT_POINTS
    progress.update(1, 1)
    return placed


STEPS: list[tuple[str, Callable[[Progress], int]]] = [
    ("groupbuy leaders", seed_leaders),
    ("groupbuy yesterday's batch", seed_yesterday),
    ("groupbuy today's batch", seed_today),
]
