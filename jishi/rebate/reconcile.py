"""Reconciliation per source and settlement month: what the network says it paid against what
Jishi credited, each difference explained by its order; sync health; anomalies; and the check
that every rebate order agrees with its commissions in the ledger."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from jishi.commission.models import Commission, CommissionSource, CommissionStatus

from .lifecycle import net_commission, platform_due, platform_posted_all, split_shares
from .models import CreditState, NetworkOrder, OrderAnomaly, RebateSource, ReviewState
from .statuses import TERMINAL
from .sync import sync_lag

MAX_LISTED = 200


@dataclass
class Difference:
    order_pk: int
    order_id: str
    status: str
    network_net: int  # what the network pays us for it, after the service fee
    expected: int  # the buyer's and promoter's shares of that by the split
    credited: int  # what people kept in the ledger
    difference: int
    reason: str


@dataclass
class Reconciliation:
    source_id: int
    month: str
    orders: int = 0
    network_net: int = 0
    credited: int = 0
    platform: int = 0
    differences: list[Difference] = field(default_factory=list)
    lag_seconds: int | None = None
    last_error: str = ""
    anomalies: list[dict[str, Any]] = field(default_factory=list)


def _network_net(order: NetworkOrder) -> int:
    return 0 if order.status in TERMINAL else max(0, net_commission(order) - order.commission_refunded)


def _credited(order: NetworkOrder) -> int:
    return order.buyer_share + order.promoter_share - order.reversed_amount


def _reason(order: NetworkOrder, network_net: int) -> str:
    if order.review == ReviewState.PENDING:
        return _("未匹配买家，待认领")
    if order.review == ReviewState.DISMISSED:
        return _("已忽略")
    if order.status in TERMINAL:
        return _("失效或退款，已扣回 ¥%(yuan)s") % {"yuan": f"{order.reversed_amount / 100:.2f}"}
    if network_net > order.base_amount:
        return _("结算佣金高于预估，差额留平台")
    return _("其他")


def reconcile(source: RebateSource, month: str) -> Reconciliation:
    """``month`` is ``YYYY-MM`` (Beijing time) of the network's settlement."""
    out = Reconciliation(source_id=source.pk, month=month, last_error=source.last_error)
    lag = sync_lag(source)
    out.lag_seconds = int(lag.total_seconds()) if lag is not None else None
    rows = NetworkOrder.objects.filter(source=source, settle_month=month).order_by("pk")
    for order in rows.iterator(chunk_size=1000):
        network_net = _network_net(order)
        credited = _credited(order)
        expected = 0
        if order.status not in TERMINAL:  # an unmatched order is owed too, once someone claims it
            buyer, promoter, _platform = split_shares(order.network, network_net, order.promoter_id is not None)
            expected = buyer + promoter
        out.orders += 1
        out.network_net += network_net
        out.credited += credited
        if credited != expected and len(out.differences) < MAX_LISTED:
            out.differences.append(
                Difference(
                    order.pk,
                    order.order_id,
                    order.status,
                    network_net,
                    expected,
                    credited,
                    credited - expected,
                    _reason(order, network_net),
                )
            )
    out.platform = out.network_net - out.credited
    anomalies = OrderAnomaly.objects.filter(order__source=source).select_related("order")[:MAX_LISTED]
    out.anomalies = [
        {
            "order_pk": a.order_id,
            "order_id": a.order.order_id,
            "kind": a.kind,
            "label": str(a.get_kind_display()),
            "detail": a.detail,
            "at": a.created_at,
        }
        for a in anomalies
    ]
    return out


def months(source: RebateSource) -> list[str]:
    return sorted(
        set(NetworkOrder.objects.filter(source=source).exclude(settle_month="").values_list("settle_month", flat=True)),
        reverse=True,
    )


def stale_sources(max_lag: timedelta = timedelta(hours=1)) -> list[RebateSource]:
    cutoff = timezone.now() - max_lag
    return list(RebateSource.objects.filter(enabled=True).filter(Q(synced_until__lt=cutoff) | Q(synced_until=None)))


def check_rebates() -> list[str]:
    """Every rebate order agrees with its commissions: what is credited, pending, available, reversed."""
    problems: list[str] = []
    sums = {
        row["order_id"]: row
        for row in Commission.objects.filter(source=CommissionSource.REBATE)
        .values("order_id")
        .annotate(
            granted=Sum("amount"),
            taken_back=Sum("reversed_amount"),
            still_frozen=Sum("amount", filter=Q(status=CommissionStatus.FROZEN)),
        )
    }
    platform = platform_posted_all()
    orders = NetworkOrder.objects.exclude(credit=CreditState.NONE).only(
        "pk",
        "credit",
        "buyer_share",
        "promoter_share",
        "platform_share",
        "base_amount",
        "reversed_amount",
        "commission_estimate",
        "commission_actual",
        "service_fee",
        "commission_refunded",
    )
    for order in orders.iterator(chunk_size=2000):
        problems.extend(_platform_problems(order, platform.pop(order.pk, (0, 0))))
        row = sums.pop(order.pk, None)
        if row is None:
            problems.append(f"rebate order {order.pk} is {order.credit} but has no commissions")
            continue
        if order.buyer_share + order.promoter_share + order.platform_share != order.base_amount:
            problems.append(f"rebate order {order.pk} shares do not sum to its base {order.base_amount}")
        if int(row["granted"]) != order.buyer_share + order.promoter_share:
            problems.append(f"rebate order {order.pk} shares != commissions {row['granted']}")
        if int(row["taken_back"]) != order.reversed_amount:
            problems.append(f"rebate order {order.pk} reversed {order.reversed_amount} != {row['taken_back']}")
        if order.credit != CreditState.PENDING and row["still_frozen"]:
            problems.append(f"rebate order {order.pk} is {order.credit} with frozen commissions")
        if len(problems) >= 100:
            break
    for order_id in list(sums)[:20]:
        problems.append(f"rebate commissions of order {order_id} have no credited rebate order")
    for order_pk, held in list(platform.items())[:20]:
        if held != (0, 0):
            problems.append(f"platform revenue {held} posted for rebate order {order_pk}, which is not credited")
    return problems


def _platform_problems(order: NetworkOrder, held: tuple[int, int]) -> list[str]:
    """The platform's share of a credited order sits where its credit says, to the fen."""
    due = platform_due(order)
    wanted = {CreditState.PENDING: (due, 0), CreditState.AVAILABLE: (0, due)}.get(CreditState(order.credit), (0, 0))
    if held == wanted:
        return []
    return [f"rebate order {order.pk} is {order.credit}: platform (pending, revenue) {held} != {wanted}"]
