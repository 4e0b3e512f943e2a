"""Inbox endpoints for buyers (thin: parse, authorise, call a service, serialise)."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from jishi.accounts.auth import buyer_auth, current_user
from jishi.core.api import ObjectId, PageLimit, PageOffset, page_bounds, responses

from . import services
from .models import Message

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
