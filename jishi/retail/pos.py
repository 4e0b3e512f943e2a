"""Point of sale: member codes, offline sales rung up through the ordinary checkout pipeline,
counter tenders, receipts and counter refunds.

An offline sale is an ordinary order (``meta.channel = "offline"``, the store's location): the
same member price, coupons and points steps price it, the same payments book it, and the same
``order.completed`` / ``order.refunded`` events earn and reverse points, growth and commissions.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jishi.accounts.models import User
from jishi.catalog.models import Sku
from jishi.core.errors import Conflict, InvalidInput, NotFound
from jishi.orders import services as orders
from jishi.orders.models import AfterSale, AfterSaleKind, Order, OrderStatus
from jishi.payments import services as payments
from jishi.payments.models import Payment, PaymentMethod
from jishi.payments.providers import Notice

from .conf import retail_setting
from .counter import TENDERS
from .models import CounterSale, Fulfilment, FulfilmentMode, FulfilmentStatus, MemberCodeUse, Store, Tender
from .steps import StoreChoice
from .stores import require_staff

_SALT = "jishi.retail.member-code"


# --- member codes -------------------------------------------------------------------


def member_code(user: User) -> dict[str, Any]:
    """A short-lived signed token for the member's QR; the page fetches a new one each period."""
    token = signing.dumps({"u": user.pk, "n": secrets.token_hex(8)}, salt=_SALT, compress=True)
    return {"token": token, "expires_in": retail_setting("MEMBER_CODE_SECONDS")}


def redeem_member_code(token: str) -> User:
    """The member a scanned code names. Expired, forged or already used codes are refused."""
    try:
        data = signing.loads(token, salt=_SALT, max_age=retail_setting("MEMBER_CODE_SECONDS"))
    except signing.SignatureExpired as exc:
        raise Conflict(_("会员码已过期，请刷新"), code="member_code_expired") from exc
    except signing.BadSignature as exc:
        raise InvalidInput(_("会员码无效"), code="member_code_invalid", fields={"code": ["invalid"]}) from exc
    user = User.objects.filter(pk=int(data["u"]), is_active=True).first()
    if user is None:
        raise NotFound(_("会员不存在"), code="member_not_found")
    try:
        with transaction.atomic():
            MemberCodeUse.objects.create(nonce=str(data["n"])[:32], user=user)
    except IntegrityError as exc:
        raise Conflict(_("会员码已使用，请刷新"), code="member_code_used") from exc
    return user


def member_by_phone(phone: str) -> User:
    user = User.objects.filter(phone=phone, is_active=True).first()
    if user is None:
        raise NotFound(_("会员不存在"), code="member_not_found", fields={"phone": [phone]})
    return user


# --- sales --------------------------------------------------------------------------


@dataclass(frozen=True)
class BasketLine:
    quantity: int
    barcode: str = ""
    sku_id: int | None = None


def _resolve(lines: Sequence[BasketLine]) -> list[tuple[int, int]]:
    barcodes = [line.barcode for line in lines if line.barcode]
    by_code = dict(Sku.objects.filter(barcode__in=barcodes).values_list("barcode", "pk"))
    unknown = [code for code in barcodes if code not in by_code]
    if unknown:
        raise NotFound(_("条码不存在"), code="barcode_unknown", fields={"barcode": unknown})
    out = []
    for line in lines:
        sku_id = by_code[line.barcode] if line.barcode else line.sku_id
        if sku_id is None:
            raise InvalidInput(code="line_without_sku", fields={"lines": [str(_("需要条码或 SKU"))]})
        out.append((sku_id, line.quantity))
    return out


def ring_up(
    clerk: User,
    store_id: int,
    member: User,
    lines: Sequence[BasketLine],
    *,
    tender: str,
    coupon_ids: list[int] | None = None,
    use_points: int = 0,
) -> tuple[CounterSale, dict[str, Any]]:
    """Price the basket through the checkout pipeline for ``member``, take the tender, hand the
    goods over. Cash, card and wallet settle at once, in one transaction (no remote call); a
    provider QR commits the sale first and completes when its notify pays the order."""
    store = require_staff(clerk, store_id)
    if tender not in Tender.values:
        raise InvalidInput(code="invalid_tender", fields={"tender": [tender]})
    basket = _resolve(lines)
    options: dict[str, Any] = {
        "coupon_ids": coupon_ids,
        "use_points": use_points,
        "store_fulfilment": StoreChoice(mode=FulfilmentMode.OFFLINE, store_id=store.pk, clerk_id=clerk.pk),
    }
    with transaction.atomic():
        order = orders.place_order(member, basket, None, options, remark=str(_("门店收银")))
        sale = CounterSale.objects.create(order=order, store=store, clerk=clerk, tender=tender)
        if tender != Tender.QR:
            _take(sale, order, member)
            finish_sale(order, clerk, paid=True)
    pay: dict[str, Any] = {}
    if tender == Tender.QR:  # the provider is called outside the transaction
        pay = payments.start_payment(member, order.pk, PaymentMethod.SANDBOX)
    return sale, pay


def _take(sale: CounterSale, order: Order, member: User) -> None:
    if sale.tender == Tender.WALLET:
        payments.pay_with_wallet(member, order.pk)
        return
    assert sale.tender in TENDERS
    payment = Payment.objects.create(
        payment_no=f"C{timezone.localdate():%y%m%d}{secrets.randbelow(10**12):012d}",
        order=order,
        user=member,
        method=sale.tender,
        amount=order.payable,
    )
    outcome = payments.apply_notice(
        sale.tender,
        Notice(payment.payment_no, f"counter:{sale.pk}", order.payable, payment.currency, True, {}),
    )
    if outcome != "paid":
        raise Conflict(_("收款失败"), code="counter_payment_failed", fields={"tender": [outcome]})


def finish_sale(order: Order, clerk: User | None, *, paid: bool = False) -> bool:
    """A paid offline sale leaves the shelf and completes (points are earned on completion).
    ``paid``: the caller has just taken the money in this transaction (no need to read it back)."""
    if not paid:
        order.refresh_from_db()
        if order.status != OrderStatus.PAID:
            return False
    updated = Fulfilment.objects.filter(order=order, status=FulfilmentStatus.NEW).update(status=FulfilmentStatus.SOLD)
    if not updated:
        return False
    shipped = orders.ship_order(clerk, order.pk, carrier=str(_("门店收银")), tracking_number=order.number)  # type: ignore[arg-type]
    orders.complete_order(shipped)
    return True


def staff_sale(clerk: User, order_id: int) -> CounterSale:
    sale = CounterSale.objects.select_related("order", "store", "clerk").filter(order_id=order_id).first()
    if sale is None:
        raise NotFound()
    require_staff(clerk, sale.store_id)
    return sale


def counter_refund(clerk: User, order_id: int, lines: Sequence[tuple[int, int]] | None, reason: str) -> AfterSale:
    """Goods back over the counter: the money goes back the way it came, stock to the store's
    shelf, and the refund event reverses points (and whatever else the sale earned)."""
    sale = staff_sale(clerk, order_id)
    order = sale.order
    wanted = list(lines or [])
    if not wanted:
        wanted = [(line.pk, line.quantity - line.refunded_quantity) for line in order.lines.all()]
        wanted = [(line_id, q) for line_id, q in wanted if q > 0]
    amount = orders.max_refundable(order, dict(wanted))
    case = orders.request_after_sale(
        order.user, order.pk, wanted, amount, reason or str(_("门店退货")), kind=AfterSaleKind.RETURN_REFUND
    )
    # Outside any transaction: a provider-paid sale's refund is recorded, then the provider called.
    return orders.approve_after_sale(clerk, case.pk, restock=True)


def receipt(sale: CounterSale) -> dict[str, Any]:
    order = sale.order
    return {
        "store": sale.store.name,
        "store_address": sale.store.address,
        "number": order.number,
        "clerk": str(sale.clerk),
        "member": str(order.user),
        "tender": sale.tender,
        "status": order.status,
        "status_label": str(OrderStatus(order.status).label),
        "at": sale.created_at,
        "lines": [
            {
                "name": line.product_name,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "line_total": line.line_total,
                "discount": line.discount,
                "paid_amount": line.paid_amount,
                "refunded_quantity": line.refunded_quantity,
            }
            for line in order.lines.all()
        ],
        "adjustments": order.adjustments,
        "goods_amount": order.goods_amount,
        "discount_amount": order.discount_amount,
        "payable": order.payable,
        "paid_amount": order.paid_amount,
        "refunded_amount": order.refunded_amount,
        "points": (order.meta.get("points") or {}).get("used", 0),
    }


def store_sales(store: Store, limit: int = 50) -> list[CounterSale]:
    return list(CounterSale.objects.filter(store=store).select_related("order", "clerk", "store")[:limit])
