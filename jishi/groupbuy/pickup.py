"""Delivery to leaders (with shortages refunded automatically), pickup-code verification, the
leader's commission and uncollected orders.

Refunds go through ``orders.services`` (an after-sales case approved at once), commissions
through ``jishi.commission`` (frozen at verification, available after the after-sales window,
reversed in proportion by its own ``order.refunded`` handler).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import segno
from django.db import transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jishi.accounts.models import User
from jishi.commission import services as commission
from jishi.commission.models import Commission, CommissionSource
from jishi.core import audit, events
from jishi.core.conf import setting
from jishi.core.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from jishi.core.money import apply_rate
from jishi.orders import services as orders
from jishi.orders.models import AfterSale, AfterSaleStatus, Order, OrderLine

from .conf import gb_setting
from .leaders import approved_leader_of, product_rates_for, rate_for
from .models import (
    Batch,
    BatchStatus,
    Delivery,
    Leader,
    PickListLine,
    PickupOrder,
    PickupStatus,
    Shortage,
    ShortageRefund,
)

log = logging.getLogger(__name__)


class NotYourPickupPoint(Forbidden):
    code = "not_your_pickup_point"
    default_message = _("这不是你的自提点的提货码")


# --- delivery and shortages -----------------------------------------------------------


def receive_delivery(
    actor: User | None, batch_id: int, leader_id: int, shortages: dict[int, int] | None = None
) -> Delivery:
    """A leader (or the driver/operator) received the batch's goods; ``shortages`` {sku: units}
    short. The leader's paid orders become ready; the short units are refunded to the buyers
    who ordered last, each refund in its own transaction after this one commits."""
    shortages = {int(k): int(v) for k, v in (shortages or {}).items() if int(v) > 0}
    with transaction.atomic():
        batch = Batch.objects.select_for_update().filter(pk=batch_id).first()
        if batch is None:
            raise NotFound()
        if not Leader.objects.filter(pk=leader_id).exists():
            raise NotFound(fields={"leader_id": [str(leader_id)]})
        if batch.status not in (BatchStatus.DELIVERING, BatchStatus.AT_POINTS):
            raise Conflict(_("团期尚未发货"), code="batch_not_delivering", fields={"status": [batch.status]})
        picked = dict(
            PickListLine.objects.filter(batch_id=batch_id, leader_id=leader_id).values_list("sku_id", "quantity")
        )
        over = [str(sku) for sku, units in shortages.items() if units > picked.get(sku, 0)]
        if over:
            raise InvalidInput(_("缺货数量超过分拣数量"), code="shortage_exceeds_pick", fields={"shortages": over})
        delivery, created = Delivery.objects.get_or_create(
            batch_id=batch_id, leader_id=leader_id, defaults={"received_at": timezone.now(), "received_by": actor}
        )
        if not created:
            raise Conflict(_("该团长已签收"), code="already_received")
        _plan_shortages(delivery, shortages)
        ready = PickupOrder.objects.filter(batch_id=batch_id, leader_id=leader_id, status=PickupStatus.PAID).update(
            status=PickupStatus.READY
        )
        audit.record(actor, "gb_delivery.receive", f"gb_delivery:{delivery.pk}", shortages=shortages, ready=ready)
        _maybe_at_points(batch)
        delivery_id = delivery.pk
    refund_shortages(delivery_id)
    with transaction.atomic():
        buyers = list(
            PickupOrder.objects.filter(batch_id=batch_id, leader_id=leader_id, status=PickupStatus.READY)
            .values_list("buyer_id", flat=True)
            .distinct()
        )
        if buyers:
            events.publish(
                "groupbuy.ready_for_pickup",
                {"batch_id": batch_id, "leader_id": leader_id, "delivery_id": delivery_id, "user_ids": sorted(buyers)},
            )
    return delivery


def _maybe_at_points(batch: Batch) -> None:
    """Once every leader with a pick list has received, the batch is at the pickup points."""
    if batch.status != BatchStatus.DELIVERING:
        return
    waiting = (
        PickListLine.objects.filter(batch=batch)
        .exclude(leader_id__in=Delivery.objects.filter(batch=batch).values("leader_id"))
        .exists()
    )
    if not waiting:
        Batch.objects.filter(pk=batch.pk, status=BatchStatus.DELIVERING).update(status=BatchStatus.AT_POINTS)
        events.publish("groupbuy.batch_status", {"batch_id": batch.pk, "status": BatchStatus.AT_POINTS})


def mark_at_points(actor: User | None, batch_id: int) -> Batch:
    from .batches import _transition

    return _transition(actor, batch_id, BatchStatus.AT_POINTS)


def _plan_shortages(delivery: Delivery, shortages: dict[int, int]) -> None:
    """Who bears each short unit: the leader's paid orders of that SKU, last ordered first."""
    for sku_id, units in sorted(shortages.items()):
        lines = list(
            OrderLine.objects.filter(
                order__gb_pickup__batch_id=delivery.batch_id,
                order__gb_pickup__leader_id=delivery.leader_id,
                order__gb_pickup__status=PickupStatus.PAID,
                sku_id=sku_id,
            ).order_by("-order_id", "-id")
        )
        shortage = Shortage.objects.create(
            delivery=delivery,
            sku_id=sku_id,
            product_name=lines[0].product_name if lines else "",
            quantity=units,
        )
        plan = []
        for line in lines:
            take = min(units, line.quantity - line.refunded_quantity)
            if take > 0:
                plan.append(
                    ShortageRefund(shortage=shortage, order_id=line.order_id, order_line_id=line.pk, quantity=take)
                )
                units -= take
            if units == 0:
                break
        ShortageRefund.objects.bulk_create(plan)


def refund_shortages(delivery_id: int | None = None) -> int:
    """Refund every planned shortage not yet refunded (also the job that resumes after a crash)."""
    rows = ShortageRefund.objects.filter(after_sale_id__isnull=True)
    if delivery_id is not None:
        rows = rows.filter(shortage__delivery_id=delivery_id)
    done = 0
    for planned in rows.order_by("id"):
        try:
            done += _refund_one(planned.pk)
        except DomainError as exc:  # an open buyer case on the order: retried by the job
            log.warning("shortage refund %s deferred: %s", planned.pk, exc.code)
    return done


def _refund_one(planned_id: int) -> int:
    with transaction.atomic():
        planned = ShortageRefund.objects.select_for_update().filter(pk=planned_id, after_sale_id__isnull=True).first()
        if planned is None:
            return 0
        order = Order.objects.get(pk=planned.order_id)
        amount = orders.max_refundable(order, {planned.order_line_id: planned.quantity})
        case = orders.request_after_sale(
            order.user, order.pk, [(planned.order_line_id, planned.quantity)], amount, str(_("团购缺货退款"))
        )
        # In this transaction: the provider is called once it commits (wallet money moves at once).
        orders.approve_after_sale(None, case.pk, execute=False)
        ShortageRefund.objects.filter(pk=planned.pk).update(after_sale_id=case.pk, amount=amount)
        total = ShortageRefund.objects.filter(shortage_id=planned.shortage_id).aggregate(s=Sum("amount"))["s"]
        Shortage.objects.filter(pk=planned.shortage_id).update(refunded_amount=int(total or 0))
    return 1


# --- verification -------------------------------------------------------------------


def find_for_leader(leader: Leader, code: str) -> PickupOrder:
    pickup = PickupOrder.objects.select_related("order", "batch").filter(code=code.strip()).first()
    if pickup is None:
        raise NotFound(_("提货码不存在"), code="code_not_found", fields={"code": [code]})
    if pickup.leader_id != leader.pk:
        raise NotYourPickupPoint()
    return pickup


def verify(user: User, code: str) -> PickupOrder:
    """The leader verifies a buyer's code: the order ships and completes, the leader's commission
    is granted frozen. Raises 404 ``code_not_found``, 403 ``not_your_pickup_point``, 409
    ``already_collected`` / ``not_ready``."""
    leader = approved_leader_of(user)
    pickup = find_for_leader(leader, code)
    return _collect(user, leader, pickup, "gb_pickup.verify")


def _collect(actor: User, leader: Leader, pickup: PickupOrder, action: str) -> PickupOrder:
    now = timezone.now()
    with transaction.atomic():
        if not PickupOrder.objects.filter(
            pk=pickup.pk, status__in=[PickupStatus.READY, PickupStatus.UNCOLLECTED]
        ).update(status=PickupStatus.COLLECTED, verified_at=now):
            pickup.refresh_from_db(fields=["status"])
            if pickup.status == PickupStatus.COLLECTED:
                raise Conflict(_("该提货码已核销"), code="already_collected")
            raise Conflict(_("该订单暂不能提货"), code="not_ready", fields={"status": [pickup.status]})
        orders.release_fulfilment_hold([pickup.order_id])
        order = orders.ship_order(actor, pickup.order_id, "pickup", pickup.code)
        orders.complete_order(order)
        grant_leader_commission(leader, order)
        audit.record(actor, action, f"gb_pickup:{pickup.pk}", order=order.number)
    pickup.status, pickup.verified_at, pickup.order = PickupStatus.COLLECTED, now, order
    return pickup


def grant_leader_commission(leader: Leader, order: Order) -> int:
    """Commission % of what was paid for each line, net of refunds so far, excluding shipping;
    never above the per-product cap together with the promoters' commissions on the line."""
    _sync_prior_refunds(order)
    lines = list(OrderLine.objects.filter(order_id=order.pk).order_by("id"))
    rates = product_rates_for([line.product_id for line in lines])
    promoters: dict[int | None, int] = {}
    for line_id, amount, reversed_amount in Commission.objects.filter(
        order_id=order.pk, source=CommissionSource.DISTRIBUTION
    ).values_list("line_id", "amount", "reversed_amount"):
        promoters[line_id] = promoters.get(line_id, 0) + amount - reversed_amount
    cap_bp = int(gb_setting("COMMISSION_CAP_BP"))
    shares = []
    for line in lines:
        base = line.paid_amount - line.refunded_amount
        if base <= 0:
            continue
        rate = rate_for(leader, line.product_id, rates)
        amount = min(apply_rate(base, rate), max(0, apply_rate(base, cap_bp) - promoters.get(line.pk, 0)))
        shares.append(
            commission.Share(
                beneficiary_id=leader.user_id,
                level=1,
                line_id=line.pk,
                product_id=line.product_id,
                base_amount=base,
                amount=amount,
                rate_bp=rate,
            )
        )
    granted = commission.grant(
        CommissionSource.LEADER,
        order_id=order.pk,
        order_number=order.number,
        buyer_id=order.user_id,
        shares=shares,
        freeze_days=int(setting("AFTER_SALE_DAYS")),
    )
    return sum(c.amount for c in granted)


def _sync_prior_refunds(order: Order) -> None:
    """Refunds before verification are already out of the base: apply their reversal markers now
    (the same call commission's own handler makes, idempotent), so a late delivery of their
    ``order.refunded`` events never reverses the new leader commission a second time."""
    cases = AfterSale.objects.filter(order_id=order.pk, status=AfterSaleStatus.REFUNDED).prefetch_related("lines")
    for case in cases:
        commission.reverse_for_refund(
            order_id=order.pk,
            refund_key=str(case.pk),
            lines=[{"line_id": cl.order_line_id, "amount": cl.amount} for cl in case.lines.all()],
            full=False,
        )


# --- uncollected --------------------------------------------------------------------


def mark_uncollected(now: datetime | None = None) -> int:
    """Periodic, one statement: ready orders past pickup date + N days await the operator."""
    now = now or timezone.now()
    last_pickup = timezone.localdate(now) - timedelta(days=int(gb_setting("UNCOLLECTED_DAYS")))
    return PickupOrder.objects.filter(status=PickupStatus.READY, batch__pickup_date__lt=last_pickup).update(
        status=PickupStatus.UNCOLLECTED
    )


def decide_uncollected(actor: User, pickup_id: int, decision: str) -> PickupOrder:
    """Operator: ``refund`` what is left of an uncollected order, or ``keep`` it (it completes)."""
    pickup = PickupOrder.objects.select_related("order", "leader").filter(pk=pickup_id).first()
    if pickup is None:
        raise NotFound()
    if pickup.status != PickupStatus.UNCOLLECTED:
        raise Conflict(_("该订单不是逾期未取"), code="not_uncollected", fields={"status": [pickup.status]})
    if decision == "keep":
        return _collect(actor, pickup.leader, pickup, "gb_pickup.keep")
    if decision != "refund":
        raise InvalidInput(code="invalid_decision", fields={"decision": ["refund", "keep"]})
    with transaction.atomic():
        if not PickupOrder.objects.filter(pk=pickup.pk, status=PickupStatus.UNCOLLECTED).update(
            status=PickupStatus.REFUNDED
        ):
            raise Conflict(code="not_uncollected")
        orders.refund_whole_order(pickup.order, str(_("逾期未取退款")), execute=False)
        audit.record(actor, "gb_pickup.refund", f"gb_pickup:{pickup.pk}")
    pickup.status = PickupStatus.REFUNDED
    return pickup


# --- reading ------------------------------------------------------------------------


def qr_svg(code: str) -> str:
    buffer = io.BytesIO()
    segno.make(code, error="m").save(buffer, kind="svg", scale=6, border=2, xmldecl=False)
    return buffer.getvalue().decode()


def leader_orders(leader: Leader, statuses: Sequence[str], batch_id: int | None = None) -> Any:
    rows = PickupOrder.objects.filter(leader=leader, status__in=list(statuses))
    if batch_id is not None:
        rows = rows.filter(batch_id=batch_id)
    return rows.select_related("order", "buyer", "batch").prefetch_related("order__lines").order_by("-id")


def earnings(user_id: int) -> dict[str, int]:
    money = commission.totals(user_id)
    money["earned"] = commission.earned_total(user_id, CommissionSource.LEADER)
    return money


def sales_by_leader(batch_id: int) -> list[tuple[str, int]]:
    """Batch sales per leader (fen paid net of refunds), largest first: the console chart's data."""
    rows = (
        PickupOrder.objects.filter(batch_id=batch_id)
        .filter(~Q(status__in=[PickupStatus.AWAITING_PAYMENT, PickupStatus.CLOSED]))
        .values("leader__name")
        .annotate(total=Sum(F("order__paid_amount") - F("order__refunded_amount")))
        .order_by("-total")
    )
    return [(r["leader__name"], int(r["total"] or 0)) for r in rows]


def request_withdrawal(user: User, amount: int, channel: str, account: str = "") -> Any:
    """Leaders withdraw through commission's flow, under distribution's minimum and fee."""
    from jishi.distribution.services import get_settings

    rules = get_settings()
    return commission.request_withdrawal(
        user, amount, channel, account, minimum=rules.withdrawal_min, fee_bp=rules.withdrawal_fee_bp
    )
