"""Inbox endpoints for buyers, segment and campaign endpoints for operators (thin: parse,
authorise, call a service, serialise)."""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from jishi.accounts.auth import buyer_auth, current_user, operator_auth
from jishi.core.api import ObjectId, PageLimit, PageOffset, page_bounds, responses
from jishi.core.errors import NotFound

from . import campaigns, report, segments, services
from .models import Campaign, Message, Segment

router = Router(auth=buyer_auth)


class MessageOut(Schema):
    id: int
    category: str
    title: str
    body: str
    link: str
    read: bool
    created_at: datetime


class InboxOut(Schema):
    items: list[MessageOut]
    unread: int


class InboxIn(Schema):
    category: Literal["", "order", "after_sale", "promotion", "community", "system"] = ""
    limit: PageLimit | None = None
    offset: PageOffset | None = None


class ReadAllOut(Schema):
    marked: int
    unread: int


def message_body(message: Message) -> dict[str, Any]:
    return {
        "id": message.pk,
        "category": message.category,
        "title": message.title,
        "body": message.body,
        "link": message.link,
        "read": message.read,
        "created_at": message.created_at,
    }


@router.get("/inbox", response=responses(InboxOut))
def inbox(request: HttpRequest, q: Query[InboxIn]) -> Any:
    limit, offset = page_bounds(q.limit, q.offset)
    user = current_user(request)
    messages = services.inbox_of(user, category=q.category, limit=limit, offset=offset)
    return {"items": [message_body(m) for m in messages], "unread": services.unread_count(user)}


@router.post("/inbox/read-all", response=responses(ReadAllOut))
def read_all(request: HttpRequest) -> Any:
    user = current_user(request)
    return {"marked": services.mark_all_read(user), "unread": services.unread_count(user)}


@router.post("/inbox/{message_id}/read", response=responses(MessageOut))
def read_one(request: HttpRequest, message_id: ObjectId) -> Any:
    return message_body(services.mark_read(current_user(request), message_id))


class NoticeSettingsOut(Schema):
    phone: str
    email: str
    wechat_bound: bool
    sms_marketing: bool
    wechat_marketing: bool
    email_marketing: bool
    quiet_start: str | None  # "HH:MM", the shop's local time
    quiet_end: str | None


HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class NoticeSettingsIn(Schema):
    email: str | None = Field(None, max_length=254)
    sms_marketing: bool | None = None
    wechat_marketing: bool | None = None
    email_marketing: bool | None = None
    quiet_start: str | None = Field(None, pattern=HHMM)
    quiet_end: str | None = Field(None, pattern=HHMM)


def settings_body(user: Any, row: Any) -> dict[str, Any]:
    return {
        "phone": user.phone or "",
        "email": row.email,
        "wechat_bound": bool(row.wechat_openid),
        "sms_marketing": row.sms_marketing,
        "wechat_marketing": row.wechat_marketing,
        "email_marketing": row.email_marketing,
        "quiet_start": row.quiet_start.strftime("%H:%M") if row.quiet_start else None,
        "quiet_end": row.quiet_end.strftime("%H:%M") if row.quiet_end else None,
    }


@router.get("/notice-settings", response=responses(NoticeSettingsOut))
def get_notice_settings(request: HttpRequest) -> Any:
    user = current_user(request)
    return settings_body(user, services.notice_settings(user))


@router.put("/notice-settings", response=responses(NoticeSettingsOut))
def put_notice_settings(request: HttpRequest, payload: NoticeSettingsIn) -> Any:
    """Fields left out stay as they are; ``quiet_start``/``quiet_end`` given as null clear the quiet hours."""
    user = current_user(request)
    given = payload.model_dump(exclude_unset=True)
    changes = {k: v for k, v in given.items() if v is not None or k in ("quiet_start", "quiet_end")}
    if "email" in changes and changes["email"] is None:
        changes.pop("email")
    for name in ("quiet_start", "quiet_end"):
        if changes.get(name):
            changes[name] = time.fromisoformat(changes[name])
    return settings_body(user, services.update_notice_settings(user, changes))


# --- operator: segments and campaigns ----------------------------------------------------------

admin_router = Router(auth=operator_auth)


class SegmentIn(Schema):
    name: str = Field(..., max_length=64)
    rules: dict[str, Any] = Field(default_factory=dict)


class RulesIn(Schema):
    rules: dict[str, Any] = Field(default_factory=dict)


class SegmentOut(Schema):
    id: int
    name: str
    rules: dict[str, Any]
    count: int


class SegmentCountOut(Schema):
    count: int


def segment_body(segment: Segment) -> dict[str, Any]:
    return {"id": segment.pk, "name": segment.name, "rules": segment.rules, "count": segments.count(segment.rules)}


@admin_router.get("/notify/segments", response=responses(list[SegmentOut]))
def segment_list(request: HttpRequest) -> Any:
    return [segment_body(s) for s in Segment.objects.order_by("-id")[:200]]


@admin_router.post("/notify/segments", response=responses(SegmentOut, 201))
def segment_create(request: HttpRequest, payload: SegmentIn) -> Any:
    return Status(201, segment_body(campaigns.save_segment(current_user(request), payload.name, payload.rules)))


@admin_router.post("/notify/segments/preview", response=responses(SegmentCountOut))
def segment_preview(request: HttpRequest, payload: RulesIn) -> Any:
    """The live count of members the rules select (the console's segment builder asks as you edit)."""
    return {"count": segments.count(payload.rules)}


@admin_router.put("/notify/segments/{segment_id}", response=responses(SegmentOut))
def segment_update(request: HttpRequest, segment_id: ObjectId, payload: SegmentIn) -> Any:
    return segment_body(campaigns.save_segment(current_user(request), payload.name, payload.rules, segment_id))


class ChannelText(Schema):
    title: str = Field("", max_length=100)
    body: str = Field(..., max_length=1000)


class CampaignIn(Schema):
    name: str = Field(..., min_length=1, max_length=64)
    segment_id: ObjectId
    title: str = Field(..., min_length=1, max_length=100)
    body: str = Field(..., min_length=1, max_length=5000)
    link: str = Field("", max_length=300)
    channel_content: dict[Literal["sms", "wechat", "email"], ChannelText] = Field(default_factory=dict)
    throttle: dict[Literal["sms", "wechat", "email"], Annotated[int, Field(ge=1, le=campaigns.MAX_THROTTLE)]] = Field(
        default_factory=dict
    )
    b_percent: int = Field(0, ge=0, le=100)
    b_title: str = Field("", max_length=100)
    b_body: str = Field("", max_length=5000)
    coupon_template_id: ObjectId | None = None
    gift_points: int = Field(0, ge=0, le=1_000_000)
    attribution_days: int = Field(7, ge=1, le=90)


class CampaignOut(Schema):
    id: int
    name: str
    status: str
    segment_id: int
    title: str
    body: str
    link: str
    channel_content: dict[str, Any]
    throttle: dict[str, Any]
    b_percent: int
    coupon_template_id: int | None
    gift_points: int
    scheduled_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    targeted: int


class ScheduleIn(Schema):
    at: datetime | None = None


def campaign_body(c: Campaign) -> dict[str, Any]:
    return {
        "id": c.pk,
        "name": c.name,
        "status": c.status,
        "segment_id": c.segment_id,
        "title": c.title,
        "body": c.body,
        "link": c.link,
        "channel_content": c.channel_content,
        "throttle": c.throttle,
        "b_percent": c.b_percent,
        "coupon_template_id": c.coupon_template_id,
        "gift_points": c.gift_points,
        "scheduled_at": c.scheduled_at,
        "started_at": c.started_at,
        "finished_at": c.finished_at,
        "targeted": c.targeted,
    }


def _campaign_data(payload: CampaignIn) -> dict[str, Any]:
    data = payload.dict()
    data["channel_content"] = {k: {n: v for n, v in t.items() if v} for k, t in data["channel_content"].items()}
    return data


def _campaign(campaign_id: int) -> Campaign:
    found = Campaign.objects.filter(pk=campaign_id).first()
    if found is None:
        raise NotFound(code="campaign_not_found")
    return found


@admin_router.get("/notify/campaigns", response=responses(list[CampaignOut]))
def campaign_list(request: HttpRequest, limit: PageLimit | None = None, offset: PageOffset | None = None) -> Any:
    size, start = page_bounds(limit, offset)
    return [campaign_body(c) for c in Campaign.objects.order_by("-id")[start : start + size]]


@admin_router.post("/notify/campaigns", response=responses(CampaignOut, 201))
def campaign_create(request: HttpRequest, payload: CampaignIn) -> Any:
    return Status(201, campaign_body(campaigns.create_campaign(current_user(request), _campaign_data(payload))))


@admin_router.get("/notify/campaigns/{campaign_id}", response=responses(CampaignOut))
def campaign_get(request: HttpRequest, campaign_id: ObjectId) -> Any:
    return campaign_body(_campaign(campaign_id))


@admin_router.put("/notify/campaigns/{campaign_id}", response=responses(CampaignOut))
def campaign_update(request: HttpRequest, campaign_id: ObjectId, payload: CampaignIn) -> Any:
    return campaign_body(campaigns.update_campaign(current_user(request), campaign_id, _campaign_data(payload)))


@admin_router.post("/notify/campaigns/{campaign_id}/schedule", response=responses(CampaignOut))
def campaign_schedule(request: HttpRequest, campaign_id: ObjectId, payload: ScheduleIn) -> Any:
    return campaign_body(campaigns.schedule(current_user(request), campaign_id, payload.at))


def _move(name: str, mover: Any) -> Any:
    @admin_router.post(f"/notify/campaigns/{{campaign_id}}/{name}", response=responses(CampaignOut))
    def view(request: HttpRequest, campaign_id: ObjectId) -> Any:
        return campaign_body(mover(current_user(request), campaign_id))

    view.__name__ = f"campaign_{name}"
    return view


for _name, _mover in (
    ("unschedule", campaigns.unschedule),
    ("pause", campaigns.pause),
    ("resume", campaigns.resume),
    ("cancel", campaigns.cancel),
):
    _move(_name, _mover)


@admin_router.get("/notify/campaigns/{campaign_id}/report", response=responses(dict[str, Any]))
def campaign_report(request: HttpRequest, campaign_id: ObjectId) -> Any:
    """Targeted, sent, delivered, failed by reason, read, clicked, attributed orders and GMV."""
    return report.campaign_report(_campaign(campaign_id))
