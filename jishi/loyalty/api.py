"""REST endpoints (thin: parse, authorise, call a service, serialise)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from jishi.accounts.auth import buyer_auth, current_user, operator_auth
from jishi.accounts.models import User
from jishi.core.api import ObjectId, page_bounds, responses
from jishi.core.errors import NotFound

from . import levels, mall, points, red_packets, services, signin
from .conf import loyalty_settings
from .models import MallItem, MemberLevel, RedPacket, RedPacketBudget

router = Router(auth=buyer_auth)
admin_router = Router(auth=operator_auth)


# --- buyer: me, points, levels ------------------------------------------------------------


class MeOut(Schema):
    points: int
    level: str
    growth: int
    next_level_growth: int | None


@router.get("/loyalty/me", response=responses(MeOut))
def me(request: HttpRequest) -> Any:
    summary = services.member_summary(current_user(request))
    return {k: summary[k] for k in ("points", "level", "growth", "next_level_growth")}


class HistoryOut(Schema):
    amount: int
    kind: str
    label: str
    reference: str
    memo: str
    created_at: datetime


class HistoryPage(Schema):
    items: list[HistoryOut]


class LoyaltyPageIn(Schema):
    limit: int | None = Field(None, ge=1, le=100)
    offset: int | None = Field(None, ge=0, le=10**6)


@router.get("/loyalty/points/history", response=responses(HistoryPage))
def points_history(request: HttpRequest, page: Query[LoyaltyPageIn]) -> Any:
    limit, offset = page_bounds(page.limit, page.offset)
    return {"items": points.history(current_user(request).pk, limit=limit, offset=offset)}


class ExpiringOut(Schema):
    expires_at: datetime
    points: int


@router.get("/loyalty/points/expiring", response=responses(list[ExpiringOut]))
def points_expiring(request: HttpRequest) -> Any:
    return points.expiring_soon(current_user(request).pk)


class LevelOut(Schema):
    id: int
    name: str
    threshold: int
    discount_bp: int
    free_shipping: bool
    points_multiplier_bp: int
    description: str


@router.get("/loyalty/levels", response=responses(list[LevelOut]))
def level_list(request: HttpRequest) -> Any:
    return [level.as_dict() for level in levels.level_table()]


# --- sign-in ------------------------------------------------------------------------------


class SignInOut(Schema):
    points_awarded: int
    streak: int


@router.post("/loyalty/sign-in", response=responses(SignInOut))
def sign_in(request: HttpRequest) -> Any:
    row = signin.sign_in(current_user(request))
    return {"points_awarded": row.points, "streak": row.streak}


class CalendarIn(Schema):
    year: int | None = Field(None, ge=2000, le=2100)
    month: int | None = Field(None, ge=1, le=12)


class CalendarOut(Schema):
    year: int
    month: int
    signed_days: list[int]
    streak: int
    signed_today: bool
    next_points: int
    tiers: list[dict[str, int]]


@router.get("/loyalty/sign-in/calendar", response=responses(CalendarOut))
def sign_in_calendar(request: HttpRequest, q: Query[CalendarIn]) -> Any:
    today = timezone.localdate()
    cal = signin.month_calendar(current_user(request).pk, q.year or today.year, q.month or today.month)
    days = [d["day"].day for week in cal["weeks"] for d in week if d["in_month"] and d["signed"]]
    return {
        **{k: cal[k] for k in ("year", "month", "streak", "signed_today", "next_points", "tiers")},
        "signed_days": days,
    }


# --- points mall ----------------------------------------------------------------------------


class MallItemOut(Schema):
    id: int
    name: str
    description: str
    product_id: int
    sku_id: int
    points: int
    cash: int
    stock: int
    per_person_limit: int
    free_shipping: bool


def mall_item_body(item: MallItem) -> dict[str, Any]:
    return {
        "id": item.pk,
        "name": item.name,
        "description": item.description,
        "product_id": item.sku.product_id,
        "sku_id": item.sku_id,
        "points": item.points,
        "cash": item.cash,
        "stock": item.stock,
        "per_person_limit": item.per_person_limit,
        "free_shipping": item.free_shipping,
    }


@router.get("/loyalty/mall", response=responses(list[MallItemOut]))
def mall_list(request: HttpRequest) -> Any:
    return [mall_item_body(item) for item in mall.available_items()]


@router.get("/loyalty/mall/{item_id}", response=responses(MallItemOut))
def mall_detail(request: HttpRequest, item_id: ObjectId) -> Any:
    return mall_item_body(mall.get_item(item_id))


class RedeemIn(Schema):
    quantity: int = Field(1, ge=1, le=mall.MAX_QUANTITY)
    address_id: int | None = Field(None, ge=1, le=2**62)
    remark: str = Field("", max_length=200)


class RedeemOut(Schema):
    order_id: int
    number: str
    status: str
    payable: int
    points: int


@router.post("/loyalty/mall/{item_id}/redeem", response=responses(RedeemOut, 201))
def mall_redeem(request: HttpRequest, item_id: ObjectId, payload: RedeemIn) -> Any:
    order = mall.redeem(current_user(request), item_id, payload.quantity, payload.address_id, payload.remark)
    return Status(
        201,
        {
            "order_id": order.pk,
            "number": order.number,
            "status": order.status,
            "payable": order.payable,
            "points": order.meta["points_mall"]["points"],
        },
    )


# --- red packets -------------------------------------------------------------


class RedPacketOut(Schema):
    id: int
    amount: int
    reason: str
    status: str
    expires_at: datetime
    granted_at: datetime
    claimed_at: datetime | None


def packet_body(packet: RedPacket) -> dict[str, Any]:
    return {
        "id": packet.pk,
        "amount": packet.amount,
        "reason": packet.reason,
        "status": packet.status,
        "expires_at": packet.expires_at,
        "granted_at": packet.granted_at,
        "claimed_at": packet.claimed_at,
    }


@router.get("/loyalty/red-packets", response=responses(list[RedPacketOut]))
def red_packet_list(request: HttpRequest) -> Any:
    return [packet_body(p) for p in red_packets.packets_of(current_user(request))]


@router.post("/loyalty/red-packets/{packet_id}/claim", response=responses(RedPacketOut))
def red_packet_claim(request: HttpRequest, packet_id: ObjectId) -> Any:
    return packet_body(red_packets.claim(current_user(request), packet_id))


# --- operator --------------------------------------------------------------------------------


class TierIn(Schema):
    day: int = Field(..., ge=1, le=366)
    points: int = Field(..., ge=0, le=100_000)


class SettingsIn(Schema):
    points_per_yuan: int | None = Field(None, ge=0, le=1000)
    first_order_points: int | None = Field(None, ge=0, le=100_000)
    invite_points: int | None = Field(None, ge=0, le=100_000)
    post_points: int | None = Field(None, ge=0, le=100_000)
    review_points: int | None = Field(None, ge=0, le=100_000)
    content_points_daily_limit: int | None = Field(None, ge=0, le=1000)
    sign_in_tiers: list[TierIn] | None = Field(None, min_length=1, max_length=31)
    sign_in_reset: str | None = Field(None, pattern="^(weekly|monthly|never)$")
    expiry_mode: str | None = Field(None, pattern="^(never|year_end_next)$")
    expiry_notice_days: int | None = Field(None, ge=0, le=366)
    redeem_points_per_yuan: int | None = Field(None, ge=1, le=100_000)
    max_deduction_bp: int | None = Field(None, ge=0, le=10000)
    red_packet_valid_days: int | None = Field(None, ge=1, le=366)


class SettingsOut(Schema):
    points_per_yuan: int
    first_order_points: int
    invite_points: int
    post_points: int
    review_points: int
    content_points_daily_limit: int
    sign_in_tiers: list[dict[str, int]]
    sign_in_reset: str
    expiry_mode: str
    expiry_notice_days: int
    redeem_points_per_yuan: int
    max_deduction_bp: int
    red_packet_valid_days: int


def settings_body() -> dict[str, Any]:
    row = loyalty_settings()
    return {name: getattr(row, name) for name in services.SETTING_FIELDS}


@admin_router.get("/loyalty/settings", response=responses(SettingsOut))
def admin_settings(request: HttpRequest) -> Any:
    return settings_body()


@admin_router.put("/loyalty/settings", response=responses(SettingsOut))
def admin_update_settings(request: HttpRequest, payload: SettingsIn) -> Any:
    services.update_settings(current_user(request), payload.dict(exclude_none=True))
    return settings_body()


class LevelIn(Schema):
    name: str = Field(..., min_length=1, max_length=32)
    threshold: int = Field(..., ge=0, le=10**12)
    discount_bp: int = Field(0, ge=0, le=5000)
    free_shipping: bool = False
    points_multiplier_bp: int = Field(10000, ge=0, le=100_000)
    description: str = Field("", max_length=200)


def level_body(level: MemberLevel) -> dict[str, Any]:
    return {
        "id": level.pk,
        "name": level.name,
        "threshold": level.threshold,
        "discount_bp": level.discount_bp,
        "free_shipping": level.free_shipping,
        "points_multiplier_bp": level.points_multiplier_bp,
        "description": level.description,
    }


@admin_router.post("/loyalty/levels", response=responses(LevelOut, 201))
def admin_create_level(request: HttpRequest, payload: LevelIn) -> Any:
    return Status(201, level_body(services.save_level(current_user(request), payload.dict())))


@admin_router.put("/loyalty/levels/{level_id}", response=responses(LevelOut))
def admin_update_level(request: HttpRequest, level_id: ObjectId, payload: LevelIn) -> Any:
    return level_body(services.save_level(current_user(request), payload.dict(), level_id))


class AdjustIn(Schema):
    user_id: int = Field(..., ge=1, le=2**62)
    amount: int = Field(..., ge=-10_000_000, le=10_000_000, json_schema_extra={"not": {"const": 0}})
    reason: str = Field(..., min_length=1, max_length=120)


class AdjustOut(Schema):
    id: int
    user_id: int
    amount: int
    balance: int


@admin_router.post("/loyalty/points/adjustments", response=responses(AdjustOut, 201))
def admin_adjust_points(request: HttpRequest, payload: AdjustIn) -> Any:
    adjustment = services.adjust_points(current_user(request), payload.user_id, payload.amount, payload.reason)
    return Status(
        201,
        {
            "id": adjustment.pk,
            "user_id": adjustment.user_id,
            "amount": adjustment.amount,
            "balance": points.balance(adjustment.user_id),
        },
    )


class MallItemIn(Schema):
    name: str = Field(..., min_length=1, max_length=120)
    sku_id: int = Field(..., ge=1, le=2**62)
    points: int = Field(..., ge=1, le=10**9)
    cash: int = Field(0, ge=0, le=10**9)
    stock: int = Field(0, ge=0, le=10**7)
    per_person_limit: int = Field(0, ge=0, le=10**4)
    free_shipping: bool = True
    is_active: bool = True
    sort: int = Field(0, ge=-(10**6), le=10**6)
    description: str = Field("", max_length=200)


@admin_router.post("/loyalty/mall", response=responses(MallItemOut, 201))
def admin_create_mall_item(request: HttpRequest, payload: MallItemIn) -> Any:
    item = services.save_mall_item(current_user(request), payload.dict())
    return Status(201, mall_item_body(item))


@admin_router.put("/loyalty/mall/{item_id}", response=responses(MallItemOut))
def admin_update_mall_item(request: HttpRequest, item_id: ObjectId, payload: MallItemIn) -> Any:
    return mall_item_body(services.save_mall_item(current_user(request), payload.dict(), item_id))


class BudgetIn(Schema):
    code: str = Field(..., min_length=1, max_length=40, pattern=r"^[-a-zA-Z0-9_]+$")
    name: str = Field(..., min_length=1, max_length=60)


class BudgetOut(Schema):
    id: int
    code: str
    name: str
    funded: int
    remaining: int
    is_active: bool


def budget_body(budget: RedPacketBudget) -> dict[str, Any]:
    return {
        "id": budget.pk,
        "code": budget.code,
        "name": budget.name,
        "funded": budget.funded,
        "remaining": budget.remaining,
        "is_active": budget.is_active,
    }


@admin_router.post("/loyalty/budgets", response=responses(BudgetOut, 201))
def admin_create_budget(request: HttpRequest, payload: BudgetIn) -> Any:
    return Status(201, budget_body(red_packets.create_budget(current_user(request), payload.code, payload.name)))


class FundIn(Schema):
    amount: int = Field(..., ge=1, le=10**11)
    note: str = Field("", max_length=120)
    key: str = Field(..., min_length=1, max_length=80, description="重复提交同一 key 只注资一次")


@admin_router.post("/loyalty/budgets/{budget_id}/fund", response=responses(BudgetOut))
def admin_fund_budget(request: HttpRequest, budget_id: ObjectId, payload: FundIn) -> Any:
    budget = red_packets.fund_budget(current_user(request), budget_id, payload.amount, payload.key, payload.note)
    return budget_body(budget)


class GrantIn(Schema):
    user_id: int = Field(..., ge=1, le=2**62)
    budget_id: int = Field(..., ge=1, le=2**62)
    amount: int = Field(..., ge=1, le=10**8)
    reason: str = Field(..., min_length=1, max_length=120)
    key: str = Field(..., min_length=1, max_length=80, description="同一 key 只发放一次")
    valid_days: int | None = Field(None, ge=1, le=366)


@admin_router.post("/loyalty/red-packets", response=responses(RedPacketOut, 201))
def admin_grant_red_packet(request: HttpRequest, payload: GrantIn) -> Any:
    user = User.objects.filter(pk=payload.user_id).first()
    if user is None:
        raise NotFound(code="user_not_found")
    packet = red_packets.grant_red_packet(
        user,
        payload.amount,
        payload.budget_id,
        payload.reason,
        f"operator:{payload.key}",
        valid_days=payload.valid_days,
        actor=current_user(request),
    )
    return Status(201, packet_body(packet))


class LiabilityOut(Schema):
    outstanding: int
    value: int
    holders: int
    rate: int
    due_now: int
    buckets: list[dict[str, Any]]


@admin_router.get("/loyalty/liability", response=responses(LiabilityOut))
def admin_liability(request: HttpRequest) -> Any:
    report = services.liability_report()
    report["buckets"] = [{"label": str(b["label"]), "points": b["points"]} for b in report["buckets"]]
    return report
