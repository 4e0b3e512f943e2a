"""Retail endpoints: store locator and store checkout (buyers), the store board and pickup
verification (clerks, own store only), stores, areas, staff, slots and stock (operators)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema, Status

from jishi.accounts.auth import RoleAuth, buyer_auth, current_user, operator_auth
from jishi.accounts.models import Role, User
from jishi.core.api import Id, LocalTime, ObjectId, OkOut, responses
from jishi.core.errors import InvalidInput, NotFound
from jishi.inventory.models import Location
from jishi.loyalty import points
from jishi.orders.api import CheckoutIn, OrderSummary, PreviewOut, checkout_options, preview_body, summary

from . import checkout, courier, fulfilment, pos, routing, stores
from .models import (
    AreaKind,
    CounterSale,
    DeliverySlot,
    Fulfilment,
    FulfilmentStatus,
    StaffRole,
    Store,
    StoreStatus,
    Tender,
)

router = Router()  # public store pages; checkout endpoints carry buyer_auth
admin_router = Router(auth=operator_auth)
staff_router = Router(auth=RoleAuth(Role.CLERK, Role.OPERATOR))

ID = Field(..., ge=1, le=2**62)
LAT = Field(..., ge=-90, le=90)
LNG = Field(..., ge=-180, le=180)
FEN = Field(0, ge=0, le=10**8)


# --- schemas ------------------------------------------------------------------------


class FeeTierIn(Schema):
    up_to_m: int = Field(..., ge=1, le=100_000)
    fee: int = Field(..., ge=0, le=10**7)


class AreaIn(Schema):
    area_kind: AreaKind = AreaKind.RADIUS
    delivery_radius_m: int | None = Field(None, ge=1, le=1_000_000, description="默认 3000，超过上限（10000）被拒绝")
    polygon: list[tuple[float, float]] = Field(default_factory=list, max_length=200)
    fee_tiers: list[FeeTierIn] = Field(default_factory=list, max_length=20)
    fee_per_km_beyond: int = FEN
    fee_cap: int = FEN
    min_order_amount: int = FEN


class StoreIn(AreaIn):
    name: str = Field(..., min_length=1, max_length=64)
    address: str = Field(..., min_length=1, max_length=200)
    city: str = Field("", max_length=32)
    phone: str = Field("", max_length=20)
    latitude: float = LAT
    longitude: float = LNG


class HoursOut(Schema):
    weekday: int = Field(..., ge=0, le=6)  # Monday 0
    opens: time
    closes: time


class DayHoursIn(Schema):
    weekday: int = Field(..., ge=0, le=6)  # Monday 0
    opens: LocalTime
    closes: LocalTime


class StoreOut(Schema):
    id: int
    name: str
    city: str
    address: str
    latitude: float
    longitude: float
    phone: str
    status: str
    location_id: int
    area_kind: str
    delivery_radius_m: int
    polygon: list[list[float]]
    fee_tiers: list[dict[str, int]]
    fee_per_km_beyond: int
    fee_cap: int
    min_order_amount: int
    delivery_enabled: bool
    pickup_enabled: bool
    hours: list[HoursOut]


def store_body(store: Store) -> dict[str, Any]:
    return {
        "id": store.pk,
        "name": store.name,
        "city": store.city,
        "address": store.address,
        "latitude": store.latitude,
        "longitude": store.longitude,
        "phone": store.phone,
        "status": store.status,
        "location_id": store.location_id,
        "area_kind": store.area_kind,
        "delivery_radius_m": store.delivery_radius_m,
        "polygon": store.polygon,
        "fee_tiers": store.fee_tiers,
        "fee_per_km_beyond": store.fee_per_km_beyond,
        "fee_cap": store.fee_cap,
        "min_order_amount": store.min_order_amount,
        "delivery_enabled": store.delivery_enabled,
        "pickup_enabled": store.pickup_enabled,
        "hours": list(store.hours.all()),
    }


def _area(payload: AreaIn) -> stores.AreaSpec:
    return stores.AreaSpec(
        kind=payload.area_kind,
        radius_m=payload.delivery_radius_m,
        polygon=tuple(payload.polygon),
        fee_tiers=tuple(stores.FeeTier(t.up_to_m, t.fee) for t in payload.fee_tiers),
        fee_per_km_beyond=payload.fee_per_km_beyond,
        fee_cap=payload.fee_cap,
        min_order_amount=payload.min_order_amount,
    )


# --- public: store locator ----------------------------------------------------------


class PointQuery(Schema):
    lat: float = LAT
    lng: float = LNG


class DeliverableOut(Schema):
    id: int
    name: str
    distance_m: int
    fee: int
    eta_minutes: int


class DeliverablePage(Schema):
    items: list[DeliverableOut]


@router.get("/retail/stores/deliverable", response=responses(DeliverablePage))
def deliverable(request: HttpRequest, point: Query[PointQuery]) -> Any:
    return {
        "items": [
            {
                "id": r.store.pk,
                "name": r.store.name,
                "distance_m": r.distance_m,
                "fee": r.fee,
                "eta_minutes": r.eta_minutes,
            }
            for r in routing.deliverable(point.lat, point.lng)
        ]
    }


class NearQuery(Schema):
    lat: float | None = Field(None, ge=-90, le=90)
    lng: float | None = Field(None, ge=-180, le=180)
    limit: int = Field(20, ge=1, le=100)


class StoreListItem(Schema):
    id: int
    name: str
    address: str
    status: str
    distance_m: int | None
    open_now: bool
    latitude: float
    longitude: float


@router.get("/retail/stores", response=responses(list[StoreListItem]))
def list_stores(request: HttpRequest, near: Query[NearQuery]) -> Any:
    if (near.lat is None) != (near.lng is None):
        raise InvalidInput(fields={"lat": ["lat 与 lng 须同时提供"]})
    if near.lat is not None and near.lng is not None:
        found: list[tuple[Store, int | None]] = list(routing.nearest(near.lat, near.lng, near.limit, radius_m=50_000))
    else:
        found = [(s, None) for s in stores.visible_stores().prefetch_related("hours", "holidays")[: near.limit]]
    return [
        {
            "id": s.pk,
            "name": s.name,
            "address": s.address,
            "status": s.status,
            "distance_m": d,
            "open_now": stores.is_open(s),
            "latitude": s.latitude,
            "longitude": s.longitude,
        }
        for s, d in found
    ]


@router.get("/retail/stores/{store_id}", response=responses(StoreOut))
def get_store(request: HttpRequest, store_id: ObjectId) -> Any:
    return store_body(stores.get_store(store_id, visible_only=True))


# --- buyers: store checkout ---------------------------------------------------------


class OptionOut(Schema):
    store_id: int
    name: str
    address: str
    distance_m: int
    fee: int
    eta_minutes: int
    missing_sku_ids: list[int]


class OptionsOut(Schema):
    delivery: list[OptionOut]
    pickup: list[OptionOut]


class OptionsQuery(Schema):
    address_id: int | None = Field(None, ge=1, le=2**62)
    lat: float | None = Field(None, ge=-90, le=90)
    lng: float | None = Field(None, ge=-180, le=180)


def _option(o: checkout.StoreOption) -> dict[str, Any]:
    return {
        "store_id": o.store.pk,
        "name": o.store.name,
        "address": o.store.address,
        "distance_m": o.distance_m,
        "fee": o.fee,
        "eta_minutes": o.eta_minutes,
        "missing_sku_ids": o.missing_sku_ids,
    }


@router.get("/retail/checkout/options", response=responses(OptionsOut, provider=True), auth=buyer_auth)
def fulfilment_options(request: HttpRequest, query: Query[OptionsQuery]) -> Any:
    near = (query.lat, query.lng) if query.lat is not None and query.lng is not None else None
    found = checkout.fulfilment_options(current_user(request), None, query.address_id, near=near)
    if found.address_error is not None:
        raise found.address_error  # 422 address_not_located, or 502 when the geocoder is down
    return {"delivery": [_option(o) for o in found.delivery], "pickup": [_option(o) for o in found.pickup]}


class StoreCheckoutIn(CheckoutIn):
    mode: str = Field(..., pattern="^(delivery|pickup|express)$", description="同城配送 / 到店自提 / 快递")
    store_id: int | None = Field(None, ge=1, le=2**62)
    slot_id: int | None = Field(None, ge=1, le=2**62)


class StoreOrderIn(StoreCheckoutIn):
    remark: str = Field("", max_length=200)


class PlacedOut(Schema):
    orders: list[OrderSummary]


def _opts(payload: StoreCheckoutIn) -> dict[str, Any]:
    return {k: v for k, v in checkout_options(payload).items() if k not in ("mode", "store_id", "slot_id")}


def _lines(payload: StoreCheckoutIn) -> list[tuple[int, int]] | None:
    return None if payload.lines is None else [(line.sku_id, line.quantity) for line in payload.lines]


@router.post("/retail/checkout/preview", response=responses(PreviewOut, provider=True), auth=buyer_auth)
def preview(request: HttpRequest, payload: StoreCheckoutIn) -> Any:
    found = checkout.preview(
        current_user(request),
        _lines(payload),
        payload.address_id,
        _opts(payload),
        mode=payload.mode,
        store_id=payload.store_id,
        slot_id=payload.slot_id,
    )
    return preview_body(found)


@router.post("/retail/orders", response=responses(PlacedOut, 201, provider=True), auth=buyer_auth)
def place_order(request: HttpRequest, payload: StoreOrderIn) -> Any:
    placed = checkout.place(
        current_user(request),
        _lines(payload),
        payload.address_id,
        _opts(payload),
        mode=payload.mode,
        store_id=payload.store_id,
        slot_id=payload.slot_id,
        remark=payload.remark,
    )
    return Status(201, {"orders": [summary(o) for o in placed]})


class SlotOut(Schema):
    id: int
    date: date
    starts: time
    ends: time
    capacity: int
    booked: int


class SlotQuery(Schema):
    date_from: date | None = None


@router.get("/retail/stores/{store_id}/slots", response=responses(list[SlotOut]))
def store_slots(request: HttpRequest, store_id: ObjectId, query: Query[SlotQuery]) -> Any:
    store = stores.get_store(store_id, visible_only=True)
    start = query.date_from or datetime.now().date()
    return list(DeliverySlot.objects.filter(store=store, date__gte=start).order_by("date", "starts")[:50])


class FulfilmentOut(Schema):
    order_id: int
    number: str
    store_id: int
    store_name: str
    mode: str
    status: str
    order_status: str
    pickup_code: str
    distance_m: int
    fee: int
    eta_minutes: int
    slot: SlotOut | None
    rider_id: int | None
    payable: int
    created_at: datetime


def fulfilment_body(f: Fulfilment, *, show_code: bool = True) -> dict[str, Any]:
    return {
        "order_id": f.order_id,
        "number": f.order.number,
        "store_id": f.store_id,
        "store_name": f.store.name,
        "mode": f.mode,
        "status": f.status,
        "order_status": f.order.status,
        "pickup_code": f.pickup_code if show_code else "",
        "distance_m": f.distance_m,
        "fee": f.fee,
        "eta_minutes": f.eta_minutes,
        "slot": f.slot,
        "rider_id": f.rider_id,
        "payable": f.order.payable,
        "created_at": f.created_at,
    }


@router.get("/retail/orders/{order_id}/fulfilment", response=responses(FulfilmentOut), auth=buyer_auth)
def my_fulfilment(request: HttpRequest, order_id: ObjectId) -> Any:
    f = (
        Fulfilment.objects.select_related("order", "store", "slot")
        .filter(order_id=order_id, order__user=current_user(request))
        .first()
    )
    if f is None:
        raise NotFound()
    return fulfilment_body(f)


# --- clerks: own store's board --------------------------------------------------------


class BoardQuery(Schema):
    status: FulfilmentStatus | None = None
    limit: int = Field(50, ge=1, le=100)


class MyStoreOut(Schema):
    id: int
    name: str
    role: str


@staff_router.get("/retail/staff/stores", response=responses(list[MyStoreOut]))
def my_stores(request: HttpRequest) -> Any:
    user = current_user(request)
    return [
        {"id": p.store_id, "name": p.store.name, "role": p.role}
        for p in user.store_posts.select_related("store").order_by("store_id")
    ]


@staff_router.get("/retail/staff/stores/{store_id}/board", response=responses(list[FulfilmentOut]))
def store_board(request: HttpRequest, store_id: ObjectId, query: Query[BoardQuery]) -> Any:
    store = stores.require_staff(current_user(request), store_id)
    # The pickup code is what the buyer shows: the board never reveals it.
    return [fulfilment_body(f, show_code=False) for f in fulfilment.board(store, query.status, query.limit)]


class AdvanceIn(Schema):
    status: FulfilmentStatus


@staff_router.post("/retail/staff/orders/{order_id}/advance", response=responses(FulfilmentOut))
def advance(request: HttpRequest, order_id: ObjectId, payload: AdvanceIn) -> Any:
    return fulfilment_body(fulfilment.advance(current_user(request), order_id, payload.status), show_code=False)


class PickupIn(Schema):
    code: str = Field(..., min_length=4, max_length=12, pattern="^[0-9]+$")


@staff_router.post("/retail/staff/stores/{store_id}/pickups", response=responses(FulfilmentOut))
def verify_pickup(request: HttpRequest, store_id: ObjectId, payload: PickupIn) -> Any:
    return fulfilment_body(fulfilment.verify_pickup(current_user(request), store_id, payload.code), show_code=False)


class RiderIn(Schema):
    rider_id: int = ID


@staff_router.post("/retail/staff/orders/{order_id}/rider", response=responses(FulfilmentOut))
def assign_rider(request: HttpRequest, order_id: ObjectId, payload: RiderIn) -> Any:
    rider = User.objects.filter(pk=payload.rider_id).first()
    if rider is None:
        raise NotFound(fields={"rider_id": [str(payload.rider_id)]})
    return fulfilment_body(fulfilment.assign_rider(current_user(request), order_id, rider), show_code=False)


# --- operators ----------------------------------------------------------------------


@admin_router.post("/retail/stores", response=responses(StoreOut, 201))
def create_store(request: HttpRequest, payload: StoreIn) -> Any:
    store = stores.create_store(
        current_user(request),
        name=payload.name,
        address=payload.address,
        latitude=payload.latitude,
        longitude=payload.longitude,
        area=_area(payload),
        city=payload.city,
        phone=payload.phone,
    )
    return Status(201, store_body(store))


@admin_router.put("/retail/stores/{store_id}/area", response=responses(StoreOut))
def update_area(request: HttpRequest, store_id: ObjectId, payload: AreaIn) -> Any:
    return store_body(stores.update_area(current_user(request), stores.get_store(store_id), _area(payload)))


class StatusIn(Schema):
    status: StoreStatus


@admin_router.put("/retail/stores/{store_id}/status", response=responses(StoreOut))
def set_status(request: HttpRequest, store_id: ObjectId, payload: StatusIn) -> Any:
    return store_body(stores.set_status(current_user(request), stores.get_store(store_id), payload.status))


class HoursIn(Schema):
    hours: list[DayHoursIn] = Field(..., max_length=7)


@admin_router.put("/retail/stores/{store_id}/hours", response=responses(StoreOut))
def set_hours(request: HttpRequest, store_id: ObjectId, payload: HoursIn) -> Any:
    store = stores.get_store(store_id)
    stores.set_hours(store, [(h.weekday, h.opens, h.closes) for h in payload.hours])
    return store_body(stores.get_store(store_id))


class HolidayIn(Schema):
    date: date
    opens: LocalTime | None = None
    closes: LocalTime | None = None
    note: str = Field("", max_length=64)


@admin_router.post("/retail/stores/{store_id}/holidays", response=responses(OkOut))
def set_holiday(request: HttpRequest, store_id: ObjectId, payload: HolidayIn) -> Any:
    stores.set_holiday(
        stores.get_store(store_id), payload.date, opens=payload.opens, closes=payload.closes, note=payload.note
    )
    return {"ok": True}


class StaffIn(Schema):
    user_id: int = ID
    role: StaffRole = StaffRole.CLERK


@admin_router.post("/retail/stores/{store_id}/staff", response=responses(OkOut))
def add_staff(request: HttpRequest, store_id: ObjectId, payload: StaffIn) -> Any:
    user = User.objects.filter(pk=payload.user_id).first()
    if user is None:
        raise NotFound(fields={"user_id": [str(payload.user_id)]})
    stores.add_staff(current_user(request), stores.get_store(store_id), user, payload.role)
    return {"ok": True}


@admin_router.delete("/retail/stores/{store_id}/staff/{user_id}", response=responses(OkOut))
def remove_staff(request: HttpRequest, store_id: ObjectId, user_id: ObjectId) -> Any:
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise NotFound()
    stores.remove_staff(current_user(request), stores.get_store(store_id), user)
    return {"ok": True}


class SlotIn(Schema):
    date: date
    starts: LocalTime
    ends: LocalTime
    capacity: int = Field(..., ge=1, le=10_000)


@admin_router.post("/retail/stores/{store_id}/slots", response=responses(SlotOut, 201))
def create_slot(request: HttpRequest, store_id: ObjectId, payload: SlotIn) -> Any:
    slot = fulfilment.create_slot(
        stores.get_store(store_id), payload.date, payload.starts, payload.ends, payload.capacity
    )
    return Status(201, slot)


class StockLineIn(Schema):
    sku_id: int = ID
    quantity: int = Field(..., ge=0, le=10**7)


class TransferIn(Schema):
    source_location_id: int = ID
    target_location_id: int = ID
    lines: list[StockLineIn] = Field(..., min_length=1, max_length=200)


class TransferOut(Schema):
    id: int
    number: str
    source_id: int
    target_id: int
    lines: list[list[int]]


def _location(location_id: int, field: str) -> Location:
    location = Location.objects.filter(pk=location_id).first()
    if location is None:
        raise NotFound(fields={field: [str(location_id)]})
    return location


@admin_router.post("/retail/transfers", response=responses(TransferOut, 201))
def transfer_stock(request: HttpRequest, payload: TransferIn) -> Any:
    record = stores.transfer_stock(
        current_user(request),
        _location(payload.source_location_id, "source_location_id"),
        _location(payload.target_location_id, "target_location_id"),
        [(line.sku_id, line.quantity) for line in payload.lines],
    )
    return Status(201, record)


class CountIn(Schema):
    lines: list[StockLineIn] = Field(..., min_length=1, max_length=500)


class CountOut(Schema):
    id: int
    number: str
    lines: list[dict[str, int]]


@staff_router.post("/retail/staff/stores/{store_id}/counts", response=responses(CountOut, 201))
def count_stock(request: HttpRequest, store_id: ObjectId, payload: CountIn) -> Any:
    user = current_user(request)
    store = stores.require_staff(user, store_id, manager=True)
    record = stores.count_stock(user, store, [(line.sku_id, line.quantity) for line in payload.lines])
    return Status(201, record)


class StoreStockOut(Schema):
    sku_id: int
    name: str
    on_hand: int
    reserved: int


@staff_router.get("/retail/staff/stores/{store_id}/stock", response=responses(list[StoreStockOut]))
def store_stock(request: HttpRequest, store_id: ObjectId) -> Any:
    store = stores.require_staff(current_user(request), store_id)
    return [
        {"sku_id": i.sku_id, "name": i.sku.product.name, "on_hand": i.on_hand, "reserved": i.reserved}
        for i in stores.store_stock(store)[:500]
    ]


# --- same-city courier ----------------------------------------------------------------


@staff_router.post("/retail/staff/orders/{order_id}/courier", response=responses(FulfilmentOut))
def request_courier(request: HttpRequest, order_id: ObjectId) -> Any:
    return fulfilment_body(courier.request_courier(current_user(request), order_id), show_code=False)


@staff_router.post("/retail/staff/orders/{order_id}/courier/cancel", response=responses(FulfilmentOut))
def cancel_courier(request: HttpRequest, order_id: ObjectId) -> Any:
    return fulfilment_body(courier.cancel_courier(current_user(request), order_id), show_code=False)


class CallbackOut(Schema):
    code: int
    outcome: str


@router.post("/retail/courier/callback", response=responses(CallbackOut), auth=None)
def courier_callback(request: HttpRequest) -> Any:
    try:
        outcome = courier.apply_callback(request.body, request.headers)
    except courier.InvalidCallback as exc:
        raise InvalidInput(_("回调签名无效"), code="invalid_signature") from exc
    return {"code": 0, "outcome": outcome}


# --- member code and POS ----------------------------------------------------------------


class MemberCodeOut(Schema):
    token: str
    expires_in: int


@router.get("/retail/member-code", response=responses(MemberCodeOut), auth=buyer_auth)
def my_member_code(request: HttpRequest) -> Any:
    return pos.member_code(current_user(request))


class IdentifyIn(Schema):
    code: str | None = Field(None, min_length=1, max_length=400, description="会员动态码（扫码所得）")
    phone: str | None = Field(None, min_length=5, max_length=20)


class MemberOut(Schema):
    member_id: int
    name: str
    phone: str
    points: int


def _mask(phone: str | None) -> str:
    return f"{phone[:3]}****{phone[-4:]}" if phone and len(phone) >= 7 else ""


@staff_router.post("/retail/staff/members/identify", response=responses(MemberOut))
def identify_member(request: HttpRequest, payload: IdentifyIn) -> Any:
    if (payload.code is None) == (payload.phone is None):
        raise InvalidInput(_("请提供会员码或手机号其中之一"), code="code_or_phone", fields={"code": [], "phone": []})
    member = pos.redeem_member_code(payload.code) if payload.code else pos.member_by_phone(payload.phone or "")

    return {
        "member_id": member.pk,
        "name": str(member),
        "phone": _mask(member.phone),
        "points": points.balance(member.pk),
    }


class BasketLineIn(Schema):
    barcode: str = Field("", max_length=64)
    sku_id: int | None = Field(None, ge=1, le=2**62)
    quantity: int = Field(1, ge=1, le=999)


class SaleIn(Schema):
    member_id: int = ID
    lines: list[BasketLineIn] = Field(..., min_length=1, max_length=100)
    tender: Tender
    coupon_ids: list[Id] | None = Field(None, max_length=10)
    use_points: int = Field(0, ge=0, le=10**9)


class ReceiptLineOut(Schema):
    name: str
    quantity: int
    unit_price: int
    line_total: int
    discount: int
    paid_amount: int
    refunded_quantity: int


class ReceiptOut(Schema):
    store: str
    store_address: str
    number: str
    clerk: str
    member: str
    tender: str
    status: str
    at: datetime
    lines: list[ReceiptLineOut]
    adjustments: list[dict[str, Any]]
    goods_amount: int
    discount_amount: int
    payable: int
    paid_amount: int
    refunded_amount: int
    points: int


class SaleOut(Schema):
    order_id: int
    number: str
    status: str
    payable: int
    pay_url: str
    receipt: ReceiptOut


def sale_body(sale: CounterSale, pay: dict[str, Any] | None = None) -> dict[str, Any]:
    sale.order.refresh_from_db()
    return {
        "order_id": sale.order_id,
        "number": sale.order.number,
        "status": sale.order.status,
        "payable": sale.order.payable,
        "pay_url": (pay or {}).get("pay_url", ""),
        "receipt": pos.receipt(sale),
    }


@staff_router.post("/retail/staff/stores/{store_id}/sales", response=responses(SaleOut, 201))
def ring_up(request: HttpRequest, store_id: ObjectId, payload: SaleIn) -> Any:
    member = User.objects.filter(pk=payload.member_id, is_active=True).first()
    if member is None:
        raise NotFound(_("会员不存在"), code="member_not_found", fields={"member_id": [str(payload.member_id)]})
    sale, pay = pos.ring_up(
        current_user(request),
        store_id,
        member,
        [pos.BasketLine(quantity=line.quantity, barcode=line.barcode, sku_id=line.sku_id) for line in payload.lines],
        tender=payload.tender,
        coupon_ids=payload.coupon_ids,
        use_points=payload.use_points,
    )
    return Status(201, sale_body(sale, pay))


@staff_router.get("/retail/staff/sales/{order_id}", response=responses(SaleOut))
def get_sale(request: HttpRequest, order_id: ObjectId) -> Any:
    return sale_body(pos.staff_sale(current_user(request), order_id))


class RefundLineIn(Schema):
    line_id: int = ID
    quantity: int = Field(..., ge=1, le=999)


class CounterRefundIn(Schema):
    lines: list[RefundLineIn] | None = Field(None, max_length=100, description="省略时整单退")
    reason: str = Field("", max_length=200)


class CounterRefundOut(Schema):
    after_sale_id: int
    amount: int
    sale: SaleOut


@staff_router.post("/retail/staff/sales/{order_id}/refund", response=responses(CounterRefundOut))
def counter_refund(request: HttpRequest, order_id: ObjectId, payload: CounterRefundIn) -> Any:
    clerk = current_user(request)
    lines = [(line.line_id, line.quantity) for line in payload.lines] if payload.lines else None
    case = pos.counter_refund(clerk, order_id, lines, payload.reason)
    return {"after_sale_id": case.pk, "amount": case.amount, "sale": sale_body(pos.staff_sale(clerk, order_id))}
