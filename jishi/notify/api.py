"""Inbox endpoints for buyers (thin: parse, authorise, call a service, serialise)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema

from jishi.accounts.auth import buyer_auth, current_user
from jishi.core.api import ObjectId, page_bounds, responses

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
    limit: int | None = None
    offset: int | None = None


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
