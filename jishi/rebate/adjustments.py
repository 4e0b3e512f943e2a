"""Taobao refund (维权) and penalty reports applied to rebate orders: each case once, exactly to the fen.

A 维权 case that succeeded takes its commission (``tk_commission_fee_refund_pub``) off the order:
a part of it reverses the buyer's and promoter's shares in proportion and the platform's share
with them (pending before settlement, revenue after, into debt once withdrawn as commissions do);
a case taking the whole remaining commission refunds the order (its full reversal). A penalised
order (punish status 0, frozen) is reversed in full. The refunded commission is taken off what the
order report says, before or after settlement.

Cases are kept even when their order is unknown or not credited yet, and applied when it is (each
run first retries those). A replayed case changes nothing; one whose amount changed after being
applied is listed as an anomaly.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import requests
from django.db import transaction
from django.utils import timezone

from jishi.commission import services as commission
from jishi.core import ledger
from jishi.core.conf import setting

from .adapters import NetworkError, TaobaoAdapter
from .lifecycle import (
    SOURCE,
    _PageWrites,
    _platform_posting,
    _Rules,
    move_credits,
    net_commission,
    platform_due,
    platform_posted,
)
from .models import (
    AdjustmentKind,
    AnomalyKind,
    CreditState,
    Network,
    NetworkOrder,
    OrderAdjustment,
    OrderStatus,
    RebateSource,
)
from .reports import ReportError, beijing_time, yuan_to_fen
from .statuses import TERMINAL

# ``refund_status`` of ``taobao.tbk.relation.refund``: 4 created, 2 succeeded, 3 failed, 11 several
# cases pending, 12/13 taken back from the publisher (waiting / done), 14/15 from the seller.
# The publisher gives the commission back on 2, 12 and 13; the rest change nothing of ours.
REFUND_TAKES_COMMISSION = {"2", "12", "13"}
PUNISH_FROZEN, PUNISH_LIFTED = "0", "1"
PENALTY_LOOKBACK_DAYS = 60  # penalties are queried by the order's creation time, up to this far back


@dataclass(frozen=True)
class RefundCase:
    order_id: str
    sub_order_id: str
    key: str
    raw_status: str
    commission_refund: int
    refund_fee: int
    reported_at: datetime | None


@dataclass(frozen=True)
class PenaltyCase:
    sub_order_id: str
    raw_status: str
    reported_at: datetime | None


def read_refund(row: dict[str, Any]) -> RefundCase:
    """A ``result`` row of ``taobao.tbk.relation.refund`` (amounts in yuan)."""
    parent, trade = str(row.get("tb_trade_parent_id") or "").strip(), str(row.get("tb_trade_id") or "").strip()
    if not trade:
        raise ReportError("tb_trade_id: required")
    fee = row.get("tk_commission_fee_refund_pub", row.get("tk_commission_fee_refund"))
    return RefundCase(
        order_id=parent[:64],
        sub_order_id=trade[:64],
        key=f"{trade}:{row.get('tk_refund_time') or ''}"[:128],
        raw_status=str(row.get("refund_status") or "").strip()[:16],
        commission_refund=yuan_to_fen(fee, "tk_commission_fee_refund_pub"),
        refund_fee=yuan_to_fen(row.get("refund_fee"), "refund_fee"),
        reported_at=beijing_time(row.get("modified_time") or row.get("tk_refund_time"), "modified_time"),
    )


def read_penalty(row: dict[str, Any]) -> PenaltyCase:
    """A ``result`` row of ``taobao.tbk.dg.punish.order.get`` (the sub-order only: the parent is no longer given)."""
    trade = str(row.get("tb_trade_id") or "").strip()
    if not trade:
        raise ReportError("tb_trade_id: required")
    return PenaltyCase(
        sub_order_id=trade[:64],
        raw_status=str(row.get("punish_status") or "").strip()[:16],
        reported_at=beijing_time(row.get("tk_trade_create_time"), "tk_trade_create_time"),
    )


@dataclass
class AdjustResult:
    cases: int = 0
    applied: int = 0
    waiting: int = 0  # order unknown or not credited yet
    reversed: int = 0  # fen taken back from people
    errors: int = 0


def record_refunds(source: RebateSource | None, cases: Iterable[RefundCase]) -> AdjustResult:
    """Store one page of 维权 cases and apply those that take commission; one transaction."""
    result = AdjustResult()
    cases = list(cases)
    with transaction.atomic():
        for case in cases:
            result.cases += 1
            row, created = OrderAdjustment.objects.select_for_update().get_or_create(
                network=Network.TAOBAO,
                kind=AdjustmentKind.REFUND,
                key=case.key,
                defaults={
                    "source": source,
                    "network_order_id": case.order_id,
                    "sub_order_id": case.sub_order_id,
                    "raw_status": case.raw_status,
                    "commission_refund": case.commission_refund,
                    "refund_fee": case.refund_fee,
                    "reported_at": case.reported_at,
                },
            )
            if row.applied_at is not None:
                if case.commission_refund != row.commission_refund and case.raw_status in REFUND_TAKES_COMMISSION:
                    _listed(row, AnomalyKind.REFUND_CHANGED, f"{row.commission_refund}→{case.commission_refund}")
                continue
            if not created:
                row.raw_status, row.commission_refund, row.refund_fee = (
                    case.raw_status,
                    case.commission_refund,
                    case.refund_fee,
                )
                row.save(update_fields=["raw_status", "commission_refund", "refund_fee"])
        _apply_waiting(AdjustmentKind.REFUND, result, keys=[c.key for c in cases])
    return result


def record_penalties(source: RebateSource | None, cases: Iterable[PenaltyCase]) -> AdjustResult:
    """Store one page of penalised orders and reverse those frozen; one transaction."""
    result = AdjustResult()
    cases = list(cases)
    with transaction.atomic():
        for case in cases:
            result.cases += 1
            row, created = OrderAdjustment.objects.select_for_update().get_or_create(
                network=Network.TAOBAO,
                kind=AdjustmentKind.PENALTY,
                key=case.sub_order_id,
                defaults={
                    "source": source,
                    "sub_order_id": case.sub_order_id,
                    "raw_status": case.raw_status,
                    "reported_at": case.reported_at,
                },
            )
            if row.applied_at is not None:
                if case.raw_status == PUNISH_LIFTED:
                    # The network lifted it; a reversed rebate is not granted again: an operator decides.
                    _listed(row, AnomalyKind.PENALTY_LIFTED, case.sub_order_id)
                continue
            if not created and row.raw_status != case.raw_status:
                row.raw_status = case.raw_status
                row.save(update_fields=["raw_status"])
        _apply_waiting(AdjustmentKind.PENALTY, result, keys=[c.sub_order_id for c in cases])
    return result


def _listed(row: OrderAdjustment, kind: str, detail: str) -> None:
    if row.order_id is not None:
        page = _PageWrites()
        page.anomaly(row.order, kind, detail)  # type: ignore[arg-type]
        page.flush()


def apply_waiting() -> AdjustResult:
    """Apply every stored case whose order has arrived or been credited since."""
    result = AdjustResult()
    with transaction.atomic():
        _apply_waiting(AdjustmentKind.REFUND, result)
        _apply_waiting(AdjustmentKind.PENALTY, result)
    return result


def _apply_waiting(kind: str, result: AdjustResult, keys: list[str] | None = None) -> None:
    rows = OrderAdjustment.objects.select_for_update().filter(kind=kind, applied_at__isnull=True)
    if keys is not None:
        rows = rows.filter(key__in=keys)
    if kind == AdjustmentKind.REFUND:
        rows = rows.filter(raw_status__in=REFUND_TAKES_COMMISSION)
    else:
        rows = rows.filter(raw_status=PUNISH_FROZEN)
    pending = list(rows.order_by("pk"))
    if not pending:
        return
    orders = _orders_for(pending)
    now = timezone.now()
    for row in pending:
        order = orders.get(row.pk)
        if order is None or (kind == AdjustmentKind.REFUND and order.credit == CreditState.NONE):
            # The order is unknown, or (a refund) waits for its buyer: applied once it is credited.
            # A penalty applies at once: a penalised order is never credited.
            result.waiting += 1
            continue
        taken = _apply_refund(order, row) if kind == AdjustmentKind.REFUND else _apply_penalty(order)
        result.applied += 1
        result.reversed += taken
        OrderAdjustment.objects.filter(pk=row.pk).update(order=order, applied_amount=taken, applied_at=now)


def _orders_for(rows: list[OrderAdjustment]) -> dict[int, NetworkOrder]:
    """Each case's order, locked in id order (refunds name order and sub-order, penalties the sub-order)."""
    subs = {r.sub_order_id for r in rows}
    found = list(
        NetworkOrder.objects.select_for_update()
        .filter(network=Network.TAOBAO, sub_order_id__in=list(subs))
        .order_by("pk")
    )
    by_sub: dict[str, list[NetworkOrder]] = {}
    for order in found:
        by_sub.setdefault(order.sub_order_id, []).append(order)
    out = {}
    for row in rows:
        matches = [
            o
            for o in by_sub.get(row.sub_order_id, [])
            if not row.network_order_id or o.order_id == row.network_order_id
        ]
        if len(matches) == 1:
            out[row.pk] = matches[0]
    return out


def _apply_refund(order: NetworkOrder, row: OrderAdjustment) -> int:
    """Take the case's commission off the order; returns fen taken back from people (the platform's part follows)."""
    if order.status in TERMINAL or order.credit not in {CreditState.PENDING, CreditState.AVAILABLE}:
        return 0
    gross = order.base_amount if order.credit == CreditState.PENDING else net_commission(order)
    remaining = max(0, gross - order.commission_refunded)
    amount = min(row.commission_refund, remaining)
    if amount <= 0:
        return 0
    before = order.reversed_amount
    if amount == remaining:
        order.commission_refunded += amount
        order.status = OrderStatus.REFUNDED
        page = _PageWrites(orders=[order])
        move_credits([order], _Rules(), page)
        page.flush()
        return order.reversed_amount - before
    held = platform_posted([order.pk])[order.pk]
    taken = commission.reverse_many(
        SOURCE, [commission.OrderReversal(order.pk, f"rebate:refund:{row.pk}", {order.pk: amount}, full=False)]
    )
    order.reversed_amount += taken[order.pk]
    order.commission_refunded += amount
    posting = _platform_posting(order, f"refund:{row.pk}", *held, platform_due(order), {})
    if posting is not None:
        ledger.post_many([posting])
    _PageWrites(orders=[order]).flush()
    return order.reversed_amount - before


def _apply_penalty(order: NetworkOrder) -> int:
    if order.status in TERMINAL:
        return 0
    before = order.reversed_amount
    order.status = OrderStatus.PENALISED
    page = _PageWrites(orders=[order])
    move_credits([order], _Rules(), page)
    page.flush()
    return order.reversed_amount - before


# --- the job ------------------------------------------------------------------------------------


def sync_adjustments(
    source_id: int, *, now: datetime | None = None, session: requests.Session | None = None
) -> AdjustResult:
    """Fetch a Taobao source's 维权 cases updated since its watermark (less the overlap) and the
    penalties of orders created in the last 60 days, and apply them. No network call runs inside a
    transaction; the watermark moves only once every page is written."""
    now = now or timezone.now()
    source = RebateSource.objects.get(pk=source_id)
    total = apply_waiting()
    if source.network != Network.TAOBAO:
        return total
    adapter = TaobaoAdapter(source, session)
    overlap = timedelta(minutes=setting("REBATE_SYNC_OVERLAP_MINUTES"))
    start = (
        (source.refunds_until - overlap)
        if source.refunds_until
        else now - timedelta(days=setting("REBATE_SYNC_BACKFILL_DAYS"))
    )
    try:
        for rows in adapter.fetch_refunds(start):
            _add(total, record_refunds(source, _read_all(read_refund, rows, total)))
        window = now - timedelta(days=PENALTY_LOOKBACK_DAYS)
        while window < now:
            span = min(30, max(1, (now - window).days or 1))
            for rows in adapter.fetch_penalties(window, span):
                _add(total, record_penalties(source, _read_all(read_penalty, rows, total)))
            window += timedelta(days=span)
    except NetworkError as exc:
        RebateSource.objects.filter(pk=source.pk).update(last_error=str(exc)[:500], last_error_at=timezone.now())
        raise
    RebateSource.objects.filter(pk=source.pk).update(refunds_until=now)
    return total


def _read_all(reader: Any, rows: list[dict[str, Any]], result: AdjustResult) -> list[Any]:
    out = []
    for row in rows:
        try:
            out.append(reader(row))
        except ReportError:
            result.errors += 1
    return out


def _add(total: AdjustResult, part: AdjustResult) -> None:
    total.cases += part.cases
    total.applied += part.applied
    total.waiting += part.waiting
    total.reversed += part.reversed
    total.errors += part.errors
