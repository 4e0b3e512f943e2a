"""Cart, checkout, order and after-sales endpoints; operator shipping and after-sales review."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Prefetch
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from jishi.accounts.auth import buyer_auth, current_user, operator_auth
from jishi.catalog.availability import sellable
from jishi.core.api import Id, ObjectId, page_bounds, responses
from jishi.core.errors import NotFound

from . import services
from .models import AfterSale, AfterSaleKind, AfterSaleLine, Order, OrderLine, OrderStatus
from .pipeline import Checkout

router = Router(auth=buyer_auth)
admin_router = Router(auth=operator_auth)

ID = Field(..., ge=1, le=2**62)


class CartItemIn(Schema):
    sku_id: int = ID
    quantity: int = Field(1, ge=1, le=999)


class CartItemUpdate(Schema):
    quantity: int | None = Field(None, ge=1, le=999)
    selected: bool | None = None


class CartLineOut(Schema):
    sku_id: int
    product_id: int
    name: str
    specs: dict[str, str]
    price: int
    quantity: int
    selected: bool
    stock: int
    available: bool


class CartOut(Schema):
    lines: list[CartLineOut]
    count: int
    selected_amount: int


def cart_body(user: Any, lines: list[Any] | None = None) -> dict[str, Any]:
    lines = services.cart_lines(user) if lines is None else lines
    stock = sellable(line.sku_id for line in lines)
    out = []
    for line in lines:
        product = line.sku.product
        out.append(
            {
                "sku_id": line.sku_id,
                "product_id": product.pk,
                "name": product.name,
                "specs": line.sku.specs,
                "price": line.sku.price,
                "quantity": line.quantity,
                "selected": line.selected,
                "stock": stock[line.sku_id],
                "available": line.sku.is_active
                and product.status == "published"
                and stock[line.sku_id] >= line.quantity,
            }
        )
    return {
        "lines": out,
        "count": sum(line["quantity"] for line in out),
        "selected_amount": sum(line["price"] * line["quantity"] for line in out if line["selected"]),
    }


@router.get("/cart", response=responses(CartOut))
def get_cart(request: HttpRequest) -> Any:
    return cart_body(current_user(request))


@router.post("/cart/items", response=responses(CartOut))
def add_cart_item(request: HttpRequest, payload: CartItemIn) -> Any:
    lines = services.add_to_cart(current_user(request), payload.sku_id, payload.quantity)
    return cart_body(current_user(request), lines)


@router.put("/cart/items/{sku_id}", response=responses(CartOut))
def update_cart_item(request: HttpRequest, sku_id: ObjectId, payload: CartItemUpdate) -> Any:
    services.update_cart_line(current_user(request), sku_id, payload.quantity, payload.selected)
    return cart_body(current_user(request))


@router.delete("/cart/items/{sku_id}", response=responses(CartOut))
def delete_cart_item(request: HttpRequest, sku_id: ObjectId) -> Any:
    services.remove_cart_line(current_user(request), sku_id)
    return cart_body(current_user(request))


# --- checkout and orders ------------------------------------------------------------


class LineIn(Schema):
    sku_id: int = ID
    quantity: int = Field(..., ge=1, le=999)


class CheckoutIn(Schema):
    lines: list[LineIn] | None = Field(None, min_length=1, max_length=100, description="省略时结算购物车中选中的商品")
    address_id: int | None = Field(None, ge=1, le=2**62)
    coupon_ids: list[Id] | None = Field(
        None, max_length=10, description="要使用的优惠券；省略时自动选择最优组合，传 [] 表示不用券"
    )
    use_points: int = Field(0, ge=0, le=10**9, description="抵扣使用的积分数")
    ref: str | None = Field(None, max_length=16, description="分享链接带来的推广码")


class OrderIn(CheckoutIn):
    remark: str = Field("", max_length=200)


class AdjustmentOut(Schema):
    step: str
    label: str
    amount: int
    per_line: list[int] | None = None


class PreviewLineOut(Schema):
    sku_id: int
    product_id: int
    name: str
    specs: dict[str, str]
    unit_price: int
    quantity: int
    line_total: int
    discount: int
    paid_amount: int


class PreviewOut(Schema):
    lines: list[PreviewLineOut]
    adjustments: list[AdjustmentOut]
    goods_amount: int
    discount_amount: int
    shipping_fee: int
    payable: int


def preview_body(checkout: Checkout) -> dict[str, Any]:
    return {
        "lines": [
            {
                "sku_id": line.sku_id,
                "product_id": line.product_id,
                "name": line.product_name,
                "specs": line.specs,
                "unit_price": line.unit_price,
                "quantity": line.quantity,
                "line_total": line.line_total,
                "discount": line.discount,
                "paid_amount": line.paid_amount,
            }
            for line in checkout.lines
        ],
        "adjustments": [a.as_dict() for a in checkout.adjustments],
        "goods_amount": checkout.goods_amount,
        "discount_amount": checkout.discount_amount,
        "shipping_fee": checkout.shipping_fee,
        "payable": checkout.payable,
    }


def checkout_options(payload: CheckoutIn) -> dict[str, Any]:
    """Fields beyond lines and address are options for the pipeline's steps."""
    return payload.dict(exclude={"lines", "address_id", "remark"})


def _lines(payload: CheckoutIn) -> list[tuple[int, int]] | None:
    return None if payload.lines is None else [(line.sku_id, line.quantity) for line in payload.lines]


@router.post("/orders/preview", response=responses(PreviewOut))
def preview_order(request: HttpRequest, payload: CheckoutIn) -> Any:
    checkout = services.preview(current_user(request), _lines(payload), payload.address_id, checkout_options(payload))
    return preview_body(checkout)


class OrderLineOut(Schema):
    id: int
    sku_id: int | None
    product_id: int
    product_name: str
    specs: dict[str, str]
    image: str
    unit_price: int
    quantity: int
    line_total: int
    discount: int
    paid_amount: int
    refunded_quantity: int
    refunded_amount: int


class OrderSummary(Schema):
    id: int
    number: str
    status: str
    payable: int
    paid: int
    created_at: datetime


class OrderOut(OrderSummary):
    goods_amount: int
    discount_amount: int
    shipping_fee: int
    refunded_amount: int
    payment_method: str
    adjustments: list[AdjustmentOut]
    address: dict[str, Any]
    carrier: str
    tracking_number: str
    pay_deadline: datetime | None
    paid_at: datetime | None
    shipped_at: datetime | None
    completed_at: datetime | None
    lines: list[OrderLineOut]


class OrderPage(Schema):
    items: list[OrderSummary]
    count: int


def order_body(order: Order) -> dict[str, Any]:
    return {
        "id": order.pk,
        "number": order.number,
        "status": order.status,
        "payable": order.payable,
        "paid": order.paid_amount,
        "created_at": order.created_at,
        "goods_amount": order.goods_amount,
        "discount_amount": order.discount_amount,
        "shipping_fee": order.shipping_fee,
        "refunded_amount": order.refunded_amount,
        "payment_method": order.payment_method,
        "adjustments": order.adjustments,
        "address": order.address,
        "carrier": order.carrier,
        "tracking_number": order.tracking_number,
        "pay_deadline": order.pay_deadline,
        "paid_at": order.paid_at,
        "shipped_at": order.shipped_at,
        "completed_at": order.completed_at,
        "lines": list(order.lines.all()),
    }


def summary(order: Order) -> dict[str, Any]:
    return {
        "id": order.pk,
        "number": order.number,
        "status": order.status,
        "payable": order.payable,
        "paid": order.paid_amount,
        "created_at": order.created_at,
    }


@router.post("/orders", response=responses(OrderSummary, 201))
def place_order(request: HttpRequest, payload: OrderIn) -> Any:
    order = services.place_order(
        current_user(request), _lines(payload), payload.address_id, checkout_options(payload), payload.remark
    )
    return Status(201, summary(order))


class OrderFilter(Schema):
    status: OrderStatus | None = None
    limit: int | None = Field(None, ge=1, le=100)
    offset: int | None = Field(None, ge=0, le=10**6)


def order_page(rows: Any, filters: OrderFilter) -> dict[str, Any]:
    limit, offset = page_bounds(filters.limit, filters.offset)
    if filters.status:
        rows = rows.filter(status=filters.status)
    return {"items": [summary(o) for o in rows[offset : offset + limit]], "count": rows.count()}


@router.get("/orders", response=responses(OrderPage))
def list_orders(request: HttpRequest, filters: Query[OrderFilter]) -> Any:
    return order_page(Order.objects.filter(user=current_user(request)), filters)


@router.get("/orders/{order_id}", response=responses(OrderOut))
def get_order(request: HttpRequest, order_id: ObjectId) -> Any:
    return order_body(services.get_order(current_user(request), order_id))


@router.post("/orders/{order_id}/cancel", response=responses(OrderOut))
def cancel_order(request: HttpRequest, order_id: ObjectId) -> Any:
    return order_body(services.cancel_order(current_user(request), order_id))


@router.post("/orders/{order_id}/confirm", response=responses(OrderOut))
def confirm_order(request: HttpRequest, order_id: ObjectId) -> Any:
    return order_body(services.confirm_receipt(current_user(request), order_id))


# --- after-sales --------------------------------------------------------------------


class AfterSaleLineIn(Schema):
    line_id: int = ID
    quantity: int = Field(..., ge=1, le=999)


class AfterSaleIn(Schema):
    lines: list[AfterSaleLineIn] = Field(..., min_length=1, max_length=100)
    amount: int = Field(..., ge=0, le=10**12)  # 0: units that cost no money (points-only orders)
    reason: str = Field(..., min_length=1, max_length=200)
    kind: AfterSaleKind = AfterSaleKind.REFUND_ONLY


class AfterSaleLineOut(Schema):
    line_id: int
    quantity: int
    amount: int


class AfterSaleOut(Schema):
    id: int
    number: str
    order_id: int
    kind: str
    status: str
    amount: int
    reason: str
    reject_reason: str
    created_at: datetime
    lines: list[AfterSaleLineOut]


def after_sale_body(case: AfterSale) -> dict[str, Any]:
    return {
        "id": case.pk,
        "number": case.number,
        "order_id": case.order_id,
        "kind": case.kind,
        "status": case.status,
        "amount": case.amount,
        "reason": case.reason,
        "reject_reason": case.reject_reason,
        "created_at": case.created_at,
        "lines": [
            {"line_id": cl.order_line_id, "quantity": cl.quantity, "amount": cl.amount} for cl in case.lines.all()
        ],
    }


@router.post("/orders/{order_id}/after-sales", response=responses(AfterSaleOut, 201))
def request_after_sale(request: HttpRequest, order_id: ObjectId, payload: AfterSaleIn) -> Any:
    case = services.request_after_sale(
        current_user(request),
        order_id,
        [(line.line_id, line.quantity) for line in payload.lines],
        payload.amount,
        payload.reason,
        payload.kind,
    )
    return Status(201, after_sale_body(case))


class AfterSalePage(Schema):
    items: list[AfterSaleOut]
    count: int


class AfterSalePageIn(Schema):
    status: str | None = Field(None, max_length=16)
    limit: int | None = Field(None, ge=1, le=100)
    offset: int | None = Field(None, ge=0, le=10**6)


def after_sale_page(rows: Any, filters: AfterSalePageIn) -> dict[str, Any]:
    limit, offset = page_bounds(filters.limit, filters.offset)
    if filters.status:
        rows = rows.filter(status=filters.status)
    rows = rows.prefetch_related(Prefetch("lines", queryset=AfterSaleLine.objects.order_by("id")))
    return {"items": [after_sale_body(c) for c in rows[offset : offset + limit]], "count": rows.count()}


@router.get("/after-sales", response=responses(AfterSalePage))
def my_after_sales(request: HttpRequest, filters: Query[AfterSalePageIn]) -> Any:
    return after_sale_page(AfterSale.objects.filter(user=current_user(request)), filters)


@router.post("/after-sales/{case_id}/cancel", response=responses(AfterSaleOut))
def cancel_after_sale(request: HttpRequest, case_id: ObjectId) -> Any:
    return after_sale_body(services.cancel_after_sale(current_user(request), case_id))


# --- operator -----------------------------------------------------------------------


class ShipIn(Schema):
    carrier: str = Field(..., min_length=1, max_length=32)
    tracking_number: str = Field(..., min_length=1, max_length=64)


class ApproveIn(Schema):
    restock: bool = False


class RejectIn(Schema):
    reason: str = Field(..., min_length=1, max_length=200, pattern=r"\S")  # not only spaces


@admin_router.get("/orders", response=responses(OrderPage))
def admin_orders(request: HttpRequest, filters: Query[OrderFilter]) -> Any:
    return order_page(Order.objects.all(), filters)


@admin_router.get("/orders/{order_id}", response=responses(OrderOut))
def admin_order(request: HttpRequest, order_id: ObjectId) -> Any:
    order = (
        Order.objects.prefetch_related(Prefetch("lines", queryset=OrderLine.objects.order_by("id")))
        .filter(pk=order_id)
        .first()
    )
    if order is None:
        raise NotFound()
    return order_body(order)


@admin_router.post("/orders/{order_id}/ship", response=responses(OrderOut))
def admin_ship(request: HttpRequest, order_id: ObjectId, payload: ShipIn) -> Any:
    return order_body(services.ship_order(current_user(request), order_id, payload.carrier, payload.tracking_number))


@admin_router.get("/after-sales", response=responses(AfterSalePage))
def admin_after_sales(request: HttpRequest, filters: Query[AfterSalePageIn]) -> Any:
    return after_sale_page(AfterSale.objects.all(), filters)


@admin_router.post("/after-sales/{case_id}/approve", response=responses(AfterSaleOut, provider=True))
def admin_approve(request: HttpRequest, case_id: ObjectId, payload: ApproveIn | None = None) -> Any:
    restock = payload.restock if payload else False
    return after_sale_body(services.approve_after_sale(current_user(request), case_id, restock))


@admin_router.post("/after-sales/{case_id}/reject", response=responses(AfterSaleOut))
def admin_reject(request: HttpRequest, case_id: ObjectId, payload: RejectIn) -> Any:
    return after_sale_body(services.reject_after_sale(current_user(request), case_id, payload.reason))
