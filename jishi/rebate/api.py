"""Rebate goods, tracked links, my rebate orders and balance; operators' sources, sync, review
queue, split settings and reconciliation. Amounts in fen; secrets are write-only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from jishi.accounts.auth import buyer_auth, current_user, operator_auth
from jishi.accounts.models import User
from jishi.accounts.services import user_for_token
from jishi.commission import services as commission
from jishi.commission.models import WithdrawalChannel
from jishi.core.api import ObjectId, OkOut, page_bounds, responses
from jishi.core.errors import NotFound
from jishi.distribution.services import get_settings as distribution_rules

from . import goods, lifecycle, links, reconcile, sources, splits
from .models import TAOBAO_OAUTH_URL, Network, NetworkOrder, RebateGoods, RebateSource, ReviewState
from .sync import sync_lag
from .tasks import refresh_rebate_source_goods, sync_rebate_source

router = Router(auth=buyer_auth)
public_router = Router()
admin_router = Router(auth=operator_auth)


class GoodsFilter(Schema):
    network: Network | None = None
    q: str = Field("", max_length=64)
    category: str = Field("", max_length=32)
    limit: int | None = Field(None, ge=1, le=100)
    offset: int | None = Field(None, ge=0, le=10**6)


class GoodsOut(Schema):
    id: int
    network: str
    item_id: str
    title: str
    image_urls: list[str]
    category: str
    shop_name: str
    price: int
    price_after_coupon: int
    coupon: int
    coupon_threshold: int
    coupon_end: datetime | None
    coupon_remaining: int
    self_rebate: int
    save: int
    share_earn: int | None
    sales: int


class GoodsPage(Schema):
    items: list[GoodsOut]
    count: int


def goods_out(item: RebateGoods, is_promoter: bool) -> dict[str, Any]:
    o = goods.offer(item, is_promoter=is_promoter)
    return {
        **{f: getattr(item, f) for f in ("id", "network", "item_id", "title", "image_urls", "category", "shop_name")},
        **{f: getattr(item, f) for f in ("price", "coupon_threshold", "coupon_end", "coupon_remaining", "sales")},
        "price_after_coupon": o.price_after_coupon,
        "coupon": o.coupon,
        "self_rebate": o.self_rebate,
        "save": o.save,
        "share_earn": o.share_earn,
    }


def _viewer_id(request: HttpRequest) -> int | None:
    """Who looks (the feed is public; a signed-in promoter sees what sharing earns)."""
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        found = user_for_token(header[7:].strip())
        return found.pk if found else None
    user = getattr(request, "user", None)
    return user.pk if isinstance(user, User) and user.is_authenticated else None


@public_router.get("/rebate/goods", response=responses(GoodsPage))
def goods_list(request: HttpRequest, filters: Query[GoodsFilter]) -> Any:
    limit, offset = page_bounds(filters.limit, filters.offset)
    rows = goods.feed(filters.network, filters.q, filters.category)
    promoter = goods.viewer_is_promoter(_viewer_id(request))
    return {"items": [goods_out(g, promoter) for g in rows[offset : offset + limit]], "count": rows.count()}


def _active_goods(goods_id: int) -> RebateGoods:
    item = RebateGoods.objects.filter(pk=goods_id, is_active=True).first()
    if item is None:
        raise NotFound()
    return item


@public_router.get("/rebate/goods/{goods_id}", response=responses(GoodsOut))
def goods_detail(request: HttpRequest, goods_id: ObjectId) -> Any:
    return goods_out(_active_goods(goods_id), goods.viewer_is_promoter(_viewer_id(request)))


class LinkOut(Schema):
    network: str
    tracking_id: str
    share_code: str
    share_text: str
    url: str


class LinkIn(Schema):
    # The buyer's Taobao authorisation (the token Taobao's login gives the app), needed once to
    # register the buyer's channel relation_id; never stored past the registration.
    taobao_session: str = Field("", max_length=200)


@router.post("/rebate/goods/{goods_id}/link", response=responses(LinkOut, provider=True))
def goods_link(request: HttpRequest, goods_id: ObjectId, payload: LinkIn | None = None) -> Any:
    """The buyer's tracked link, registering the buyer on the network first where it needs that
    (409 ``taobao_authorization_required`` when Taobao has no or refused the buyer's authorisation,
    ``pdd_registration_required`` with ``authorize_url`` for Pinduoduo's 备案 page,
    ``rebate_network_unavailable`` when the network refused the shop's own account; 502 when the
    network did not answer)."""
    item = _active_goods(goods_id)
    session = payload.taobao_session.strip() if payload else ""
    link = links.link_for(current_user(request), item.network, taobao_session=session)
    return {
        "network": link.network,
        "tracking_id": link.tracking_id,
        "share_code": links.share_code_text(link),
        "share_text": links.share_text(item, link),
        "url": links.tracked_url(item, link),
    }


class RebateOrderFilter(Schema):
    network: Network | None = None
    limit: int | None = Field(None, ge=1, le=100)
    offset: int | None = Field(None, ge=0, le=10**6)


class MyOrderOut(Schema):
    id: int
    network: str
    order_id: str
    item_title: str
    paid_amount: int
    status: str
    credit: str
    rebate: int
    ordered_at: datetime | None
    created_at: datetime


class MyOrderPage(Schema):
    items: list[MyOrderOut]
    count: int


def my_order_out(order: NetworkOrder, user_id: int) -> dict[str, Any]:
    share = order.buyer_share if order.buyer_id == user_id else order.promoter_share
    return {
        **{f: getattr(order, f) for f in ("id", "network", "order_id", "item_title", "paid_amount", "status")},
        "credit": order.credit,
        "rebate": share,
        "ordered_at": order.ordered_at,
        "created_at": order.created_at,
    }


def my_orders(user_id: int, network: str | None = None) -> Any:
    rows = NetworkOrder.objects.filter(buyer_id=user_id)
    return rows.filter(network=network) if network else rows


@router.get("/rebate/orders", response=responses(MyOrderPage))
def orders(request: HttpRequest, filters: Query[RebateOrderFilter]) -> Any:
    limit, offset = page_bounds(filters.limit, filters.offset)
    user = current_user(request)
    rows = my_orders(user.pk, filters.network)
    return {"items": [my_order_out(o, user.pk) for o in rows[offset : offset + limit]], "count": rows.count()}


class BalanceOut(Schema):
    pending: int
    available: int
    debt: int
    withdrawn: int
    withdrawing: int
    earned: int


@router.get("/rebate/balance", response=responses(BalanceOut))
def balance(request: HttpRequest) -> Any:
    user = current_user(request)
    totals = commission.totals(user.pk)
    return {
        "pending": totals["frozen"],
        "available": totals["available"],
        "debt": totals["debt"],
        "withdrawn": totals["withdrawn"],
        "withdrawing": totals["withdrawing"],
        "earned": commission.earned_total(user.pk, "rebate"),
    }


class RebateWithdrawIn(Schema):
    amount: int = Field(..., ge=1, le=10**10)
    channel: WithdrawalChannel
    account: str = Field("", max_length=120)


class RebateWithdrawalOut(Schema):
    id: int
    amount: int
    fee: int
    net: int
    channel: str
    status: str


@router.post("/rebate/withdrawals", response=responses(RebateWithdrawalOut, 201))
def withdraw(request: HttpRequest, payload: RebateWithdrawIn) -> Any:
    """The commission withdrawal flow, open to every buyer with rebates (the shop's minimum and fee)."""
    rules = distribution_rules()
    w = commission.request_withdrawal(
        current_user(request),
        payload.amount,
        payload.channel,
        payload.account,
        minimum=rules.withdrawal_min,
        fee_bp=rules.withdrawal_fee_bp,
    )
    return Status(201, w)


# --- operators -----------------------------------------------------------------------------


class SourceIn(Schema):
    network: Network
    name: str = Field(..., min_length=1, max_length=64)
    app_key: str = Field(..., min_length=1, max_length=64)
    secret: str = Field(..., min_length=1, max_length=200)
    endpoint: str = Field(..., min_length=8, max_length=200)
    pid: str = Field("", max_length=64)
    enabled: bool = True
    promotion_mode: bool = False
    inviter_code: str = Field("", max_length=32)
    oauth_url: str = Field(TAOBAO_OAUTH_URL, max_length=200)
    goods_keywords: str = Field("", max_length=500)


class SourcePatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=64)
    app_key: str | None = Field(None, min_length=1, max_length=64)
    secret: str | None = Field(None, min_length=1, max_length=200)
    endpoint: str | None = Field(None, min_length=8, max_length=200)
    pid: str | None = Field(None, max_length=64)
    enabled: bool | None = None
    promotion_mode: bool | None = None
    inviter_code: str | None = Field(None, max_length=32)
    oauth_url: str | None = Field(None, max_length=200)
    goods_keywords: str | None = Field(None, max_length=500)


class SourceOut(Schema):
    id: int
    network: str
    name: str
    app_key: str
    pid: str
    endpoint: str
    enabled: bool
    promotion_mode: bool
    synced_until: datetime | None
    lag_seconds: int | None
    last_run_at: datetime | None
    last_success_at: datetime | None
    last_error: str
    inviter_code: str = ""
    oauth_url: str = ""
    goods_keywords: str = ""
    goods_refreshed_at: datetime | None = None
    goods_error: str = ""


SOURCE_DETAILS = ("inviter_code", "oauth_url", "goods_keywords", "goods_refreshed_at", "goods_error")


def source_out(source: RebateSource) -> dict[str, Any]:
    lag = sync_lag(source)
    fields = ("id", "network", "name", "app_key", "pid", "endpoint", "enabled", "promotion_mode", "synced_until")
    return {
        **{f: getattr(source, f) for f in fields},
        "lag_seconds": int(lag.total_seconds()) if lag is not None else None,
        "last_run_at": source.last_run_at,
        "last_success_at": source.last_success_at,
        "last_error": source.last_error,
        **{f: getattr(source, f) for f in SOURCE_DETAILS},
    }


def _source(source_id: int) -> RebateSource:
    source = RebateSource.objects.filter(pk=source_id).first()
    if source is None:
        raise NotFound()
    return source


@admin_router.get("/rebate/sources", response=responses(list[SourceOut]))
def source_list(request: HttpRequest) -> Any:
    return [source_out(s) for s in RebateSource.objects.all()]


@admin_router.post("/rebate/sources", response=responses(SourceOut, 201))
def source_create(request: HttpRequest, payload: SourceIn) -> Any:
    return Status(201, source_out(sources.create_source(current_user(request), payload.dict())))


@admin_router.put("/rebate/sources/{source_id}", response=responses(SourceOut))
def source_update(request: HttpRequest, source_id: ObjectId, payload: SourcePatch) -> Any:
    return source_out(sources.update_source(current_user(request), source_id, payload.dict()))


@admin_router.post("/rebate/sources/{source_id}/sync", response=responses(OkOut, 202))
def source_sync(request: HttpRequest, source_id: ObjectId) -> Any:
    sync_rebate_source(_source(source_id).pk)
    return Status(202, {"ok": True})


@admin_router.post("/rebate/sources/{source_id}/goods-refresh", response=responses(OkOut, 202))
def source_goods_refresh(request: HttpRequest, source_id: ObjectId) -> Any:
    """Queue a goods refresh of this source from the network's search API."""
    refresh_rebate_source_goods(_source(source_id).pk)
    return Status(202, {"ok": True})


class AdminOrderFilter(Schema):
    network: Network | None = None
    review: ReviewState | None = None
    status: str | None = Field(None, max_length=16)
    limit: int | None = Field(None, ge=1, le=100)
    offset: int | None = Field(None, ge=0, le=10**6)


class AdminOrderOut(Schema):
    id: int
    network: str
    order_id: str
    sub_order_id: str
    item_title: str
    status: str
    raw_status: str
    tracking_id: str
    buyer_id: int | None
    promoter_id: int | None
    review: str
    credit: str
    commission_estimate: int
    commission_actual: int | None
    service_fee: int
    base_amount: int
    buyer_share: int
    promoter_share: int
    platform_share: int
    reversed_amount: int
    network_updated_at: datetime | None


class AdminOrderPage(Schema):
    items: list[AdminOrderOut]
    count: int


@admin_router.get("/rebate/orders", response=responses(AdminOrderPage))
def admin_orders(request: HttpRequest, filters: Query[AdminOrderFilter]) -> Any:
    limit, offset = page_bounds(filters.limit, filters.offset)
    rows = NetworkOrder.objects.all()
    for name in ("network", "review", "status"):
        if getattr(filters, name):
            rows = rows.filter(**{name: getattr(filters, name)})
    return {"items": list(rows[offset : offset + limit]), "count": rows.count()}


class AssignIn(Schema):
    phone: str = Field(..., min_length=5, max_length=20)


@admin_router.post("/rebate/orders/{order_id}/assign", response=responses(AdminOrderOut))
def assign(request: HttpRequest, order_id: ObjectId, payload: AssignIn) -> Any:
    buyer = User.objects.filter(phone=payload.phone).first()
    if buyer is None:
        raise NotFound(fields={"phone": [payload.phone]})
    return lifecycle.assign_unmatched(current_user(request), order_id, buyer)


@admin_router.post("/rebate/orders/{order_id}/dismiss", response=responses(OkOut))
def dismiss(request: HttpRequest, order_id: ObjectId) -> Any:
    if not lifecycle.dismiss_unmatched(current_user(request), order_id):
        raise NotFound()
    return {"ok": True}


class SplitIn(Schema):
    buyer_bp: int = Field(..., ge=0, le=10000)
    promoter_bp: int = Field(..., ge=0, le=10000)


class SplitOut(Schema):
    network: str
    buyer_bp: int
    promoter_bp: int


@admin_router.get("/rebate/splits", response=responses(list[SplitOut]))
def split_list(request: HttpRequest) -> Any:
    return splits.all_splits()


@admin_router.put("/rebate/splits/{network}", response=responses(SplitOut))
def split_update(request: HttpRequest, network: Network, payload: SplitIn) -> Any:
    return splits.update_split(current_user(request), network, payload.buyer_bp, payload.promoter_bp)


class ReconcileFilter(Schema):
    month: str = Field(..., pattern=r"^\d{4}-(0[1-9]|1[0-2])$")


class DifferenceOut(Schema):
    order_pk: int
    order_id: str
    status: str
    network_net: int
    expected: int
    credited: int
    difference: int
    reason: str


class AnomalyOut(Schema):
    order_pk: int
    order_id: str
    kind: str
    detail: str
    at: datetime


class ReconciliationOut(Schema):
    source_id: int
    month: str
    orders: int
    network_net: int
    credited: int
    platform: int
    differences: list[DifferenceOut]
    lag_seconds: int | None
    last_error: str
    anomalies: list[AnomalyOut]


@admin_router.get("/rebate/sources/{source_id}/reconciliation", response=responses(ReconciliationOut))
def reconciliation(request: HttpRequest, source_id: ObjectId, filters: Query[ReconcileFilter]) -> Any:
    return reconcile.reconcile(_source(source_id), filters.month)
