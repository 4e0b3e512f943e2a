"""Demo distribution: a three-level promoter chain with orders at every level, commissions frozen
and available, and one withdrawal waiting for review (fresh buyers untouched)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from jishi.accounts.models import User
from jishi.catalog.models import ProductStatus, Sku
from jishi.commission import services as commission
from jishi.commission.models import Withdrawal
from jishi.core.events import deliver_pending
from jishi.demo.seed import Progress, demo_buyers
from jishi.orders import services as orders
from jishi.orders.models import Order
from jishi.payments.services import pay_with_wallet

from . import services
from .models import Binding, Promoter

MARKER = "demo_distribution"
# phone suffix → who they bind to (001 heads the chain: 001 ← 002 ← 003 ← 004; 005, 006 under 001)
CHAIN = {"02": "01", "03": "02", "04": "03", "05": "01", "06": "01"}
BUYERS = ("04", "03", "02", "05", "06", "04")  # one order each, in this order


def _by_suffix() -> dict[str, User]:
    return {u.phone[-2:]: u for u in demo_buyers() if u.phone}


def seed_promoters(progress: Progress) -> int:
    services.update_settings(None, {"levels": 2, "rates_bp": [1000, 500, 200]})
    people = _by_suffix()
    created = 0
    for suffix in ("01", "02", "03"):
        if not Promoter.objects.filter(user=people[suffix]).exists():
            created += 1
        services.apply(people[suffix])
    for done, (lower, upper) in enumerate(CHAIN.items(), 1):
        if not Binding.objects.filter(buyer=people[lower]).exists():
            services.bind(people[lower], Promoter.objects.get(user=people[upper]).code)
            created += 1
        progress.update(done, len(CHAIN))
    return created


def seed_team_orders(progress: Progress) -> int:
    if Order.objects.filter(meta__has_key=MARKER).exists():
        progress.update(len(BUYERS), len(BUYERS))
        return 0
    people = _by_suffix()
    skus = list(
        Sku.objects.filter(product__status=ProductStatus.PUBLISHED, is_active=True, price__lte=20000)
        .order_by("id")
        .values_list("pk", flat=True)[:12]
    )
    operator = User.objects.filter(is_superuser=True).first()
    created = 0
    with transaction.atomic():
        for index, suffix in enumerate(BUYERS):
            buyer = people[suffix]
            address = buyer.addresses.first()
            order = orders.place_order(
                buyer,
                [(skus[index % len(skus)], 1), (skus[(index + 5) % len(skus)], 1)],
                address.pk if address else None,
            )
            Order.objects.filter(pk=order.pk).update(meta={**order.meta, MARKER: index})
            pay_with_wallet(buyer, order.pk)
            if index < 3 and operator:  # the first three complete: their commissions unfreeze below
                orders.ship_order(operator, order.pk, "顺丰速运", f"SF80{order.pk:08d}")
                orders.confirm_receipt(buyer, order.pk)
            created += 1
            progress.update(index + 1, len(BUYERS))
    deliver_pending()
    commission.unfreeze_due(timezone.now() + timedelta(days=8))
    return created


def seed_withdrawal(progress: Progress) -> int:
    head = _by_suffix()["01"]
    if Withdrawal.objects.filter(user=head).exists():
        return 0
    available = commission.totals(head.pk)["available"]
    amount = max(min(available, 2000), 0)
    if amount < services.get_settings().withdrawal_min:
        return 0
    services.request_withdrawal(head, amount, "alipay", "demo-alipay@jishi.local")
    progress.update(1, 1)
    return 1


STEPS: list[tuple[str, Callable[[Progress], int]]] = [
    ("distribution promoters", seed_promoters),
    ("distribution orders", seed_team_orders),
    ("distribution withdrawal", seed_withdrawal),
]
