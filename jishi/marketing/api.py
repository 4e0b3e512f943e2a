"""REST endpoints (thin: parse, authorise, call a service, serialise)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from jishi.accounts.auth import TokenAuth, buyer_auth, current_user, operator_auth
from jishi.accounts.models import User
from jishi.core.api import Id, ObjectId, responses
from jishi.core.errors import NotFound
from jishi.orders.api import OrderSummary, summary

from . import bargains, coupons, flash, groups
from .models import Bargain, BargainCampaign, CouponKind, CouponScope, CouponTemplate, Group, GroupBuyCampaign

router = Router(auth=buyer_auth)
admin_router = Router(auth=operator_auth)

ID = Field(..., ge=1, le=2**62)
OPT_ID = Field(None, ge=1, le=2**62)
MONEY = Field(..., ge=0, le=10**10)


# --- coupons ------------------------------------------------------------------------------


class TemplateOut(Schema):
    id: int
    name: str
    kind: str
    rule: str
    amount: int
    percent_off_bp: int
    max_discount: int
    min_spend: int
    scope: str
    category_ids: list[int]
    product_ids: list[int]
    valid_from: datetime | None
    valid_until: datetime | None
    valid_days: int
    per_person_limit: int
    new_member_only: bool
    stack_with_coupons: bool
    stack_with_activity: bool
    remaining: int


class OfferOut(TemplateOut):
    held: int
    can_claim: bool
    reason: str | None


class OfferList(Schema):
    items: list[OfferOut]


class CouponOut(Schema):
    id: int
    template: TemplateOut
    status: str
    source: str
    valid_from: datetime
    valid_until: datetime
    order_id: int | None
    claimed_at: datetime


class CouponList(Schema):
    items: list[CouponOut]


def template_body(t: CouponTemplate) -> dict[str, Any]:
    return {
        "id": t.pk,
        "name": t.name,
        "kind": t.kind,
        "rule": coupons.describe(t),
        "amount": t.amount,
        "percent_off_bp": t.percent_off_bp,
        "max_discount": t.max_discount,
        "min_spend": t.min_spend,
        "scope": t.scope,
        "category_ids": t.category_ids,
        "product_ids": t.product_ids,
        "valid_from": t.valid_from,
        "valid_until": t.valid_until,
        "valid_days": t.valid_days,
        "per_person_limit": t.per_person_limit,
        "new_member_only": t.new_member_only,
        "stack_with_coupons": t.stack_with_coupons,
        "stack_with_activity": t.stack_with_activity,
        "remaining": t.total_quantity - t.issued,
    }


def coupon_body(c: Any, now: datetime) -> dict[str, Any]:
    return {
        "id": c.pk,
        "template": template_body(c.template),
        "status": coupons.effective_status(c, now),
        "source": c.source,
        "valid_from": c.valid_from,
        "valid_until": c.valid_until,
        "order_id": c.order_id,
        "claimed_at": c.claimed_at,
    }


@router.get("/coupons/available", response=responses(OfferList))
def available_coupons(request: HttpRequest) -> Any:
    user = current_user(request)
    coupons.ensure_new_member_coupons(user)
    items = [
        {**template_body(o.template), "held": o.held, "can_claim": o.can_claim, "reason": o.problem}
        for o in coupons.available(user)
    ]
    return {"items": items}


@router.post("/coupons/{template_id}/claim", response=responses(CouponOut, 201))
def claim_coupon(request: HttpRequest, template_id: ObjectId) -> Any:
    coupon = coupons.claim(current_user(request), template_id)
    return Status(201, coupon_body(coupon, timezone.now()))


class MineFilter(Schema):
    status: Literal["unused", "used", "expired"] | None = None


@router.get("/coupons/mine", response=responses(CouponList))
def my_coupons(request: HttpRequest, filters: Query[MineFilter]) -> Any:
    user = current_user(request)
    coupons.ensure_new_member_coupons(user)
    now = timezone.now()
    return {"items": [coupon_body(c, now) for c in coupons.mine(user, filters.status, now)]}


# --- flash sales --------------------------------------------------------------------------


class FlashItemOut(Schema):
    id: int
    session_id: int
    sku_id: int
    product_id: int
    name: str
    price: int
    flash_price: int
    stock_left: int
    total_stock: int
    per_person_limit: int
    live: bool
    starts_at: datetime
    ends_at: datetime


class FlashSessionOut(Schema):
    id: int
    name: str
    starts_at: datetime
    ends_at: datetime
    live: bool
    item_ids: list[int]


class FlashCurrentOut(Schema):
    items: list[FlashItemOut]
    upcoming: list[FlashItemOut]
    sessions: list[FlashSessionOut]


def _flash_item(item: Any, view: flash.SessionView) -> dict[str, Any]:
    return {
        "id": item.pk,
        "session_id": item.session_id,
        "sku_id": item.sku_id,
        "product_id": item.sku.product_id,
        "name": item.sku.product.name,
        "price": item.sku.price,
        "flash_price": item.flash_price,
        "stock_left": item.stock_left,
        "total_stock": item.total_stock,
        "per_person_limit": item.per_person_limit,
        "live": view.live,
        "starts_at": view.starts_at,
        "ends_at": view.ends_at,
    }


@router.get("/flash-sales/current", response=responses(FlashCurrentOut), auth=None)
def current_flash_sales(request: HttpRequest) -> Any:
    views = flash.current_sessions()
    return {
        "items": [_flash_item(i, v) for v in views if v.live for i in v.items],
        "upcoming": [_flash_item(i, v) for v in views if not v.live for i in v.items],
        "sessions": [
            {
                "id": v.session.pk,
                "name": v.session.name,
                "starts_at": v.starts_at,
                "ends_at": v.ends_at,
                "live": v.live,
                "item_ids": [i.pk for i in v.items],
            }
            for v in views
        ],
    }


class CampaignOrderIn(Schema):
    quantity: int = Field(1, ge=1, le=99)
    address_id: int | None = OPT_ID
    coupon_ids: list[Id] | None = Field(None, max_length=10)


class FlashBuyerAuth(TokenAuth):
    """A bearer token, except that an item this process just saw sell out is refused before
    the token is looked up: at a sale's peak almost every attempt is such a refusal.

    ``FlashSoldOutMiddleware`` has already asked for attempts without an Idempotency-Key;
    only keyed ones (which it lets through for replays) are asked here."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        if "HTTP_IDEMPOTENCY_KEY" not in request.META:
            return super().authenticate(request, token)
        match = request.resolver_match
        item_id = match.kwargs.get("item_id") if match else None
        if item_id is not None and str(item_id).isdigit() and flash.known_sold_out(int(item_id)):
            raise flash.FlashSoldOut()
        return super().authenticate(request, token)


@router.post("/flash-sales/{item_id}/orders", response=responses(OrderSummary, 201), auth=FlashBuyerAuth())
def buy_flash(request: HttpRequest, item_id: ObjectId, payload: CampaignOrderIn) -> Any:
    order = flash.buy(current_user(request), item_id, payload.quantity, payload.address_id, payload.coupon_ids)
    return Status(201, summary(order))


# --- 拼团 ----------------------------------------------------------------------------------


class GroupOut(Schema):
    id: int
    campaign_id: int
    leader: str
    status: str
    size: int
    seats_taken: int
    paid_count: int
    seats_left: int
    expires_at: datetime | None
    share_url: str


class GroupCampaignOut(Schema):
    id: int
    name: str
    sku_id: int
    product_id: int
    product_name: str
    price: int
    group_price: int
    group_size: int
    time_limit_hours: int
    ends_at: datetime
    groups: list[GroupOut]


class GroupCampaignList(Schema):
    items: list[GroupCampaignOut]


class GroupOrderOut(Schema):
    group: GroupOut
    order: OrderSummary


class MyGroupOut(Schema):
    group: GroupOut
    member_status: str
    is_leader: bool
    order_id: int | None
    product_name: str


class MyGroupList(Schema):
    items: list[MyGroupOut]


def masked_name(user: User) -> str:
    name = user.nickname or user.phone or user.username
    return name[:1] + "**" if len(name) > 1 else name


def group_body(g: Group) -> dict[str, Any]:
    return {
        "id": g.pk,
        "campaign_id": g.campaign_id,
        "leader": masked_name(g.leader),
        "status": g.status,
        "size": g.size,
        "seats_taken": g.seats_taken,
        "paid_count": g.paid_count,
        "seats_left": g.size - g.seats_taken,
        "expires_at": g.expires_at,
        "share_url": f"/group/{g.share_code}/",
    }


def campaign_body(c: GroupBuyCampaign, open_groups: list[Group]) -> dict[str, Any]:
    return {
        "id": c.pk,
        "name": c.name,
        "sku_id": c.sku_id,
        "product_id": c.sku.product_id,
        "product_name": c.sku.product.name,
        "price": c.sku.price,
        "group_price": c.group_price,
        "group_size": c.group_size,
        "time_limit_hours": c.time_limit_hours,
        "ends_at": c.ends_at,
        "groups": [group_body(g) for g in open_groups],
    }


@router.get("/group-buys", response=responses(GroupCampaignList))
def list_group_buys(request: HttpRequest) -> Any:
    return {"items": [campaign_body(c, gs) for c, gs in groups.running_campaigns()]}


@router.get("/group-buys/mine", response=responses(MyGroupList))
def my_group_buys(request: HttpRequest) -> Any:
    return {
        "items": [
            {
                "group": group_body(m.group),
                "member_status": m.status,
                "is_leader": m.is_leader,
                "order_id": m.order_id,
                "product_name": m.group.campaign.sku.product.name,
            }
            for m in groups.my_groups(current_user(request))
        ]
    }


@router.get("/group-buys/groups/{group_id}", response=responses(GroupOut))
def get_group(request: HttpRequest, group_id: ObjectId) -> Any:
    return group_body(groups.get_group(group_id))


@router.post("/group-buys/{campaign_id}/groups", response=responses(GroupOrderOut, 201))
def open_group(request: HttpRequest, campaign_id: ObjectId, payload: CampaignOrderIn) -> Any:
    group, order = groups.open_group(
        current_user(request), campaign_id, payload.address_id, payload.quantity, payload.coupon_ids
    )
    group.refresh_from_db()
    return Status(201, {"group": group_body(group), "order": summary(order)})


@router.post("/group-buys/groups/{group_id}/join", response=responses(GroupOrderOut, 201))
def join_group(request: HttpRequest, group_id: ObjectId, payload: CampaignOrderIn) -> Any:
    group, order = groups.join_group(
        current_user(request), group_id, payload.address_id, payload.quantity, payload.coupon_ids
    )
    return Status(201, {"group": group_body(group), "order": summary(order)})


# --- bargain ------------------------------------------------------------------------------


class BargainCampaignOut(Schema):
    id: int
    name: str
    sku_id: int
    product_id: int
    product_name: str
    price: int
    floor_price: int
    helpers_needed: int
    ends_at: datetime


class BargainCampaignList(Schema):
    items: list[BargainCampaignOut]


class HelpOut(Schema):
    helper: str
    amount: int
    created_at: datetime


class BargainOut(Schema):
    id: int
    campaign_id: int
    product_name: str
    starter: str
    mine: bool
    original_price: int
    floor_price: int
    current_price: int
    helpers_needed: int
    helper_count: int
    status: str
    expires_at: datetime
    order_id: int | None
    helps: list[HelpOut]


class BargainList(Schema):
    items: list[BargainOut]


class CutOut(Schema):
    amount: int
    bargain: BargainOut


def bargain_campaign_body(c: BargainCampaign) -> dict[str, Any]:
    return {
        "id": c.pk,
        "name": c.name,
        "sku_id": c.sku_id,
        "product_id": c.sku.product_id,
        "product_name": c.sku.product.name,
        "price": c.sku.price,
        "floor_price": c.floor_price,
        "helpers_needed": c.helpers_needed,
        "ends_at": c.ends_at,
    }


def bargain_body(b: Bargain, viewer: User) -> dict[str, Any]:
    mine = b.user_id == viewer.pk
    return {
        "id": b.pk,
        "campaign_id": b.campaign_id,
        "product_name": b.campaign.sku.product.name,
        "starter": masked_name(b.user),
        "mine": mine,
        "original_price": b.original_price,
        "floor_price": b.floor_price,
        "current_price": b.current_price,
        "helpers_needed": b.helpers_needed,
        "helper_count": b.helper_count,
        "status": b.status,
        "expires_at": b.expires_at,
        "order_id": b.order_id if mine else None,
        "helps": [
            {"helper": masked_name(h.helper), "amount": h.amount, "created_at": h.created_at}
            for h in b.helps.select_related("helper")
        ],
    }


@router.get("/bargains/campaigns", response=responses(BargainCampaignList))
def list_bargain_campaigns(request: HttpRequest) -> Any:
    now = timezone.now()
    rows = BargainCampaign.objects.filter(is_active=True, starts_at__lte=now, ends_at__gt=now).select_related(
        "sku__product"
    )
    return {"items": [bargain_campaign_body(c) for c in rows]}


@router.post("/bargains/campaigns/{campaign_id}/start", response=responses(BargainOut, 201))
def start_bargain(request: HttpRequest, campaign_id: ObjectId) -> Any:
    user = current_user(request)
    bargain = bargains.start(user, campaign_id)
    return Status(201, bargain_body(bargains.get_bargain(bargain.pk), user))


@router.get("/bargains/mine", response=responses(BargainList))
def my_bargains(request: HttpRequest) -> Any:
    user = current_user(request)
    rows = Bargain.objects.filter(user=user).select_related("campaign__sku__product", "user")[:50]
    return {"items": [bargain_body(b, user) for b in rows]}


@router.get("/bargains/{bargain_id}", response=responses(BargainOut))
def get_bargain(request: HttpRequest, bargain_id: ObjectId) -> Any:
    return bargain_body(bargains.get_bargain(bargain_id), current_user(request))


@router.post("/bargains/{bargain_id}/help", response=responses(CutOut, 201))
def help_bargain(request: HttpRequest, bargain_id: ObjectId) -> Any:
    user = current_user(request)
    cut = bargains.help_cut(user, bargain_id)
    return Status(201, {"amount": cut.amount, "bargain": bargain_body(bargains.get_bargain(bargain_id), user)})


class BargainOrderIn(Schema):
    address_id: int | None = OPT_ID
    coupon_ids: list[Id] | None = Field(None, max_length=10)


@router.post("/bargains/{bargain_id}/orders", response=responses(OrderSummary, 201))
def buy_bargain(request: HttpRequest, bargain_id: ObjectId, payload: BargainOrderIn) -> Any:
    order = bargains.buy(current_user(request), bargain_id, payload.address_id, payload.coupon_ids)
    return Status(201, summary(order))


# --- operator -----------------------------------------------------------------------------


class TemplateIn(Schema):
    name: str = Field(..., min_length=1, max_length=64)
    kind: CouponKind
    amount: int = Field(0, ge=0, le=10**9)
    percent_off_bp: int = Field(0, ge=0, le=9999)
    max_discount: int = Field(0, ge=0, le=10**9)
    min_spend: int = Field(0, ge=0, le=10**10)
    scope: CouponScope = CouponScope.ALL
    category_ids: list[Id] = Field(default_factory=list, max_length=200)
    product_ids: list[Id] = Field(default_factory=list, max_length=500)
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    valid_days: int = Field(0, ge=0, le=3650)
    claim_starts_at: datetime | None = None
    claim_ends_at: datetime | None = None
    total_quantity: int = Field(..., ge=1, le=10**8)
    per_person_limit: int = Field(1, ge=1, le=100)
    new_member_only: bool = False
    auto_issue_new_member: bool = False
    claimable: bool = True
    stack_with_coupons: bool = False
    stack_with_activity: bool = False
    is_active: bool = True


class TemplateStatsOut(TemplateOut):
    total_quantity: int
    issued: int
    used: int
    is_active: bool


class TemplateStatsList(Schema):
    items: list[TemplateStatsOut]


def template_stats(t: CouponTemplate) -> dict[str, Any]:
    return {
        **template_body(t),
        "total_quantity": t.total_quantity,
        "issued": t.issued,
        "used": t.used,
        "is_active": t.is_active,
    }


@admin_router.get("/coupons/templates", response=responses(TemplateStatsList))
def admin_list_templates(request: HttpRequest) -> Any:
    return {"items": [template_stats(t) for t in CouponTemplate.objects.order_by("-id")[:200]]}


@admin_router.post("/coupons/templates", response=responses(TemplateStatsOut, 201))
def admin_create_template(request: HttpRequest, payload: TemplateIn) -> Any:
    return Status(201, template_stats(coupons.save_template(current_user(request), payload.dict())))


@admin_router.put("/coupons/templates/{template_id}", response=responses(TemplateStatsOut))
def admin_update_template(request: HttpRequest, template_id: ObjectId, payload: TemplateIn) -> Any:
    return template_stats(coupons.save_template(current_user(request), payload.dict(), template_id))


class IssueIn(Schema):
    user_ids: list[Id] = Field(default_factory=list, max_length=10_000)
    phones: list[str] = Field(default_factory=list, max_length=10_000)


class IssueOut(Schema):
    issued: int
    skipped: int


@admin_router.post("/coupons/templates/{template_id}/issue", response=responses(IssueOut))
def admin_issue(request: HttpRequest, template_id: ObjectId, payload: IssueIn) -> Any:
    ids = set(payload.user_ids)
    if payload.phones:
        ids |= set(User.objects.filter(phone__in=payload.phones).values_list("pk", flat=True))
    return coupons.issue_to_segment(current_user(request), template_id, ids)


class SessionIn(Schema):
    name: str = Field(..., min_length=1, max_length=64)
    starts_at: datetime
    ends_at: datetime
    rolling: bool = False


class SessionOut(Schema):
    id: int
    name: str
    starts_at: datetime
    ends_at: datetime
    rolling: bool


@admin_router.post("/flash-sales/sessions", response=responses(SessionOut, 201))
def admin_create_session(request: HttpRequest, payload: SessionIn) -> Any:
    return Status(201, flash.create_session(current_user(request), payload.dict()))


class FlashItemIn(Schema):
    sku_id: int = ID
    flash_price: int = MONEY
    stock: int = Field(..., ge=1, le=10**7)
    per_person_limit: int = Field(1, ge=1, le=99)
    commission: bool | None = None
    points: bool | None = None
    sort: int = Field(0, ge=-(10**6), le=10**6)


class FlashItemStatsOut(Schema):
    id: int
    session_id: int
    sku_id: int
    flash_price: int
    total_stock: int
    stock_left: int
    per_person_limit: int
    sold_out_at: datetime | None


@admin_router.post("/flash-sales/sessions/{session_id}/items", response=responses(FlashItemStatsOut, 201))
def admin_add_flash_item(request: HttpRequest, session_id: ObjectId, payload: FlashItemIn) -> Any:
    data = {k: v for k, v in payload.dict().items() if v is not None}
    return Status(201, flash.add_item(current_user(request), session_id, data))


class ReconcileOut(Schema):
    rebuilt: int


@admin_router.post("/flash-sales/reconcile", response=responses(ReconcileOut))
def admin_reconcile(request: HttpRequest) -> Any:
    return {"rebuilt": flash.reconcile_gate()}


class GroupCampaignIn(Schema):
    name: str = Field(..., min_length=1, max_length=64)
    sku_id: int = ID
    group_price: int = MONEY
    group_size: int = Field(..., ge=2, le=100)
    time_limit_hours: int | None = Field(None, ge=1, le=720)
    complete_percent: int = Field(0, ge=0, le=100)
    leader_bonus: int | None = Field(None, ge=0, le=10**7)
    starts_at: datetime
    ends_at: datetime
    commission: bool | None = None
    points: bool | None = None


class GroupCampaignStatsOut(Schema):
    id: int
    name: str
    group_price: int
    group_size: int
    groups_open: int
    groups_complete: int
    groups_failed: int


def group_campaign_stats(c: GroupBuyCampaign) -> dict[str, Any]:
    counts = {s: c.groups.filter(status=s).count() for s in ("open", "complete", "failed")}
    return {
        "id": c.pk,
        "name": c.name,
        "group_price": c.group_price,
        "group_size": c.group_size,
        "groups_open": counts["open"],
        "groups_complete": counts["complete"],
        "groups_failed": counts["failed"],
    }


@admin_router.post("/group-buys", response=responses(GroupCampaignStatsOut, 201))
def admin_create_group_campaign(request: HttpRequest, payload: GroupCampaignIn) -> Any:
    data = {k: v for k, v in payload.dict().items() if v is not None or k == "leader_bonus"}
    return Status(201, group_campaign_stats(groups.create_campaign(current_user(request), data)))


@admin_router.get("/group-buys/{campaign_id}", response=responses(GroupCampaignStatsOut))
def admin_group_campaign(request: HttpRequest, campaign_id: ObjectId) -> Any:
    campaign = GroupBuyCampaign.objects.filter(pk=campaign_id).first()
    if campaign is None:
        raise NotFound()
    return group_campaign_stats(campaign)


class BargainCampaignIn(Schema):
    name: str = Field(..., min_length=1, max_length=64)
    sku_id: int = ID
    floor_price: int = MONEY
    helpers_needed: int = Field(..., ge=1, le=1000)
    time_limit_hours: int | None = Field(None, ge=1, le=720)
    allow_early_floor: bool = False
    starts_at: datetime
    ends_at: datetime
    commission: bool | None = None
    points: bool | None = None


@admin_router.post("/bargains/campaigns", response=responses(BargainCampaignOut, 201))
def admin_create_bargain_campaign(request: HttpRequest, payload: BargainCampaignIn) -> Any:
    data = {k: v for k, v in payload.dict().items() if v is not None}
    campaign = bargains.create_campaign(current_user(request), data)
    campaign = BargainCampaign.objects.select_related("sku__product").get(pk=campaign.pk)
    return Status(201, bargain_campaign_body(campaign))
