"""Community group-buy API: leaders nearby, applying, binding, batches and orders, the leader app
(orders, pick list, verification, earnings, members); operators: review, batches, deliveries."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from jishi.accounts.auth import buyer_auth, current_user, operator_auth
from jishi.accounts.models import User
from jishi.commission.models import Commission, CommissionSource
from jishi.core.api import ObjectId, OkOut, page_bounds, responses
from jishi.core.errors import Conflict, InvalidInput, NotFound

from . import batches, leaders, pickup
from .models import Batch, Leader, LeaderStatus, MemberBinding, PickupOrder, PickupStatus, PointType

router = Router(auth=buyer_auth)
admin_router = Router(auth=operator_auth)

ID = Field(..., ge=1, le=2**62)
OPT_ID = Field(None, ge=1, le=2**62)


class GbPointIn(Schema):
    name: str = Field(..., min_length=1, max_length=64)
    type: PointType
    address: str = Field(..., min_length=1, max_length=200)
    latitude: float = Field(..., ge=-90, le=90)
    longitude: float = Field(..., ge=-180, le=180)
    hours: str = Field("", max_length=64)
    daily_capacity: int = Field(200, ge=1, le=100_000)
    photos: list[str] = Field(default_factory=list, max_length=9)


class GbApplyIn(Schema):
    name: str = Field(..., min_length=1, max_length=32)
    phone: str = Field(..., pattern=r"^1\d{10}$")
    id_number: str = Field(..., min_length=18, max_length=18)
    pickup_point: GbPointIn


class GbPointOut(Schema):
    name: str
    type: str
    address: str
    latitude: float
    longitude: float
    hours: str
    daily_capacity: int
    photos: list[str]


class GbApplicationOut(Schema):
    id: int
    status: str
    reason: str
    share_code: str
    pickup_point: GbPointOut


def _application(leader: Leader) -> dict[str, Any]:
    return {
        "id": leader.pk,
        "status": leader.status,
        "reason": leader.reason,
        "share_code": leader.share_code if leader.status == LeaderStatus.APPROVED else "",
        "pickup_point": leader.point,
    }


@router.post("/groupbuy/leaders/apply", response=responses(GbApplicationOut, 201))
def apply(request: HttpRequest, payload: GbApplyIn) -> Any:
    leader = leaders.apply(current_user(request), payload.dict())
    return Status(201, _application(Leader.objects.select_related("point").get(pk=leader.pk)))


@router.get("/groupbuy/leaders/application", response=responses(GbApplicationOut))
def my_application(request: HttpRequest) -> Any:
    leader = Leader.objects.select_related("point").filter(user=current_user(request)).first()
    if leader is None:
        raise NotFound(code="no_application")
    return _application(leader)


class GbNearFilter(Schema):
    lat: float = Field(..., ge=-90, le=90)
    lng: float = Field(..., ge=-180, le=180)
    radius_m: int | None = Field(None, ge=1, le=20_000)


class GbNearbyOut(Schema):
    id: int
    name: str
    share_code: str
    pickup_point: GbPointOut
    distance_m: int


class GbNearbyPage(Schema):
    items: list[GbNearbyOut]


@router.get("/groupbuy/leaders", response=responses(GbNearbyPage), auth=None)
def nearby(request: HttpRequest, filters: Query[GbNearFilter]) -> Any:
    found = leaders.nearest(filters.lat, filters.lng, filters.radius_m)
    return {
        "items": [
            {
                "id": n.leader.pk,
                "name": n.leader.name,
                "share_code": n.leader.share_code,
                "pickup_point": n.leader.point,
                "distance_m": n.distance_m,
            }
            for n in found
        ]
    }


class GbBindIn(Schema):
    leader_id: int | None = OPT_ID
    share_code: str | None = Field(None, min_length=4, max_length=12)


class GbBindingOut(Schema):
    leader_id: int
    name: str
    pickup_point: GbPointOut
    source: str
    bound_at: datetime
    changed: bool = False


def _binding(binding: MemberBinding, changed: bool = False) -> dict[str, Any]:
    leader = Leader.objects.select_related("point").get(pk=binding.leader_id)
    return {
        "leader_id": leader.pk,
        "name": leader.name,
        "pickup_point": leader.point,
        "source": binding.source,
        "bound_at": binding.bound_at,
        "changed": changed,
    }


@router.post("/groupbuy/me/leader", response=responses(GbBindingOut))
def bind(request: HttpRequest, payload: GbBindIn) -> Any:
    user = current_user(request)
    if payload.share_code:
        binding, changed = leaders.bind_by_share_code(user, payload.share_code)
    elif payload.leader_id:
        binding, changed = leaders.bind(user, payload.leader_id)
    else:
        raise InvalidInput(fields={"leader_id": ["required"]})
    return _binding(binding, changed)


@router.get("/groupbuy/me/leader", response=responses(GbBindingOut))
def my_leader(request: HttpRequest) -> Any:
    binding = leaders.binding_of(current_user(request))
    if binding is None:
        raise NotFound(code="no_leader")
    return _binding(binding)


# --- batches and orders -------------------------------------------------------------


class GbItemOut(Schema):
    id: int
    sku_id: int
    product_id: int
    name: str
    list_price: int
    group_price: int
    per_person_limit: int
    stock_left: int


class GbBatchOut(Schema):
    id: int
    name: str
    status: str
    sale_starts_at: datetime
    cutoff_at: datetime
    delivery_date: date
    pickup_date: date
    items: list[GbItemOut]


def _batch(batch: Batch) -> dict[str, Any]:
    return {
        "id": batch.pk,
        "name": batch.name,
        "status": batch.status,
        "sale_starts_at": batch.sale_starts_at,
        "cutoff_at": batch.cutoff_at,
        "delivery_date": batch.delivery_date,
        "pickup_date": batch.pickup_date,
        "items": [
            {
                "id": i.pk,
                "sku_id": i.sku_id,
                "product_id": i.sku.product_id,
                "name": i.sku.product.name,
                "list_price": i.sku.price,
                "group_price": i.group_price,
                "per_person_limit": i.per_person_limit,
                "stock_left": i.stock_left,
            }
            for i in batches.batch_items(batch)
        ],
    }


@router.get("/groupbuy/batches", response=responses(list[GbBatchOut]), auth=None)
def live(request: HttpRequest) -> Any:
    return [_batch(b) for b in batches.live_batches()]


@router.get("/groupbuy/batches/{batch_id}", response=responses(GbBatchOut), auth=None)
def batch_detail(request: HttpRequest, batch_id: ObjectId) -> Any:
    batch = Batch.objects.filter(pk=batch_id).first()
    if batch is None:
        raise NotFound()
    return _batch(batch)


class GbLineIn(Schema):
    sku_id: int = ID
    quantity: int = Field(..., ge=1, le=99)


class GbBuyIn(Schema):
    lines: list[GbLineIn] = Field(..., min_length=1, max_length=50)
    leader_id: int | None = OPT_ID


class GbPickupLineOut(Schema):
    product_name: str
    quantity: int
    refunded_quantity: int
    paid_amount: int


class GbPickupOut(Schema):
    id: int
    code: str
    status: str
    batch_id: int
    leader_id: int
    order_id: int
    order_number: str
    order_status: str
    payable: int
    paid_amount: int
    refunded_amount: int
    pickup_point: str
    verified_at: datetime | None
    lines: list[GbPickupLineOut]


def _pickup(p: PickupOrder) -> dict[str, Any]:
    order = p.order
    return {
        "id": p.pk,
        "code": p.code,
        "status": p.status,
        "batch_id": p.batch_id,
        "leader_id": p.leader_id,
        "order_id": order.pk,
        "order_number": order.number,
        "order_status": order.status,
        "payable": order.payable,
        "paid_amount": order.paid_amount,
        "refunded_amount": order.refunded_amount,
        "pickup_point": p.leader.point.name,
        "verified_at": p.verified_at,
        "lines": list(order.lines.all()),
    }


def _pickups(rows: Any) -> list[dict[str, Any]]:
    return [_pickup(p) for p in rows.select_related("order", "leader__point").prefetch_related("order__lines")]


@router.post("/groupbuy/batches/{batch_id}/orders", response=responses(GbPickupOut, 201))
def buy(request: HttpRequest, batch_id: ObjectId, payload: GbBuyIn) -> Any:
    order = batches.buy(
        current_user(request), batch_id, [(line.sku_id, line.quantity) for line in payload.lines], payload.leader_id
    )
    return Status(201, _pickups(PickupOrder.objects.filter(order=order))[0])


class GbMineFilter(Schema):
    status: PickupStatus | None = None
    limit: int | None = Field(None, ge=1, le=100)
    offset: int | None = Field(None, ge=0, le=10**6)


class GbPickupPage(Schema):
    items: list[GbPickupOut]
    count: int


@router.get("/groupbuy/pickups", response=responses(GbPickupPage))
def my_pickups(request: HttpRequest, filters: Query[GbMineFilter]) -> Any:
    limit, offset = page_bounds(filters.limit, filters.offset)
    rows = PickupOrder.objects.filter(buyer=current_user(request)).order_by("-id")
    if filters.status:
        rows = rows.filter(status=filters.status)
    return {"items": _pickups(rows[offset : offset + limit]), "count": rows.count()}


# --- the leader app -----------------------------------------------------------------


class GbVerifyIn(Schema):
    code: str = Field(..., min_length=1, max_length=16, pattern=r"^\s*\d+\s*$")


@router.post("/groupbuy/pickups/verify", response=responses(GbPickupOut))
def verify(request: HttpRequest, payload: GbVerifyIn) -> Any:
    done = pickup.verify(current_user(request), payload.code)
    return _pickups(PickupOrder.objects.filter(pk=done.pk))[0]


@router.post("/groupbuy/pickups/lookup", response=responses(GbPickupOut))
def lookup(request: HttpRequest, payload: GbVerifyIn) -> Any:
    """What a code would hand over, before the leader confirms (same authorisation as verify)."""
    found = pickup.find_for_leader(leaders.approved_leader_of(current_user(request)), payload.code)
    return _pickups(PickupOrder.objects.filter(pk=found.pk))[0]


class GbLeaderOrdersFilter(GbMineFilter):
    batch_id: int | None = OPT_ID


@router.get("/groupbuy/leader/orders", response=responses(GbPickupPage))
def leader_orders(request: HttpRequest, filters: Query[GbLeaderOrdersFilter]) -> Any:
    leader = leaders.approved_leader_of(current_user(request))
    limit, offset = page_bounds(filters.limit, filters.offset)
    rows = PickupOrder.objects.filter(leader=leader).exclude(status=PickupStatus.AWAITING_PAYMENT).order_by("-id")
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.batch_id:
        rows = rows.filter(batch_id=filters.batch_id)
    return {"items": _pickups(rows[offset : offset + limit]), "count": rows.count()}


class GbPickProductOut(Schema):
    sku_id: int
    product_name: str
    quantity: int
    orders: int


class GbPickBuyerOut(Schema):
    code: str
    order_number: str
    buyer: str
    phone_tail: str
    status: str
    lines: list[tuple[str, int]]


class GbPickListOut(Schema):
    batch_id: int
    leader_id: int
    leader: str
    pickup_point: GbPointOut
    products: list[GbPickProductOut]
    buyers: list[GbPickBuyerOut]


def _pick_list(batch_id: int, leader_id: int) -> dict[str, Any]:
    data = batches.pick_list(batch_id, leader_id)
    return {
        "batch_id": batch_id,
        "leader_id": leader_id,
        "leader": data["leader"].name,
        "pickup_point": data["point"],
        "products": data["products"],
        "buyers": data["buyers"],
    }


class GbBatchFilter(Schema):
    batch_id: int = ID


@router.get("/groupbuy/leader/pick-list", response=responses(GbPickListOut))
def my_pick_list(request: HttpRequest, filters: Query[GbBatchFilter]) -> Any:
    leader = leaders.approved_leader_of(current_user(request))
    return _pick_list(filters.batch_id, leader.pk)


class GbShortageIn(Schema):
    sku_id: int = ID
    quantity: int = Field(..., ge=1, le=100_000)


class GbReceiveIn(Schema):
    batch_id: int = ID
    shortages: list[GbShortageIn] = Field(default_factory=list, max_length=200)


class GbDeliveryOut(Schema):
    id: int
    batch_id: int
    leader_id: int
    received_at: datetime
    shortages: list[GbShortageIn]


def _delivery(delivery: Any) -> dict[str, Any]:
    return {
        "id": delivery.pk,
        "batch_id": delivery.batch_id,
        "leader_id": delivery.leader_id,
        "received_at": delivery.received_at,
        "shortages": [{"sku_id": s.sku_id, "quantity": s.quantity} for s in delivery.shortages.all()],
    }


def _shortages(payload: GbReceiveIn) -> dict[int, int]:
    out: dict[int, int] = {}
    for s in payload.shortages:
        out[s.sku_id] = out.get(s.sku_id, 0) + s.quantity
    return out


@router.post("/groupbuy/leader/deliveries", response=responses(GbDeliveryOut, 201))
def leader_receive(request: HttpRequest, payload: GbReceiveIn) -> Any:
    user = current_user(request)
    leader = leaders.approved_leader_of(user)
    delivery = pickup.receive_delivery(user, payload.batch_id, leader.pk, _shortages(payload))
    return Status(201, _delivery(delivery))


class GbEarningsOut(Schema):
    frozen: int
    available: int
    withdrawn: int
    withdrawing: int
    debt: int
    earned: int


class GbLeaderMeOut(Schema):
    id: int
    name: str
    status: str
    level: str
    share_code: str
    pickup_point: GbPointOut
    members: int
    earnings: GbEarningsOut


@router.get("/groupbuy/leader/me", response=responses(GbLeaderMeOut))
def leader_me(request: HttpRequest) -> Any:
    user = current_user(request)
    leader = leaders.approved_leader_of(user)
    return {
        "id": leader.pk,
        "name": leader.name,
        "status": leader.status,
        "level": leader.level.name if leader.level else "",
        "share_code": leader.share_code,
        "pickup_point": leader.point,
        "members": MemberBinding.objects.filter(leader=leader).count(),
        "earnings": pickup.earnings(user.pk),
    }


class GbMemberOut(Schema):
    nickname: str
    phone: str
    bound_at: datetime


class GbMemberPage(Schema):
    items: list[GbMemberOut]
    count: int


class GbPageFilter(Schema):
    limit: int | None = Field(None, ge=1, le=100)
    offset: int | None = Field(None, ge=0, le=10**6)


@router.get("/groupbuy/leader/members", response=responses(GbMemberPage))
def leader_members(request: HttpRequest, filters: Query[GbPageFilter]) -> Any:
    leader = leaders.approved_leader_of(current_user(request))
    limit, offset = page_bounds(filters.limit, filters.offset)
    rows = MemberBinding.objects.filter(leader=leader).select_related("member").order_by("-bound_at")
    return {
        "items": [
            {"nickname": b.member.nickname, "phone": _mask(b.member.phone or ""), "bound_at": b.bound_at}
            for b in rows[offset : offset + limit]
        ],
        "count": rows.count(),
    }


def _mask(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 7 else phone


class GbCommissionOut(Schema):
    id: int
    order_number: str
    base_amount: int
    rate_bp: int | None
    amount: int
    reversed_amount: int
    status: str
    created_at: datetime
    unfreeze_at: datetime | None


class GbCommissionPage(Schema):
    items: list[GbCommissionOut]
    count: int


@router.get("/groupbuy/leader/commissions", response=responses(GbCommissionPage))
def leader_commissions(request: HttpRequest, filters: Query[GbPageFilter]) -> Any:
    user = current_user(request)
    leaders.approved_leader_of(user)
    limit, offset = page_bounds(filters.limit, filters.offset)
    rows = Commission.objects.filter(beneficiary=user, source=CommissionSource.LEADER)
    return {"items": list(rows[offset : offset + limit]), "count": rows.count()}


class GbWithdrawIn(Schema):
    amount: int = Field(..., ge=1, le=10**10)
    channel: Literal["wallet", "wechat", "alipay", "bank"]
    account: str = Field("", max_length=120)


class GbWithdrawalOut(Schema):
    id: int
    amount: int
    fee: int
    net: int
    channel: str
    status: str


@router.post("/groupbuy/leader/withdrawals", response=responses(GbWithdrawalOut, 201))
def leader_withdraw(request: HttpRequest, payload: GbWithdrawIn) -> Any:
    user = current_user(request)
    leaders.approved_leader_of(user)
    return Status(201, pickup.request_withdrawal(user, payload.amount, payload.channel, payload.account))


# --- operator -----------------------------------------------------------------------


class GbLeaderAdminOut(Schema):
    id: int
    user_id: int
    name: str
    phone: str
    id_number: str
    status: str
    reason: str
    level_id: int | None
    pickup_point: GbPointOut
    applied_at: datetime


def _can_see_id(user: User) -> bool:
    return bool(user.is_superuser or user.has_perm("groupbuy.view_leader_id_number"))


def _leader_admin(leader: Leader, full_id: bool) -> dict[str, Any]:
    return {
        "id": leader.pk,
        "user_id": leader.user_id,
        "name": leader.name,
        "phone": leader.phone,
        "id_number": leader.id_number if full_id else leader.id_number_masked,
        "status": leader.status,
        "reason": leader.reason,
        "level_id": leader.level_id,
        "pickup_point": leader.point,
        "applied_at": leader.applied_at,
    }


class GbLeaderFilter(GbPageFilter):
    status: LeaderStatus | None = None
    lat: float | None = Field(None, ge=-90, le=90)
    lng: float | None = Field(None, ge=-180, le=180)


class GbLeaderAdminPage(Schema):
    items: list[GbLeaderAdminOut]
    count: int


@admin_router.get("/groupbuy/leaders", response=responses(GbLeaderAdminPage))
def admin_leaders(request: HttpRequest, filters: Query[GbLeaderFilter]) -> Any:
    limit, offset = page_bounds(filters.limit, filters.offset)
    rows = Leader.objects.select_related("point").order_by("-id")
    if filters.status:
        rows = rows.filter(status=filters.status)
    full = _can_see_id(current_user(request))
    return {"items": [_leader_admin(le, full) for le in rows[offset : offset + limit]], "count": rows.count()}


@admin_router.get("/groupbuy/leaders/{leader_id}", response=responses(GbLeaderAdminOut))
def admin_leader(request: HttpRequest, leader_id: ObjectId) -> Any:
    leader = Leader.objects.select_related("point").filter(pk=leader_id).first()
    if leader is None:
        raise NotFound()
    return _leader_admin(leader, _can_see_id(current_user(request)))


class GbReasonIn(Schema):
    reason: str = Field("", max_length=200)


def _review(request: HttpRequest, leader_id: int, action: str, reason: str = "") -> Any:
    leader = leaders.review(current_user(request), leader_id, action, reason)
    return _leader_admin(Leader.objects.select_related("point").get(pk=leader.pk), _can_see_id(current_user(request)))


@admin_router.post("/groupbuy/leaders/{leader_id}/approve", response=responses(GbLeaderAdminOut))
def approve(request: HttpRequest, leader_id: ObjectId) -> Any:
    return _review(request, leader_id, "approve")


@admin_router.post("/groupbuy/leaders/{leader_id}/reject", response=responses(GbLeaderAdminOut))
def reject(request: HttpRequest, leader_id: ObjectId, payload: GbReasonIn) -> Any:
    return _review(request, leader_id, "reject", payload.reason)


@admin_router.post("/groupbuy/leaders/{leader_id}/suspend", response=responses(GbLeaderAdminOut))
def suspend(request: HttpRequest, leader_id: ObjectId, payload: GbReasonIn) -> Any:
    return _review(request, leader_id, "suspend", payload.reason)


@admin_router.post("/groupbuy/leaders/{leader_id}/reinstate", response=responses(GbLeaderAdminOut))
def reinstate(request: HttpRequest, leader_id: ObjectId) -> Any:
    return _review(request, leader_id, "reinstate")


class GbLevelIn(Schema):
    name: str = Field(..., min_length=1, max_length=32)
    rank: int = Field(0, ge=0, le=1000)
    rate_bp: int = Field(..., ge=0, le=10000)


class GbLevelOut(GbLevelIn):
    id: int


@admin_router.post("/groupbuy/levels", response=responses(GbLevelOut, 201))
def create_level(request: HttpRequest, payload: GbLevelIn) -> Any:
    return Status(201, leaders.save_level(current_user(request), payload.dict()))


class GbSetLevelIn(Schema):
    level_id: int | None = OPT_ID


@admin_router.put("/groupbuy/leaders/{leader_id}/level", response=responses(OkOut))
def set_level(request: HttpRequest, leader_id: ObjectId, payload: GbSetLevelIn) -> Any:
    leaders.set_level(current_user(request), leader_id, payload.level_id)
    return {"ok": True}


class GbRateIn(Schema):
    rate_bp: int | None = Field(..., ge=0, le=10000)


@admin_router.put("/groupbuy/product-rates/{product_id}", response=responses(OkOut))
def set_product_rate(request: HttpRequest, product_id: ObjectId, payload: GbRateIn) -> Any:
    leaders.set_product_rate(current_user(request), product_id, payload.rate_bp)
    return {"ok": True}


class GbBatchIn(Schema):
    name: str = Field(..., min_length=1, max_length=64)
    sale_starts_at: datetime
    cutoff_at: datetime
    delivery_date: date
    pickup_date: date


class GbBatchAdminOut(Schema):
    id: int
    name: str
    status: str
    sale_starts_at: datetime
    cutoff_at: datetime
    delivery_date: date
    pickup_date: date


@admin_router.post("/groupbuy/batches", response=responses(GbBatchAdminOut, 201))
def create_batch(request: HttpRequest, payload: GbBatchIn) -> Any:
    return Status(201, batches.create_batch(current_user(request), payload.dict()))


class GbItemIn(Schema):
    sku_id: int = ID
    group_price: int = Field(..., ge=1, le=10**9)
    per_person_limit: int = Field(5, ge=1, le=99)
    stock: int = Field(..., ge=1, le=10**7)
    sort: int = Field(0, ge=-1000, le=1000)


@admin_router.post("/groupbuy/batches/{batch_id}/items", response=responses(GbItemOut, 201))
def add_item(request: HttpRequest, batch_id: ObjectId, payload: GbItemIn) -> Any:
    item = batches.add_item(current_user(request), batch_id, payload.dict())
    return Status(
        201,
        {
            "id": item.pk,
            "sku_id": item.sku_id,
            "product_id": item.sku.product_id,
            "name": item.sku.product.name,
            "list_price": item.sku.price,
            "group_price": item.group_price,
            "per_person_limit": item.per_person_limit,
            "stock_left": item.stock_left,
        },
    )


BatchAction = Literal["cut-off", "purchasing", "delivering", "at-points", "close"]


@admin_router.post("/groupbuy/batches/{batch_id}/transitions/{action}", response=responses(GbBatchAdminOut))
def batch_action(request: HttpRequest, batch_id: ObjectId, action: BatchAction) -> Any:
    actor = current_user(request)
    if action == "cut-off":
        batch = Batch.objects.filter(pk=batch_id).first()
        if batch is None:
            raise NotFound()
        if not batches.cut_off(batch_id):
            raise Conflict(code="cut_off_not_due", fields={"status": [batch.status]})
        return Batch.objects.get(pk=batch_id)
    moves = {
        "purchasing": batches.start_purchasing,
        "delivering": batches.start_delivering,
        "at-points": pickup.mark_at_points,
        "close": batches.close_batch,
    }
    return moves[action](actor, batch_id)


@admin_router.get("/groupbuy/batches/{batch_id}/pick-lists/{leader_id}", response=responses(GbPickListOut))
def admin_pick_list(request: HttpRequest, batch_id: ObjectId, leader_id: ObjectId) -> Any:
    return _pick_list(batch_id, leader_id)


class GbSupplyOut(Schema):
    sku_id: int
    product_name: str
    quantity: int
    leaders: int


@admin_router.get("/groupbuy/batches/{batch_id}/supplier-summary", response=responses(list[GbSupplyOut]))
def admin_supplier_summary(request: HttpRequest, batch_id: ObjectId) -> Any:
    return batches.supplier_summary(batch_id)


class GbAdminReceiveIn(GbReceiveIn):
    leader_id: int = ID


@admin_router.post("/groupbuy/deliveries", response=responses(GbDeliveryOut, 201))
def admin_receive(request: HttpRequest, payload: GbAdminReceiveIn) -> Any:
    delivery = pickup.receive_delivery(current_user(request), payload.batch_id, payload.leader_id, _shortages(payload))
    return Status(201, _delivery(delivery))


class GbDecideIn(Schema):
    decision: Literal["refund", "keep"]


@admin_router.post("/groupbuy/pickups/{pickup_id}/decide", response=responses(GbPickupOut))
def decide(request: HttpRequest, pickup_id: ObjectId, payload: GbDecideIn) -> Any:
    done = pickup.decide_uncollected(current_user(request), pickup_id, payload.decision)
    return _pickups(PickupOrder.objects.filter(pk=done.pk))[0]
