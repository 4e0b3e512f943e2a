"""Promoter centre, binding, withdrawals; operator rules, promoter review and payouts."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status

from jishi.accounts.auth import buyer_auth, current_user, operator_auth
from jishi.catalog.services import get_product
from jishi.commission import services as commission
from jishi.commission.models import Commission, CommissionSource, Withdrawal, WithdrawalChannel
from jishi.core.api import BasisPoints, ObjectId, page_bounds, responses
from jishi.core.errors import NotFound

from . import poster, services
from .models import BindingMode, JoinMode, Promoter

router = Router(auth=buyer_auth)
admin_router = Router(auth=operator_auth)


class CentreOut(Schema):
    code: str
    status: str
    level: str
    frozen: int
    available: int
    withdrawn: int
    withdrawing: int
    debt: int
    team: dict[str, int]


@router.get("/distribution/me", response=responses(CentreOut))
def me(request: HttpRequest) -> Any:
    return services.centre(current_user(request))


class PromoterOut(Schema):
    code: str
    status: str


@router.post("/distribution/apply", response=responses(PromoterOut))
def apply(request: HttpRequest) -> Any:
    promoter = services.apply(current_user(request))
    return {"code": promoter.code, "status": promoter.status}


class BindIn(Schema):
    code: str = Field(..., min_length=4, max_length=16)
    source: Literal["link", "qr", "code"] = "code"


class BindOut(Schema):
    promoter_code: str
    bound_at: datetime
    expires_at: datetime | None
    changed: bool


@router.post("/distribution/bind", response=responses(BindOut))
def bind(request: HttpRequest, payload: BindIn) -> Any:
    binding, changed = services.bind(current_user(request), payload.code, payload.source)
    code = Promoter.objects.filter(user_id=binding.promoter_id).values_list("code", flat=True).first() or ""
    return {"promoter_code": code, "bound_at": binding.bound_at, "expires_at": binding.expires_at, "changed": changed}


class TeamMemberOut(Schema):
    nickname: str
    phone: str
    bound_at: datetime


class TeamPage(Schema):
    items: list[TeamMemberOut]
    count: int


class TeamFilter(Schema):
    level: int = Field(1, ge=1, le=3)
    limit: int | None = Field(None, ge=1, le=100)
    offset: int | None = Field(None, ge=0, le=10**6)


@router.get("/distribution/team", response=responses(TeamPage))
def team(request: HttpRequest, filters: Query[TeamFilter]) -> Any:
    limit, offset = page_bounds(filters.limit, filters.offset)
    items, count = services.team_members(current_user(request).pk, filters.level, limit, offset)
    return {"items": items, "count": count}


class CommissionOut(Schema):
    id: int
    order_number: str
    level: int
    base_amount: int
    amount: int
    reversed_amount: int
    status: str
    created_at: datetime
    unfreeze_at: datetime | None


class CommissionPage(Schema):
    items: list[CommissionOut]
    count: int


class PageFilter(Schema):
    status: str | None = Field(None, max_length=16)
    limit: int | None = Field(None, ge=1, le=100)
    offset: int | None = Field(None, ge=0, le=10**6)


@router.get("/distribution/commissions", response=responses(CommissionPage))
def commissions(request: HttpRequest, filters: Query[PageFilter]) -> Any:
    limit, offset = page_bounds(filters.limit, filters.offset)
    rows = Commission.objects.filter(beneficiary=current_user(request), source=CommissionSource.DISTRIBUTION)
    if filters.status:
        rows = rows.filter(status=filters.status)
    return {"items": list(rows[offset : offset + limit]), "count": rows.count()}


class WithdrawIn(Schema):
    amount: int = Field(..., ge=1, le=10**10)
    channel: WithdrawalChannel
    account: str = Field("", max_length=120)


class WithdrawalOut(Schema):
    id: int
    amount: int
    fee: int
    net: int
    channel: str
    status: str
    reference: str
    reject_reason: str
    created_at: datetime


class WithdrawalPage(Schema):
    items: list[WithdrawalOut]
    count: int


@router.post("/distribution/withdrawals", response=responses(WithdrawalOut, 201))
def withdraw(request: HttpRequest, payload: WithdrawIn) -> Any:
    w = services.request_withdrawal(current_user(request), payload.amount, payload.channel, payload.account)
    return Status(201, w)


@router.get("/distribution/withdrawals", response=responses(WithdrawalPage))
def my_withdrawals(request: HttpRequest, filters: Query[PageFilter]) -> Any:
    limit, offset = page_bounds(filters.limit, filters.offset)
    rows = Withdrawal.objects.filter(user=current_user(request))
    if filters.status:
        rows = rows.filter(status=filters.status)
    return {"items": list(rows[offset : offset + limit]), "count": rows.count()}


class PosterFilter(Schema):
    product_id: int | None = Field(None, ge=1, le=2**62)


def poster_png(request: HttpRequest, product_id: int | None) -> bytes:
    promoter = Promoter.objects.filter(user=current_user(request), status="active").first()
    if promoter is None:
        raise NotFound(code="not_promoter")
    product = get_product(product_id, published_only=True) if product_id else None
    path = f"/p/{product.pk}/" if product else "/"
    share_url = request.build_absolute_uri(f"{path}?ref={promoter.code}")
    return poster.promoter_poster(promoter.code, product, share_url)


@router.get(
    "/distribution/poster",
    response=responses(None),
    openapi_extra={"responses": {200: {"description": "PNG poster", "content": {"image/png": {}}}}},
)
def share_poster(request: HttpRequest, filters: Query[PosterFilter]) -> HttpResponse:
    response = HttpResponse(poster_png(request, filters.product_id), content_type="image/png")
    response["Content-Disposition"] = 'attachment; filename="jishi-poster.png"'
    return response


# --- operator -----------------------------------------------------------------------


class SettingsIO(Schema):
    enabled: bool = True
    levels: int = Field(2, ge=1, le=3)
    rates_bp: list[BasisPoints] = Field([1000, 500, 200], min_length=1, max_length=3)
    freeze_days: int = Field(7, ge=0, le=365)
    binding: BindingMode = BindingMode.PERMANENT
    binding_days: int = Field(30, ge=1, le=3650)
    join: JoinMode = JoinMode.EVERYONE
    join_spend: int = Field(0, ge=0, le=10**12)
    self_purchase: bool = False
    withdrawal_min: int = Field(1000, ge=0, le=10**10)
    withdrawal_fee_bp: int = Field(0, ge=0, le=9999)


class SettingsPatch(Schema):
    enabled: bool | None = None
    levels: int | None = Field(None, ge=1, le=10)
    rates_bp: list[BasisPoints] | None = Field(None, min_length=1, max_length=10)
    freeze_days: int | None = Field(None, ge=0, le=365)
    binding: BindingMode | None = None
    binding_days: int | None = Field(None, ge=1, le=3650)
    join: JoinMode | None = None
    join_spend: int | None = Field(None, ge=0, le=10**12)
    self_purchase: bool | None = None
    withdrawal_min: int | None = Field(None, ge=0, le=10**10)
    withdrawal_fee_bp: int | None = Field(None, ge=0, le=9999)


@admin_router.get("/distribution/settings", response=responses(SettingsIO))
def get_rules(request: HttpRequest) -> Any:
    return services.settings_dict(services.get_settings())


@admin_router.put("/distribution/settings", response=responses(SettingsIO))
def put_rules(request: HttpRequest, payload: SettingsPatch) -> Any:
    row = services.update_settings(current_user(request), payload.dict(exclude_unset=True))
    return services.settings_dict(row)


class AdminPromoterOut(Schema):
    id: int
    user_id: int
    phone: str | None
    code: str
    status: str
    level_id: int | None


def promoter_body(p: Promoter) -> dict[str, Any]:
    return {
        "id": p.pk,
        "user_id": p.user_id,
        "phone": p.user.phone,
        "code": p.code,
        "status": p.status,
        "level_id": p.level_id,
    }


class PromoterPage(Schema):
    items: list[AdminPromoterOut]
    count: int


@admin_router.get("/distribution/promoters", response=responses(PromoterPage))
def list_promoters(request: HttpRequest, filters: Query[PageFilter]) -> Any:
    limit, offset = page_bounds(filters.limit, filters.offset)
    rows = Promoter.objects.select_related("user")
    if filters.status:
        rows = rows.filter(status=filters.status)
    return {"items": [promoter_body(p) for p in rows[offset : offset + limit]], "count": rows.count()}


class ReviewIn(Schema):
    note: str = Field("", max_length=200)


def _review_endpoint(action: str) -> None:
    def review_promoter(request: HttpRequest, promoter_id: ObjectId, payload: ReviewIn | None = None) -> Any:
        note = payload.note if payload else ""
        return promoter_body(services.review(current_user(request), promoter_id, action, note))

    review_promoter.__name__ = f"{action}_promoter"
    admin_router.post(f"/distribution/promoters/{{promoter_id}}/{action}", response=responses(AdminPromoterOut))(
        review_promoter
    )


for _action in ("approve", "reject", "freeze", "unfreeze"):
    _review_endpoint(_action)


class PromoterLevelIn(Schema):
    level_id: int | None = Field(None, ge=1, le=2**62)


@admin_router.put("/distribution/promoters/{promoter_id}/level", response=responses(AdminPromoterOut))
def set_promoter_level(request: HttpRequest, promoter_id: ObjectId, payload: PromoterLevelIn) -> Any:
    return promoter_body(services.set_level(current_user(request), promoter_id, payload.level_id))


class ApproveWithdrawalIn(Schema):
    reference: str = Field("", max_length=64)


class RejectWithdrawalIn(Schema):
    reason: str = Field(..., min_length=1, max_length=200)


@admin_router.get("/distribution/withdrawals", response=responses(WithdrawalPage))
def all_withdrawals(request: HttpRequest, filters: Query[PageFilter]) -> Any:
    limit, offset = page_bounds(filters.limit, filters.offset)
    rows = Withdrawal.objects.all()
    if filters.status:
        rows = rows.filter(status=filters.status)
    return {"items": list(rows[offset : offset + limit]), "count": rows.count()}


@admin_router.post("/distribution/withdrawals/{withdrawal_id}/approve", response=responses(WithdrawalOut))
def approve_withdrawal(
    request: HttpRequest, withdrawal_id: ObjectId, payload: ApproveWithdrawalIn | None = None
) -> Any:
    return commission.approve_withdrawal(current_user(request), withdrawal_id, payload.reference if payload else "")


@admin_router.post("/distribution/withdrawals/{withdrawal_id}/reject", response=responses(WithdrawalOut))
def reject_withdrawal(request: HttpRequest, withdrawal_id: ObjectId, payload: RejectWithdrawalIn) -> Any:
    return commission.reject_withdrawal(current_user(request), withdrawal_id, payload.reason)


class LeaderOut(Schema):
    user_id: int
    nickname: str
    phone: str
    earned: int
    sales: int


class LeaderFilter(Schema):
    days: int = Field(30, ge=0, le=3650)
    limit: int = Field(20, ge=1, le=100)


@admin_router.get("/distribution/leaderboard", response=responses(list[LeaderOut]))
def leaderboard(request: HttpRequest, filters: Query[LeaderFilter]) -> Any:
    return services.leaderboard(filters.days, filters.limit)


class BindingHistoryOut(Schema):
    promoter: str | None
    source: str
    action: str
    at: datetime


class BindingLookupOut(Schema):
    buyer: str | None
    promoter: str | None
    bound_at: datetime | None
    expires_at: datetime | None
    history: list[BindingHistoryOut]
    team: dict[str, int]


class PhoneFilter(Schema):
    phone: str = Field(..., min_length=5, max_length=20)


@admin_router.get("/distribution/bindings", response=responses(BindingLookupOut))
def binding_lookup(request: HttpRequest, filters: Query[PhoneFilter]) -> Any:
    return services.binding_lookup(filters.phone)
