"""Every change to carts, orders and after-sales cases.

Stock moves through ``jishi.inventory`` (conditional updates), money through the payments
app's registered refunder and the ledger, and other apps learn of changes from outbox
events: ``order.paid``, ``order.completed``, ``order.closed`` and ``order.refunded``.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jishi.accounts.models import Address, User
from jishi.catalog.models import Product, ProductImage, ProductStatus, Sku
from jishi.core import audit, events
from jishi.core.conf import setting
from jishi.core.dberrors import unique_field_constraint, violated_constraint
from jishi.core.errors import Conflict, InvalidInput, NotFound
from jishi.core.money import allocate
from jishi.core.sql import CachedQuery, CachedUpdate
from jishi.inventory import services as inventory

from . import hooks, locks, pipeline
from .models import (
    TRANSITIONS,
    AfterSale,
    AfterSaleKind,
    AfterSaleLine,
    AfterSaleStatus,
    CartLine,
    Order,
    OrderLine,
    OrderStatus,
)
from .pipeline import Checkout, LineInfo

Lines = Sequence[tuple[int, int]]  # (sku_id, quantity)


class InvalidTransition(Conflict):
    code = "invalid_transition"
    default_message = _("订单当前状态不允许此操作")


def _new_number(prefix: str = "") -> str:
    """Readable: date then 12 random digits (the unique index catches the rare clash)."""
    return f"{prefix}{timezone.localdate():%y%m%d}{secrets.randbelow(10**12):012d}"


def _check_quantity(quantity: int, field: str = "quantity") -> None:
    if not 1 <= quantity <= setting("MAX_LINE_QUANTITY"):
        raise InvalidInput(fields={field: [str(_("数量须在 1 到 %(n)s 之间") % {"n": setting("MAX_LINE_QUANTITY")})]})


# --- cart ---------------------------------------------------------------------------


_CART_LINES = CachedQuery(
    lambda user_id: CartLine.objects.filter(user_id=user_id).select_related("sku__product"),
    user_id=int,
)


def cart_lines(user: User) -> list[CartLine]:
    lines: list[CartLine] = _CART_LINES.objects(user_id=user.pk)
    return lines


def add_to_cart(user: User, sku_id: int, quantity: int) -> list[CartLine]:
    """Add ``quantity`` of a SKU (merging with what is there); returns the cart's lines.

    One upsert that also checks the SKU is on sale, so two taps on "add" from two devices add
    up instead of racing; the cart is read back in the same transaction to enforce its size."""
    _check_quantity(quantity)
    q = connection.ops.quote_name
    table = q(CartLine._meta.db_table)
    skus, products = q(Sku._meta.db_table), q(Product._meta.db_table)
    with transaction.atomic():
        with connection.cursor() as cursor:
            # The SELECT needs its WHERE: SQLite would otherwise read ON CONFLICT as a join clause.
            cursor.execute(
                f"INSERT INTO {table} (user_id, sku_id, quantity, selected, added_at) "  # noqa: S608
                f"SELECT %s, s.id, %s, %s, %s FROM {skus} s JOIN {products} p ON p.id = s.product_id "
                "WHERE s.id = %s AND s.is_active AND p.status = %s "
                "ON CONFLICT (user_id, sku_id) DO UPDATE SET "
                f"quantity = {table}.quantity + EXCLUDED.quantity, selected = EXCLUDED.selected "
                "RETURNING quantity",
                [user.pk, quantity, True, timezone.now(), sku_id, ProductStatus.PUBLISHED],
            )
            found = cursor.fetchone()
        if found is None:
            raise NotFound(_("商品不存在或已下架"), code="sku_unavailable", fields={"sku_id": [str(sku_id)]})
        total = int(found[0])
        _check_quantity(total)  # raising here rolls the merge back
        lines = cart_lines(user)
        if total == quantity and len(lines) > setting("CART_MAX_LINES"):
            raise Conflict(_("购物车已满"), code="cart_full")
    return lines


def update_cart_line(user: User, sku_id: int, quantity: int | None, selected: bool | None) -> CartLine:
    line = CartLine.objects.filter(user=user, sku_id=sku_id).first()
    if line is None:
        raise NotFound()
    if quantity is not None:
        _check_quantity(quantity)
        line.quantity = quantity
    if selected is not None:
        line.selected = selected
    line.save(update_fields=["quantity", "selected"])
    return line


def remove_cart_line(user: User, sku_id: int) -> None:
    if not CartLine.objects.filter(user=user, sku_id=sku_id).delete()[0]:
        raise NotFound()


# --- checkout -----------------------------------------------------------------------


def _merge_lines(lines: Lines) -> list[tuple[int, int]]:
    merged: dict[int, int] = {}
    for sku_id, quantity in lines:
        _check_quantity(quantity)
        merged[sku_id] = merged.get(sku_id, 0) + quantity
    for quantity in merged.values():
        _check_quantity(quantity)
    if not merged:
        raise InvalidInput(_("没有要结算的商品"), code="empty_order", fields={"lines": [str(_("不能为空"))]})
    return list(merged.items())


# What every checkout reads, compiled once (see CachedQuery).
_SELECTED_CART = CachedQuery(
    lambda user_id: CartLine.objects.filter(user_id=user_id, selected=True).values_list("sku_id", "quantity"),
    user_id=int,
)
_CHECKOUT_SKUS = CachedQuery(
    lambda ids: (
        Sku.objects.select_related("product")
        .annotate(
            first_image=Subquery(
                ProductImage.objects.filter(product=OuterRef("product_id")).order_by("sort", "id").values("image")[:1]
            )
        )
        .filter(pk__in=ids)
    ),
    ids=list,
)
_ADDRESS = CachedQuery(lambda user_id, pk: Address.objects.filter(user_id=user_id, pk=pk), user_id=int, pk=int)
_ORDER = CachedQuery(lambda user_id, pk: Order.objects.filter(user_id=user_id, pk=pk), user_id=int, pk=int)
_ORDER_LINES = CachedQuery(lambda order_id: OrderLine.objects.filter(order_id=order_id).order_by("id"), order_id=int)
_MARK_PAID = CachedUpdate(
    lambda pk, amount, now, method: (
        Order.objects.filter(pk=pk, status=OrderStatus.PENDING_PAYMENT),
        {"status": OrderStatus.PAID, "paid_amount": amount, "paid_at": now, "payment_method": method},
    ),
    pk=int,
    amount=int,
    now=datetime,
    method=str,
)


def _address_snapshot(user: User, address_id: int | None) -> dict[str, Any] | None:
    if address_id is None:
        return None
    address = _ADDRESS.first(user_id=user.pk, pk=address_id)
    if address is None:
        raise NotFound(_("收货地址不存在"), code="address_not_found", fields={"address_id": [str(address_id)]})
    return {
        "id": address.pk,
        "contact": address.contact,
        "phone": address.phone,
        "province": address.province,
        "city": address.city,
        "district": address.district,
        "detail": address.detail,
        "latitude": address.latitude,
        "longitude": address.longitude,
    }


def load_checkout(
    user: User, lines: Lines | None, address_id: int | None, options: dict[str, Any] | None = None
) -> Checkout:
    """Everything a checkout needs, in two queries: the SKUs (with product and first image)
    and the address. ``lines`` None means the selected lines of the cart."""
    from_cart = lines is None
    if lines is None:
        lines = _SELECTED_CART.rows(user_id=user.pk)
    merged = _merge_lines(lines)
    skus = {s.pk: s for s in _CHECKOUT_SKUS.objects(ids=[sku_id for sku_id, _q in merged])}
    infos = []
    unavailable = []
    for sku_id, quantity in merged:
        sku = skus.get(sku_id)
        if sku is None or not sku.is_active or sku.product.status != ProductStatus.PUBLISHED:
            unavailable.append(str(sku_id))
            continue
        infos.append(
            LineInfo(
                sku_id=sku.pk,
                product_id=sku.product_id,
                category_id=sku.product.category_id,
                product_name=sku.product.name,
                specs=sku.specs,
                image=getattr(sku, "first_image", None) or "",
                list_price=sku.price,
                unit_price=sku.price,
                quantity=quantity,
            )
        )
    if unavailable:
        raise NotFound(_("商品不存在或已下架"), code="sku_unavailable", fields={"sku_id": unavailable})
    return Checkout(
        user=user,
        lines=infos,
        address=_address_snapshot(user, address_id),
        options=dict(options or {}),
        from_cart=from_cart,
    )


def preview(user: User, lines: Lines | None, address_id: int | None, options: dict[str, Any] | None = None) -> Checkout:
    return pipeline.price(load_checkout(user, lines, address_id, options))


def place_order(
    user: User,
    lines: Lines | None,
    address_id: int | None,
    options: dict[str, Any] | None = None,
    remark: str = "",
) -> Order:
    """Price, reserve stock and write the order in one transaction: all of it or none."""
    checkout = preview(user, lines, address_id, options)
    if checkout.address is None and checkout.needs_address:
        raise InvalidInput(_("请选择收货地址"), code="address_required", fields={"address_id": [str(_("必填"))]})
    for attempt in range(3):
        try:
            return _write_order(user, checkout, remark)
        except IntegrityError as exc:  # an order-number clash: draw another
            if violated_constraint(exc) != unique_field_constraint(Order, "number") or attempt == 2:
                raise
    raise AssertionError("unreachable")


def _write_order(user: User, checkout: Checkout, remark: str) -> Order:
    number = _new_number()
    now = timezone.now()
    location_id = checkout.location_id or inventory.default_location().pk
    with transaction.atomic():
        if not _external_stock(checkout.meta):
            inventory.reserve(
                [(line.sku_id, line.quantity) for line in checkout.lines],
                reference=number,
                location_id=location_id,
            )
        order = Order.objects.create(
            number=number,
            user=user,
            address=checkout.address or {},
            goods_amount=checkout.goods_amount,
            discount_amount=checkout.discount_amount,
            shipping_fee=checkout.shipping_fee,
            payable=checkout.payable,
            adjustments=[a.as_dict() for a in checkout.adjustments],
            meta=checkout.meta,
            location_id=location_id,
            remark=remark[:200],
            pay_deadline=now + timedelta(minutes=checkout.pay_minutes or setting("ORDER_PAY_MINUTES")),
        )
        OrderLine.objects.bulk_create(
            OrderLine(
                order=order,
                sku_id=line.sku_id,
                product_id=line.product_id,
                category_id=line.category_id,
                product_name=line.product_name,
                specs=line.specs,
                image=line.image,
                unit_price=line.unit_price,
                quantity=line.quantity,
                line_total=line.line_total,
                discount=line.discount,
                paid_amount=line.paid_amount,
                meta=line.meta,
            )
            for line in checkout.lines
        )
        pipeline.commit(checkout, order)
        if checkout.from_cart:
            CartLine.objects.filter(user=user, sku_id__in=[line.sku_id for line in checkout.lines]).delete()
    return order


# --- status pipeline ----------------------------------------------------------------


def _move(order: Order, to: str, **fields: Any) -> None:
    """Apply one transition of the pipeline, conditionally on the status we read."""
    if to not in TRANSITIONS[order.status]:
        raise InvalidTransition(fields={"status": [f"{order.status} → {to}"]})
    if not Order.objects.filter(pk=order.pk, status=order.status).update(status=to, **fields):
        raise Conflict(_("订单状态已变化，请刷新"), code="order_changed")
    order.status = to
    for name, value in fields.items():
        setattr(order, name, value)


def get_order(user: User, order_id: int) -> Order:
    order: Order | None = _ORDER.first(user_id=user.pk, pk=order_id)
    if order is None:
        raise NotFound()
    return order


def _line_payload(order: Order) -> list[dict[str, Any]]:
    return [
        {
            "line_id": line.pk,
            "sku_id": line.sku_id,
            "product_id": line.product_id,
            "category_id": line.category_id,
            "quantity": line.quantity,
            "paid_amount": line.paid_amount,
            "meta": line.meta,
        }
        for line in _ORDER_LINES.objects(order_id=order.pk)
    ]


def mark_paid(order: Order, amount: int, method: str) -> bool:
    """Called by payments inside its transaction. False when the order is no longer payable."""
    if order.status != OrderStatus.PENDING_PAYMENT:
        return False
    if amount != order.payable:
        raise Conflict(_("支付金额与订单不符"), code="amount_mismatch")
    now = timezone.now()
    if not _MARK_PAID.run(pk=order.pk, amount=amount, now=now, method=method):
        return False
    order.status, order.paid_amount, order.paid_at, order.payment_method = (
        OrderStatus.PAID,
        amount,
        now,
        method,
    )
    events.publish(
        "order.paid",
        {
            "order_id": order.pk,
            "number": order.number,
            "user_id": order.user_id,
            "paid_amount": amount,
            "shipping_fee": order.shipping_fee,
            "meta": order.meta,
            "lines": _line_payload(order),
        },
    )
    return True


def _external_stock(meta: dict[str, Any]) -> bool:
    """Stock the order neither reserves nor releases: a campaign's quota set aside in the
    warehouse (``campaign``: it still leaves the shelf when the order ships), or stock that is not
    the warehouse's at all (``external``: a group-buy batch bought from the supplier)."""
    return meta.get("inventory") in ("external", "campaign")


def _shelf_stock(meta: dict[str, Any]) -> bool:
    """Does the order's stock leave the warehouse shelf when it ships?"""
    return meta.get("inventory") != "external"


def _order_stock_lines(order: Order, *, remaining: bool = True, campaign_too: bool = False) -> list[tuple[int, int]]:
    """(sku, quantity) still on the order. A campaign order's units are reserved by the campaign
    (a flash item sets its quota aside when it is created), so they are neither reserved nor
    released with the order; they leave the shelf when it ships all the same (``campaign_too``)."""
    if _external_stock(order.meta) and not campaign_too:
        return []
    out = []
    for line in order.lines.all():
        quantity = line.quantity - (line.refunded_quantity if remaining else 0)
        if line.sku_id and quantity > 0:
            out.append((line.sku_id, quantity))
    return out


def close_order(order: Order, reason: str = "timeout") -> None:
    """Close an unpaid order and give its reserved stock back."""
    with transaction.atomic():
        _move(order, OrderStatus.CLOSED, closed_at=timezone.now())
        stock = _order_stock_lines(order)
        if stock:
            inventory.release(stock, reference=order.number, location_id=order.location_id)
        events.publish(
            "order.closed",
            {"order_id": order.pk, "user_id": order.user_id, "reason": reason, "meta": order.meta},
        )


def cancel_order(user: User, order_id: int) -> Order:
    order = get_order(user, order_id)
    close_order(order, reason="cancelled")
    return order


def close_expired_orders(now: Any = None, limit: int = 500) -> int:
    now = now or timezone.now()
    closed = 0
    for order in Order.objects.filter(status=OrderStatus.PENDING_PAYMENT, pay_deadline__lt=now)[:limit]:
        try:
            close_order(order)
            closed += 1
        except Conflict:
            continue  # paid (or closed) in the meantime
    return closed


def release_fulfilment_hold(order_ids: Iterable[int | None]) -> int:
    """A campaign that held its orders (a forming group) lets them go to fulfilment."""
    released = 0
    for order in Order.objects.filter(pk__in=list(order_ids)):
        if order.meta.pop("fulfilment_hold", None) is not None:
            Order.objects.filter(pk=order.pk).update(meta=order.meta)
            released += 1
    return released


def ship_order(actor: User, order_id: int, carrier: str, tracking_number: str) -> Order:
    order = Order.objects.filter(pk=order_id).first()
    if order is None:
        raise NotFound()
    if order.meta.get("fulfilment_hold"):
        raise Conflict(
            _("活动未成团，暂不能发货"), code="fulfilment_on_hold", fields={"meta": [order.meta["fulfilment_hold"]]}
        )
    with transaction.atomic():
        _move(
            order,
            OrderStatus.SHIPPED,
            shipped_at=timezone.now(),
            carrier=carrier,
            tracking_number=tracking_number,
        )
        stock = _order_stock_lines(order, campaign_too=True) if _shelf_stock(order.meta) else []
        if stock:
            inventory.consume(stock, reference=order.number, location_id=order.location_id)
        audit.record(actor, "order.ship", f"order:{order.pk}", carrier=carrier, tracking_number=tracking_number)
        events.publish(
            "order.shipped",
            {
                "order_id": order.pk,
                "number": order.number,
                "user_id": order.user_id,
                "carrier": carrier,
                "tracking_number": tracking_number,
            },
        )
    return order


def complete_order(order: Order) -> None:
    with transaction.atomic():
        _move(order, OrderStatus.COMPLETED, completed_at=timezone.now())
        events.publish(
            "order.completed",
            {
                "order_id": order.pk,
                "number": order.number,
                "user_id": order.user_id,
                "completed_at": order.completed_at.isoformat() if order.completed_at else None,
                "paid_amount": order.paid_amount,
                "refunded_amount": order.refunded_amount,
                "meta": order.meta,
                "lines": _line_payload(order),
            },
        )


def confirm_receipt(user: User, order_id: int) -> Order:
    order = get_order(user, order_id)
    complete_order(order)
    return order


def auto_complete_orders(now: Any = None, limit: int = 500) -> int:
    now = now or timezone.now()
    cutoff = now - timedelta(days=setting("ORDER_AUTO_COMPLETE_DAYS"))
    done = 0
    for order in Order.objects.filter(status=OrderStatus.SHIPPED, shipped_at__lt=cutoff)[:limit]:
        try:
            complete_order(order)
            done += 1
        except Conflict:
            continue
    return done


# --- after-sales --------------------------------------------------------------------


def within_after_sale_window(order: Order, now: datetime | None = None) -> bool:
    """A completed order may be refunded for AFTER_SALE_DAYS after completion; earlier ones always."""
    if order.status != OrderStatus.COMPLETED or order.completed_at is None:
        return True
    return (now or timezone.now()) - order.completed_at <= timedelta(days=setting("AFTER_SALE_DAYS"))


def _refundable_now(line: OrderLine, quantity: int) -> int:
    """What refunding ``quantity`` more units of ``line`` may return (the last unit takes the rest)."""
    remaining_qty = line.quantity - line.refunded_quantity
    if quantity >= remaining_qty:
        return line.paid_amount - line.refunded_amount
    return line.paid_amount * (line.refunded_quantity + quantity) // line.quantity - line.refunded_amount


def refundable_room(order: Order, order_lines: dict[int, OrderLine], wanted: dict[int, int]) -> tuple[list[int], int]:
    """What a case over ``wanted`` ({line_id: quantity}) may refund: per line, and shipping,
    which comes back only when everything left is refunded before shipping."""
    goods = [_refundable_now(order_lines[i], q) for i, q in wanted.items() if i in order_lines and q > 0]
    everything = all(wanted.get(line.pk, 0) == line.quantity - line.refunded_quantity for line in order_lines.values())
    shipping = 0
    if everything and order.status == OrderStatus.PAID:
        refunded_shipping = order.refunded_amount - sum(line.refunded_amount for line in order_lines.values())
        shipping = order.shipping_fee - refunded_shipping
    return goods, shipping


def max_refundable(order: Order, wanted: dict[int, int]) -> int:
    goods, shipping = refundable_room(order, {line.pk: line for line in order.lines.all()}, wanted)
    return sum(goods) + shipping


def request_after_sale(
    user: User,
    order_id: int,
    lines: Sequence[tuple[int, int]],
    amount: int,
    reason: str,
    kind: str = AfterSaleKind.REFUND_ONLY,
) -> AfterSale:
    if not Order.objects.filter(user=user, pk=order_id).exists():
        raise NotFound()
    with transaction.atomic():
        # Locked: a case approved meanwhile must not leave this one checking stale refund room.
        order = locks.lock_order(order_id)
        return _request_after_sale(user, order, lines, amount, reason, kind)


def _request_after_sale(
    user: User, order: Order, lines: Sequence[tuple[int, int]], amount: int, reason: str, kind: str
) -> AfterSale:
    if order.status not in (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.COMPLETED):
        if order.status == OrderStatus.REFUNDING:
            raise Conflict(_("已有进行中的售后"), code="after_sale_open")
        raise InvalidTransition(_("当前订单状态不能申请售后"), code="after_sale_not_allowed")
    if not within_after_sale_window(order):
        raise Conflict(_("已超过售后期限"), code="after_sale_expired")
    if kind == AfterSaleKind.RETURN_REFUND and order.status == OrderStatus.PAID:
        raise InvalidInput(_("未发货订单请选择仅退款"), code="return_before_shipping", fields={"kind": [kind]})
    order_lines = {line.pk: line for line in order.lines.all()}
    wanted: dict[int, int] = {}
    for line_id, quantity in lines:
        line = order_lines.get(line_id)
        if line is None or line_id in wanted:
            raise InvalidInput(code="invalid_line", fields={"lines": [str(line_id)]})
        if not 1 <= quantity <= line.quantity - line.refunded_quantity:
            raise InvalidInput(
                _("退款数量超过可退数量"),
                code="quantity_exceeds_refundable",
                fields={"lines": [str(line_id)]},
            )
        wanted[line_id] = quantity
    if not wanted:
        raise InvalidInput(code="empty_after_sale", fields={"lines": [str(_("不能为空"))]})
    goods_room, shipping_room = refundable_room(order, order_lines, wanted)
    # Units that cost no money (a points-only mall order) come back with an amount of 0.
    nothing_paid = sum(goods_room) + shipping_room == 0
    if not (0 < amount <= sum(goods_room) + shipping_room or (nothing_paid and amount == 0)):
        raise InvalidInput(
            _("退款金额须大于 0 且不超过 %(max)s 分") % {"max": sum(goods_room) + shipping_room},
            code="amount_exceeds_refundable",
            fields={"amount": [str(sum(goods_room) + shipping_room)]},
        )
    goods_part = min(amount, sum(goods_room))
    parts = allocate(goods_part, goods_room) if goods_part else [0] * len(goods_room)
    try:
        with transaction.atomic():
            case = AfterSale.objects.create(
                number=_new_number("R"),
                order=order,
                user=user,
                kind=kind,
                amount=amount,
                reason=reason[:200],
            )
            AfterSaleLine.objects.bulk_create(
                AfterSaleLine(after_sale=case, order_line_id=line_id, quantity=q, amount=part)
                for (line_id, q), part in zip(wanted.items(), parts, strict=True)
            )
            _move(order, OrderStatus.REFUNDING, status_before_refund=order.status)
    except IntegrityError as exc:
        raise Conflict(_("已有进行中的售后"), code="after_sale_open") from exc
    return case


def _pending_case(case_id: int, user: User | None = None) -> tuple[Order, AfterSale]:
    """Lock a case still awaiting review (order first, see ``locks``)."""
    order, case = locks.lock_case(case_id, user_id=user.pk if user is not None else None)
    if case.status != AfterSaleStatus.PENDING:
        raise Conflict(_("售后单已处理"), code="after_sale_closed")
    return order, case


def approve_after_sale(actor: User | None, case_id: int, restock: bool = False, *, execute: bool = True) -> AfterSale:
    """Approve: the refund is recorded with the case's number and, once that has committed,
    made outside any transaction. From then on the case can no longer be cancelled or rejected;
    a provider that cannot be reached leaves it refunding for the resume job (which uses the same
    number), and ``ProviderError`` reaches the caller. Callers inside a transaction of their own
    pass ``execute=False``: the provider is then called once that transaction commits."""
    with transaction.atomic():
        order, case = _pending_case(case_id)
        now = timezone.now()
        AfterSale.objects.filter(pk=case.pk).update(
            status=AfterSaleStatus.REFUNDING, reviewed_by=actor, reviewed_at=now, restock=restock
        )
        case.status, case.reviewed_at, case.restock = AfterSaleStatus.REFUNDING, now, restock
        audit.record(actor, "after_sale.approve", f"after_sale:{case.pk}", amount=case.amount, order=order.number)
        if case.amount == 0:  # only units come back (points-only): no money to move
            settled = finish_refund(case.pk)
        else:
            settled = hooks.request_refund(order, case, case.amount, case.number)
        if not settled:  # the money is on its way (a wallet refund arrives at once: order.refunded says so)
            events.publish(
                "after_sale.approved",
                {
                    "after_sale_id": case.pk,
                    "order_id": case.order_id,
                    "user_id": case.user_id,
                    "number": order.number,
                    "amount": case.amount,
                },
            )
    if not settled:
        if execute:
            hooks.execute_refund(case.number)
        else:
            hooks.execute_refund_after_commit(case.number)
    case.refresh_from_db()
    return case


def finish_refund(case_id: int) -> bool:
    """The money of a refunding case is back: lines, order status, stock, and ``order.refunded``.

    Called by payments in the transaction that settles the refund, with the order locked.
    Once only: a case no longer refunding is left alone."""
    order, case = locks.lock_case(case_id)
    if case.status != AfterSaleStatus.REFUNDING:
        return False
    case_lines = list(case.lines.select_related("order_line"))
    before = order.status_before_refund
    for cl in case_lines:
        OrderLine.objects.filter(pk=cl.order_line_id).update(
            refunded_quantity=F("refunded_quantity") + cl.quantity,
            refunded_amount=F("refunded_amount") + cl.amount,
        )
    refunded_total = order.refunded_amount + case.amount
    # Full when every unit is back and paid for, even if shipping (spent once shipped) is not.
    lines_done = all(  # read after the updates above, so they include this case
        line.refunded_quantity == line.quantity and line.refunded_amount == line.paid_amount
        for line in order.lines.all()
    )
    full = refunded_total == order.paid_amount
    _move(order, OrderStatus.REFUNDED if full or lines_done else before, refunded_amount=refunded_total)
    stock = [(cl.order_line.sku_id, cl.quantity) for cl in case_lines if cl.order_line.sku_id]
    if stock and before == OrderStatus.PAID:
        if not _external_stock(order.meta):  # a campaign's units go back to its quota instead
            inventory.release(stock, reference=case.number, location_id=order.location_id)
    elif stock and case.restock and _shelf_stock(order.meta):  # returned goods are back on the shelf
        inventory.restock(stock, reference=case.number, location_id=order.location_id)
    AfterSale.objects.filter(pk=case.pk).update(status=AfterSaleStatus.REFUNDED, refunded_at=timezone.now())
    events.publish(
        "order.refunded",
        {
            "order_id": order.pk,
            "number": order.number,
            "user_id": order.user_id,
            "after_sale_id": case.pk,
            "amount": case.amount,
            "full": full,  # every fen paid is back
            "all_units": lines_done,  # every unit is back (shipping, once spent, may not be)
            "order_paid_amount": order.paid_amount,
            "order_shipping_fee": order.shipping_fee,
            "status_before_refund": before,
            # Goods came back to stock (or never left): campaign quotas may take them back too.
            "goods_returned": before == OrderStatus.PAID or case.restock,
            "meta": order.meta,
            "shipping_amount": case.amount - sum(cl.amount for cl in case_lines),
            "lines": [
                {
                    "line_id": cl.order_line_id,
                    "sku_id": cl.order_line.sku_id,
                    "product_id": cl.order_line.product_id,
                    "quantity": cl.quantity,
                    "amount": cl.amount,
                    "line_paid_amount": cl.order_line.paid_amount,
                    "line_quantity": cl.order_line.quantity,
                }
                for cl in case_lines
            ],
        },
    )
    return True


def _close_case(order: Order, case: AfterSale, status: str, **fields: Any) -> AfterSale:
    AfterSale.objects.filter(pk=case.pk).update(status=status, **fields)
    _move(order, order.status_before_refund)
    case.status = status
    return case


def reject_after_sale(actor: User, case_id: int, reason: str) -> AfterSale:
    with transaction.atomic():
        order, case = _pending_case(case_id)
        audit.record(actor, "after_sale.reject", f"after_sale:{case.pk}", reason=reason)
        events.publish(
            "after_sale.rejected",
            {"after_sale_id": case.pk, "order_id": case.order_id, "user_id": case.user_id, "reason": reason[:200]},
        )
        return _close_case(
            order,
            case,
            AfterSaleStatus.REJECTED,
            reject_reason=reason[:200],
            reviewed_by=actor,
            reviewed_at=timezone.now(),
        )


def cancel_after_sale(user: User, case_id: int) -> AfterSale:
    with transaction.atomic():
        order, case = _pending_case(case_id, user)
        return _close_case(order, case, AfterSaleStatus.CANCELLED)


def refund_whole_order(order: Order, reason: str, *, execute: bool = True) -> AfterSale:
    """System refund of everything still paid (e.g. a failed group-buy): no buyer request.

    Re-running it while an earlier system refund of the order is still refunding resumes that
    one (same number) instead of making another. ``execute=False`` (from event handlers, which
    run in a transaction) leaves the provider call to run after the commit."""
    with transaction.atomic():
        order = locks.lock_order(order.pk)
        case = AfterSale.objects.filter(order=order, status=AfterSaleStatus.REFUNDING).first()
        settled = False
        if case is None:
            amount = order.paid_amount - order.refunded_amount
            if order.status != OrderStatus.PAID or amount <= 0:
                raise InvalidTransition()
            case = _system_case(order, amount, reason)
            settled = hooks.request_refund(order, case, amount, case.number)
    if not settled:
        if execute:
            hooks.execute_refund(case.number)
        else:
            hooks.execute_refund_after_commit(case.number)
    case.refresh_from_db()
    return case


def _system_case(order: Order, amount: int, reason: str) -> AfterSale:
    """An approved case over everything left on the order, for a refund nobody asked for."""
    order_lines = [line for line in order.lines.all() if line.quantity > line.refunded_quantity]
    case = AfterSale.objects.create(
        number=_new_number("R"),
        order=order,
        user=order.user,
        amount=amount,
        reason=reason[:200],
        status=AfterSaleStatus.REFUNDING,
        reviewed_at=timezone.now(),
    )
    AfterSaleLine.objects.bulk_create(
        AfterSaleLine(
            after_sale=case,
            order_line_id=line.pk,
            quantity=line.quantity - line.refunded_quantity,
            amount=line.paid_amount - line.refunded_amount,
        )
        for line in order_lines
    )
    _move(order, OrderStatus.REFUNDING, status_before_refund=order.status)
    return case
