"""The rebate life cycle: network reports upserted into orders, and each order's rebate through
the ledger. The only writer of ``NetworkOrder`` and ``OrderAnomaly`` (refund and penalty cases,
``adjustments``, write through its page helpers).

A page of reports is written set-based (see ``record_reports``); the platform's share of each order
is posted beside the people's: pending revenue while pending, revenue once settled, given back to
the network's receivable on reversal (``platform_due`` says what it should be, to the fen).

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
from django.db.models import Q, Sum
from django.utils import timezone

from jishi.accounts.models import User
from jishi.commission import services as commission
from jishi.commission.models import CommissionSource
from jishi.core import audit, ledger
from jishi.core.errors import Conflict, NotFound
from jishi.core.models import Account, AccountKind, Entry
from jishi.core.money import BP_DENOMINATOR, allocate, format_yuan
from jishi.core.sql import update_many
from jishi.distribution.services import current_promoter_user_ids

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

    Set-based: the page's orders are inserted and locked (id order) in two statements, buyers
    and promoters read once, every order's change decided in memory, then the ledger postings,
    commission rows, anomalies and order rows written for the whole page at once. Rows are
    locked in id order, so two syncs (or a sync and a feed import) of the same orders queue
    instead of deadlocking, and the second finds the first one's state."""
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
        page = _PageWrites()
        for key, report in by_key.items():
            order = rows[key]
            fresh = order.raw_status == "" and order.status == ""
            if fresh:
                result.created += 1
            if _apply(order, report, fresh, buyers, page):
                if not fresh:
                    result.changed += 1
            elif not fresh:
                result.unchanged += 1
        result.credited = move_credits(page.orders, _Rules(), page)
        result.anomalies = page.flush()
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
    """What one page asks again and again (a network's split, buyers' promoters), read once."""

    splits: dict[str, RebateSplit] = field(default_factory=dict)
    promoters: dict[int, int | None] = field(default_factory=dict)

    def split(self, network: str) -> RebateSplit:
        if network not in self.splits:
            self.splits[network] = split_for(network)
        return self.splits[network]

    def load_promoters(self, buyer_ids: Iterable[int]) -> None:
        wanted = {b for b in buyer_ids if b not in self.promoters}
        if not wanted:
            return
        found = current_promoter_user_ids(wanted)
        for buyer_id in wanted:
            promoter = found.get(buyer_id)
            self.promoters[buyer_id] = None if promoter == buyer_id else promoter

    def promoter(self, buyer_id: int) -> int | None:
        self.load_promoters([buyer_id])
        return self.promoters[buyer_id]


ORDER_FIELDS = [
    "status",
    "raw_status",
    "tracking_id",
    "buyer",
    "review",
    "item_id",
    "item_title",
    "paid_amount",
    "commission_estimate",
    "service_fee",
    "ordered_at",
    "network_updated_at",
    "commission_actual",
    "settled_at",
    "settle_month",
    "promoter",
    "base_amount",
    "buyer_share",
    "promoter_share",
    "platform_share",
    "credit",
    "reversed_amount",
    "commission_refunded",
    "updated_at",
]


@dataclass
class _PageWrites:
    """What a page will write once every order is decided: changed orders and anomalies."""

    orders: list[NetworkOrder] = field(default_factory=list)
    anomalies: set[tuple[int, str, str]] = field(default_factory=set)

    def anomaly(self, order: NetworkOrder, kind: str, detail: str) -> None:
        self.anomalies.add((order.pk, kind, detail[:200]))

    def flush(self) -> int:
        """Write the orders and the anomalies not listed before; returns how many anomalies are new."""
        now = timezone.now()
        for order in self.orders:
            order.updated_at = now
        if self.orders:
            update_many(NetworkOrder, self.orders, ORDER_FIELDS)
        if not self.anomalies:
            return 0
        seen = set(
            OrderAnomaly.objects.filter(order_id__in={a[0] for a in self.anomalies}).values_list(
                "order_id", "kind", "detail"
            )
        )
        new = sorted(self.anomalies - seen)
        OrderAnomaly.objects.bulk_create(
            [OrderAnomaly(order_id=pk, kind=kind, detail=detail) for pk, kind, detail in new], ignore_conflicts=True
        )
        return len(new)


def _apply(order: NetworkOrder, report: OrderReport, fresh: bool, buyers: dict[str, int], page: _PageWrites) -> bool:
    """Decide what ``report`` changes on ``order`` (in memory); True when anything does."""
    current = OrderStatus(order.status) if order.status else None
    new = report.status
    if new == OrderStatus.UNKNOWN:
        page.anomaly(order, AnomalyKind.UNKNOWN_STATUS, f"{report.raw_status}")
    updates: dict[str, Any] = {}
    buyer_id = buyers.get(report.tracking_id)
    if fresh:
        updates.update(
            status=new, raw_status=report.raw_status, tracking_id=report.tracking_id, **_report_fields(report)
        )
        updates.update(buyer_id=buyer_id, review=ReviewState.MATCHED if buyer_id else ReviewState.PENDING)
    elif current is not None and (current in TERMINAL or RANK[new] < RANK[current]):
        if new != current and not (current in TERMINAL and new in TERMINAL) and new != OrderStatus.UNKNOWN:
            page.anomaly(order, AnomalyKind.STATUS_BACKWARDS, f"{current}→{new}")
    elif current == OrderStatus.SETTLED and new == OrderStatus.SETTLED:
        if report.commission_actual != order.commission_actual:
            detail = f"{_yuan(order.commission_actual)}→{_yuan(report.commission_actual)}"
            page.anomaly(order, AnomalyKind.CHANGED_AFTER_SETTLEMENT, detail)
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
        return False
    for name, value in updates.items():
        setattr(order, name, value)
    page.orders.append(order)
    return True


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


# --- the platform's share in the ledger ----------------------------------------------------
# What the network will pay for an order, less what buyers and promoters keep, is the
# platform's: pending revenue while the order is pending, revenue once settled, given back
# (to the network receivable) when the order is reversed. Postings carry the order's reference
# so each order's platform revenue can be summed from the ledger.

PLATFORM_KIND = "rebate_platform_share"


def platform_pending_account() -> Account:
    return ledger.platform_account(AccountKind.PLATFORM_REVENUE, "rebate_pending")


def platform_revenue_account() -> Account:
    return ledger.platform_account(AccountKind.PLATFORM_REVENUE, "rebate")


def network_receivable_account(network: str) -> Account:
    """What the network owes the platform for rebate orders (its receipts, 平台收款)."""
    return ledger.platform_account(AccountKind.PLATFORM_CASH, f"rebate_receivable:{network}")


def platform_reference(order_pk: int) -> str:
    return f"rebate_order:{order_pk}"


def platform_due(order: NetworkOrder) -> int:
    """The platform's part of the order now: the commission it will be paid for the order (the
    granted base while pending, the settled net once settled), less what people keep."""
    if order.credit == CreditState.PENDING:
        net = order.base_amount
    elif order.credit == CreditState.AVAILABLE:
        net = net_commission(order)
    else:
        return 0
    # A refund (维权) report takes its commission off what the network pays, before or after settlement.
    return net - order.commission_refunded - (order.buyer_share + order.promoter_share - order.reversed_amount)


def platform_posted(order_pks: Iterable[int]) -> dict[int, tuple[int, int]]:
    """(pending, recognised) platform revenue each order holds in the ledger."""
    refs = {platform_reference(pk): pk for pk in order_pks}
    out = {pk: (0, 0) for pk in refs.values()}
    if not refs:
        return out
    pending, revenue = platform_pending_account().pk, platform_revenue_account().pk
    rows = (
        Entry.objects.filter(transaction__reference__in=list(refs), account_id__in=[pending, revenue])
        .values("transaction__reference", "account_id")
        .annotate(total=Sum("amount"))
        .values_list("transaction__reference", "account_id", "total")
    )
    for ref, account_id, total in rows:
        held, recognised = out[refs[ref]]
        if account_id == pending:
            held += int(total)
        else:
            recognised += int(total)
        out[refs[ref]] = (held, recognised)
    return out


PlatformAccounts = dict[str, tuple[Account, Account, Account]]


def _platform_accounts(network: str, cache: PlatformAccounts) -> tuple[Account, Account, Account]:
    """(pending revenue, revenue, the network's receivable), read once per page into ``cache``."""
    found = cache.get(network)
    if found is None:
        found = cache[network] = (
            platform_pending_account(),
            platform_revenue_account(),
            network_receivable_account(network),
        )
    return found


def platform_posted_all() -> dict[int, tuple[int, int]]:
    """``platform_posted`` of every order that has platform postings (one query, for the check)."""
    pending, revenue = platform_pending_account().pk, platform_revenue_account().pk
    rows = (
        Entry.objects.filter(transaction__kind=PLATFORM_KIND, account_id__in=[pending, revenue])
        .values("transaction__reference", "account_id")
        .annotate(total=Sum("amount"))
        .values_list("transaction__reference", "account_id", "total")
    )
    out: dict[int, tuple[int, int]] = {}
    for ref, account_id, total in rows:
        pk = int(ref.removeprefix("rebate_order:"))
        held, recognised = out.get(pk, (0, 0))
        if account_id == pending:
            held += int(total)
        else:
            recognised += int(total)
        out[pk] = (held, recognised)
    return out


def _platform_posting(
    order: NetworkOrder, step: str, held: int, recognised: int, due: int, accounts: PlatformAccounts
) -> ledger.PostingRequest | None:
    """Bring the order's platform revenue from (``held`` pending, ``recognised``) to ``due``,
    pending or recognised as its credit says; the difference comes from the network receivable."""
    want_held = due if order.credit == CreditState.PENDING else 0
    want_recognised = due if order.credit == CreditState.AVAILABLE else 0
    pending, revenue, receivable = _platform_accounts(order.network, accounts)
    legs = [
        (pending, want_held - held),
        (revenue, want_recognised - recognised),
        (receivable, (held + recognised) - (want_held + want_recognised)),
    ]
    legs = [(account, amount) for account, amount in legs if amount]
    if not legs:
        return None
    return ledger.PostingRequest(
        kind=PLATFORM_KIND,
        key=f"rebate:platform:{order.pk}:{step}",
        legs=legs,
        reference=platform_reference(order.pk),
    )


# --- moving credit, a page at a time -------------------------------------------------------


def move_credits(orders: Sequence[NetworkOrder], rules: _Rules, page: _PageWrites) -> int:
    """Bring the ledger in line with each order's status, for a page of orders at once: grants,
    then settlements, then reversals (an order takes at most grant + settle in one page); the
    platform's share follows. Returns fen newly granted to people. Unmatched orders wait."""
    matched = [o for o in orders if o.buyer_id is not None]
    granted = _grant_all([o for o in matched if o.credit == CreditState.NONE and o.status in EARNING], rules)
    to_settle = [o for o in matched if o.status == OrderStatus.SETTLED and o.credit == CreditState.PENDING]
    to_reverse = [
        o for o in matched if o.status in TERMINAL and o.credit in {CreditState.PENDING, CreditState.AVAILABLE}
    ]
    if not to_settle and not to_reverse:
        return granted
    posted = platform_posted(o.pk for o in to_settle + to_reverse)
    requests: list[ledger.PostingRequest | None] = []
    accounts: PlatformAccounts = {}
    _settle_all(to_settle, page)
    for order in to_settle:
        requests.append(_platform_posting(order, "settled", *posted[order.pk], platform_due(order), accounts))
    _reverse_all(to_reverse)
    for order in to_reverse:
        requests.append(_platform_posting(order, "reversed", *posted[order.pk], 0, accounts))
    ledger.post_many([r for r in requests if r is not None])
    return granted


def _grant_all(orders: list[NetworkOrder], rules: _Rules) -> int:
    if not orders:
        return 0
    rules.load_promoters(o.buyer_id for o in orders if o.buyer_id is not None)
    grants = []
    total = 0
    for order in orders:
        assert order.buyer_id is not None
        base = net_commission(order)
        promoter_id = rules.promoter(order.buyer_id)
        rule = rules.split(order.network)
        buyer_share, promoter_share, platform_share = split_shares(order.network, base, promoter_id is not None, rule)
        shares = [commission.Share(order.buyer_id, 1, order.pk, None, base, buyer_share, rule.buyer_bp)]
        if promoter_id is not None:
            shares.append(commission.Share(promoter_id, 2, order.pk, None, base, promoter_share, rule.promoter_bp))
        grants.append(commission.OrderGrant(order.pk, order.order_id[:24], order.buyer_id, shares))
        order.promoter_id = promoter_id
        order.base_amount = base
        order.buyer_share, order.promoter_share, order.platform_share = buyer_share, promoter_share, platform_share
        order.credit = CreditState.PENDING
        total += buyer_share + promoter_share
    commission.grant_many(SOURCE, grants)
    accounts: PlatformAccounts = {}
    platform = [_platform_posting(o, "pending", 0, 0, platform_due(o), accounts) for o in orders]
    ledger.post_many([r for r in platform if r is not None])
    return total


def _settle_all(orders: list[NetworkOrder], page: _PageWrites) -> None:
    if not orders:
        return
    lowered = []
    for order in orders:
        settled_base = net_commission(order)
        if settled_base < order.base_amount:
            lowered.append(
                commission.OrderReversal(
                    order.pk, "rebate:settled-below-estimate", {order.pk: order.base_amount - settled_base}, full=False
                )
            )
        elif settled_base > order.base_amount:
            # Shares were granted on the estimate; the extra stays with the platform and is listed.
            page.anomaly(order, AnomalyKind.SETTLED_ABOVE_ESTIMATE, f"{_yuan(order.base_amount)}→{_yuan(settled_base)}")
    taken = commission.reverse_many(SOURCE, lowered)
    for order in orders:
        order.reversed_amount += taken.get(order.pk, 0)
    commission.release_many(SOURCE, [o.pk for o in orders])
    for order in orders:
        order.credit = CreditState.AVAILABLE


def _reverse_all(orders: list[NetworkOrder]) -> None:
    if not orders:
        return
    taken = commission.reverse_many(
        SOURCE, [commission.OrderReversal(o.pk, f"rebate:{o.status}", {}, full=True) for o in orders]
    )
    for order in orders:
        order.reversed_amount += taken[order.pk]
        order.credit = CreditState.REVERSED


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
        page = _PageWrites(orders=[order])
        move_credits([order], _Rules(), page)
        page.flush()
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
