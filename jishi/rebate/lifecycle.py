"""The rebate life cycle: network reports upserted into orders, and each order's rebate through
the ledger. The only writer of ``NetworkOrder`` and ``OrderAnomaly``.

paid → pending (frozen commissions of source ``rebate`` for the buyer 自购 and their promoter 分享,
the platform keeps the rest; split by the allocation helper); settled → available (lowered first
if the network settled below the estimate; debt repaid first, as commissions do); invalid,
refunded or penalised → reversed, before or after settlement (into debt once withdrawn).

A report never moves an order backwards: a status lower on the scale, a change after a terminal
status, or a commission changed after settlement is listed as an anomaly and changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from jishi.accounts.models import User
from jishi.commission import services as commission
from jishi.commission.models import CommissionSource
from jishi.core import audit
from jishi.core.errors import Conflict, NotFound
from jishi.core.money import BP_DENOMINATOR, allocate, format_yuan
from jishi.distribution.services import current_promoter_user_id

from .models import (
    AnomalyKind,
    CreditState,
    NetworkOrder,
    OrderAnomaly,
    OrderStatus,
    RebateSource,
    RebateSplit,
    ReviewState,
    TrackedLink,
)
from .reports import BEIJING, OrderReport
from .splits import split_for
from .statuses import EARNING, RANK, TERMINAL

SOURCE = CommissionSource.REBATE


@dataclass
class PageResult:
    created: int = 0
    changed: int = 0
    unchanged: int = 0
    anomalies: int = 0
    credited: int = 0  # fen newly granted on this page
    errors: list[str] = field(default_factory=list)


def _latest_per_key(reports: Iterable[OrderReport]) -> dict[tuple[str, str], OrderReport]:
    """One report per order line: the most advanced status, then the latest update."""
    chosen: dict[tuple[str, str], OrderReport] = {}
    for report in reports:
        key = (report.order_id, report.sub_order_id)
        seen = chosen.get(key)
        if seen is None or (RANK[report.status], report.updated_at or _EPOCH) >= (
            RANK[seen.status],
            seen.updated_at or _EPOCH,
        ):
            chosen[key] = report
    return chosen


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def record_reports(source: RebateSource | None, network: str, reports: Sequence[OrderReport]) -> PageResult:
    """Upsert one page of reports of ``network`` and move each order's rebate; one transaction.

    Rows are locked in id order, so two syncs (or a sync and a feed import) of the same orders
    queue instead of deadlocking, and the second finds the first one's state."""
    result = PageResult()
    by_key = _latest_per_key(r for r in reports if r.network == network)
    if not by_key:
        return result
    with transaction.atomic():
        order_ids = sorted({k[0] for k in by_key})
        new_rows = [_new_order(source, report) for report in by_key.values()]
        NetworkOrder.objects.bulk_create(new_rows, ignore_conflicts=True)
        rows = {
            (o.order_id, o.sub_order_id): o
            for o in NetworkOrder.objects.select_for_update()
            .filter(network=network, order_id__in=order_ids)
            .order_by("pk")
        }
        buyers = _buyers_by_tracking(network, {r.tracking_id for r in by_key.values() if r.tracking_id})
        rules = _Rules()
        for key, report in by_key.items():
            order = rows[key]
            fresh = order.raw_status == "" and order.status == ""
            if fresh:
                result.created += 1
            outcome = _apply(order, report, fresh, buyers, rules)
            result.anomalies += outcome.anomalies
            result.credited += outcome.credited
            if outcome.changed:
                if not fresh:
                    result.changed += 1
            elif not fresh:
                result.unchanged += 1
    return result


def _new_order(source: RebateSource | None, report: OrderReport) -> NetworkOrder:
    # Inserted blank (status ""), then filled by _apply under the row lock like any other report.
    return NetworkOrder(
        source=source,
        network=report.network,
        order_id=report.order_id,
        sub_order_id=report.sub_order_id,
        status="",
        raw_status="",
    )


def _buyers_by_tracking(network: str, tracking_ids: set[str]) -> dict[str, int]:
    if not tracking_ids:
        return {}
    return dict(
        TrackedLink.objects.filter(network=network, tracking_id__in=list(tracking_ids)).values_list(
            "tracking_id", "user_id"
        )
    )


@dataclass
class _Rules:
    """What one page asks again and again (a network's split, a buyer's promoter), read once."""

    splits: dict[str, RebateSplit] = field(default_factory=dict)
    promoters: dict[int, int | None] = field(default_factory=dict)

    def split(self, network: str) -> RebateSplit:
        if network not in self.splits:
            self.splits[network] = split_for(network)
        return self.splits[network]

    def promoter(self, buyer_id: int) -> int | None:
        if buyer_id not in self.promoters:
            found = current_promoter_user_id(buyer_id)
            self.promoters[buyer_id] = None if found == buyer_id else found
        return self.promoters[buyer_id]


@dataclass
class _Outcome:
    changed: bool = False
    anomalies: int = 0
    credited: int = 0


def _anomaly(order: NetworkOrder, kind: str, detail: str) -> int:
    _obj, created = OrderAnomaly.objects.get_or_create(order=order, kind=kind, detail=detail[:200])
    return int(created)


def _apply(order: NetworkOrder, report: OrderReport, fresh: bool, buyers: dict[str, int], rules: _Rules) -> _Outcome:
    outcome = _Outcome()
    current = OrderStatus(order.status) if order.status else None
    new = report.status
    if new == OrderStatus.UNKNOWN:
        outcome.anomalies += _anomaly(order, AnomalyKind.UNKNOWN_STATUS, f"{report.raw_status}")
    updates: dict[str, Any] = {}
    buyer_id = buyers.get(report.tracking_id)
    if fresh:
        updates.update(
            status=new, raw_status=report.raw_status, tracking_id=report.tracking_id, **_report_fields(report)
        )
        updates.update(buyer_id=buyer_id, review=ReviewState.MATCHED if buyer_id else ReviewState.PENDING)
    elif current is not None and (current in TERMINAL or RANK[new] < RANK[current]):
        if new != current and not (current in TERMINAL and new in TERMINAL) and new != OrderStatus.UNKNOWN:
            outcome.anomalies += _anomaly(order, AnomalyKind.STATUS_BACKWARDS, f"{current}→{new}")
    elif current == OrderStatus.SETTLED and new == OrderStatus.SETTLED:
        if report.commission_actual != order.commission_actual:
            detail = f"{_yuan(order.commission_actual)}→{_yuan(report.commission_actual)}"
            outcome.anomalies += _anomaly(order, AnomalyKind.CHANGED_AFTER_SETTLEMENT, detail)
    elif current is not None and RANK[new] == RANK[current]:
        refreshed = _report_fields(report)
        if any(getattr(order, k) != v for k, v in refreshed.items()) and _not_older(order, report):
            updates.update(refreshed, raw_status=report.raw_status)
    else:
        updates.update(status=new, raw_status=report.raw_status, **_report_fields(report))
    if not fresh and order.buyer_id is None and order.review == ReviewState.PENDING and buyer_id:
        # The buyer's tracked link appeared after the first report: match now.
        updates.update(buyer_id=buyer_id, review=ReviewState.MATCHED)
    if not updates:
        return outcome
    for name, value in updates.items():
        setattr(order, name, value)
    outcome.changed = True
    outcome.credited = _move_credit(order, rules)
    order.save()
    return outcome


def _yuan(fen: int | None) -> str:
    return "-" if fen is None else format_yuan(fen)


def _not_older(order: NetworkOrder, report: OrderReport) -> bool:
    return (
        order.network_updated_at is None or report.updated_at is None or report.updated_at >= order.network_updated_at
    )


def _report_fields(report: OrderReport) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "item_id": report.item_id[:64],
        "item_title": report.item_title,
        "paid_amount": report.paid_amount,
        "commission_estimate": report.commission_estimate,
        "service_fee": report.service_fee,
        "ordered_at": report.ordered_at,
        "network_updated_at": report.updated_at,
    }
    if report.status == OrderStatus.SETTLED:
        # Kept once settled, so an order refunded later still counts in its settlement month.
        settled_at = report.settled_at or timezone.now()
        fields.update(
            commission_actual=report.commission_actual,
            settled_at=settled_at,
            settle_month=settled_at.astimezone(BEIJING).strftime("%Y-%m"),
        )
    return fields


def net_commission(order: NetworkOrder) -> int:
    """The commission the split applies to: the settled one once known, after the service fee."""
    gross = order.commission_actual if order.commission_actual is not None else order.commission_estimate
    return max(0, gross - order.service_fee)


def split_shares(network: str, base: int, has_promoter: bool, rule: RebateSplit | None = None) -> tuple[int, int, int]:
    """(buyer, promoter, platform) of ``base`` fen: the promoter's part is the platform's when
    there is no promoter; the parts always sum to ``base``."""
    rule = rule or split_for(network)
    promoter_bp = rule.promoter_bp if has_promoter else 0
    buyer, promoter, platform = allocate(
        base, [rule.buyer_bp, promoter_bp, BP_DENOMINATOR - rule.buyer_bp - promoter_bp]
    )
    return buyer, promoter, platform


def _grant(order: NetworkOrder, rules: _Rules) -> int:
    assert order.buyer_id is not None
    base = net_commission(order)
    promoter_id = rules.promoter(order.buyer_id)
    rule = rules.split(order.network)
    buyer_share, promoter_share, platform_share = split_shares(order.network, base, promoter_id is not None, rule)
    shares = [commission.Share(order.buyer_id, 1, order.pk, None, base, buyer_share, rule.buyer_bp)]
    if promoter_id is not None:
        shares.append(commission.Share(promoter_id, 2, order.pk, None, base, promoter_share, rule.promoter_bp))
    commission.grant(
        SOURCE,
        order_id=order.pk,
        order_number=order.order_id[:24],
        buyer_id=order.buyer_id,
        shares=shares,
        freeze_days=0,
    )
    order.promoter_id = promoter_id
    order.base_amount = base
    order.buyer_share, order.promoter_share, order.platform_share = buyer_share, promoter_share, platform_share
    order.credit = CreditState.PENDING
    return buyer_share + promoter_share


def _settle(order: NetworkOrder) -> None:
    settled_base = net_commission(order)
    if settled_base < order.base_amount:
        lowered = commission.reverse_for_refund(
            order_id=order.pk,
            refund_key="rebate:settled-below-estimate",
            lines=[{"line_id": order.pk, "amount": order.base_amount - settled_base}],
            full=False,
            source=SOURCE,
        )
        order.reversed_amount += lowered
    elif settled_base > order.base_amount:
        # Shares were granted on the estimate; the extra stays with the platform and is listed.
        _anomaly(order, AnomalyKind.SETTLED_ABOVE_ESTIMATE, f"{_yuan(order.base_amount)}→{_yuan(settled_base)}")
    commission.release_now(SOURCE, order.pk)
    order.credit = CreditState.AVAILABLE


def _reverse(order: NetworkOrder) -> None:
    order.reversed_amount += commission.reverse_for_refund(
        order_id=order.pk, refund_key=f"rebate:{order.status}", lines=[], full=True, source=SOURCE
    )
    order.credit = CreditState.REVERSED


def _move_credit(order: NetworkOrder, rules: _Rules | None = None) -> int:
    """Bring the ledger in line with the order's status; returns fen newly granted."""
    if order.buyer_id is None:
        return 0  # waits in the review queue
    granted = 0
    status = OrderStatus(order.status)
    if order.credit == CreditState.NONE and status in EARNING:
        granted = _grant(order, rules or _Rules())
    if status == OrderStatus.SETTLED and order.credit == CreditState.PENDING:
        _settle(order)
    if status in TERMINAL and order.credit in {CreditState.PENDING, CreditState.AVAILABLE}:
        _reverse(order)
    return granted


# --- the review queue ----------------------------------------------------------------------


def assign_unmatched(actor: User, order_pk: int, buyer: User) -> NetworkOrder:
    """An operator gives an unmatched order to its buyer; the rebate follows its current status."""
    with transaction.atomic():
        order = NetworkOrder.objects.select_for_update().filter(pk=order_pk).first()
        if order is None:
            raise NotFound()
        if order.review != ReviewState.PENDING:
            raise Conflict(code="not_pending")
        order.buyer = buyer
        order.review = ReviewState.MATCHED
        _move_credit(order)
        order.save()
        audit.record(actor, "rebate.assign", f"rebate_order:{order.pk}", buyer=buyer.pk)
    return order


def dismiss_unmatched(actor: User, order_pk: int) -> int:
    with transaction.atomic():
        count = NetworkOrder.objects.filter(Q(pk=order_pk) & Q(review=ReviewState.PENDING)).update(
            review=ReviewState.DISMISSED
        )
        if count:
            audit.record(actor, "rebate.dismiss", f"rebate_order:{order_pk}")
    return count
