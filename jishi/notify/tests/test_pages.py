"""Storefront message centre: list, open (marks read, follows the link), read all, badge, settings."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from jishi.notify import services
from jishi.notify.models import MemberChannels, Message
from jishi.testing.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def member_client(buyer: Any) -> Client:
    client = Client()
    client.force_login(buyer)
    return client


def notice(user: Any, key: str, **kw: Any) -> Message:
    fields = {"category": "order", "title": "订单已发货", "body": "顺丰 SF1", "link": "/orders/", **kw}
    services.notify_member(user.pk, key=key, **fields)
    return Message.objects.get(user=user, key=key)


def test_the_centre_lists_messages_with_unread_marks(buyer: Any, member_client: Client) -> None:
    notice(buyer, "a")
    notice(buyer, "b", category="promotion", title="双十二")

    html = member_client.get("/messages/").content.decode()
    assert "双十二" in html and "订单已发货" in html and "2 条未读" in html
    only = member_client.get("/messages/?category=promotion").content.decode()
    assert "双十二" in only and "订单已发货" not in only


def test_opening_marks_read_and_follows_the_link(buyer: Any, member_client: Client) -> None:
    message = notice(buyer, "a")

    r = member_client.post(f"/messages/{message.pk}/open/")

    assert (r.status_code, r["Location"]) == (302, "/orders/")
    message.refresh_from_db()
    assert message.read


def test_another_members_message_cannot_be_opened(member_client: Client) -> None:
    other = notice(UserFactory(), "a")
    assert member_client.post(f"/messages/{other.pk}/open/").status_code == 404
    other.refresh_from_db()
    assert not other.read


def test_read_all_and_the_badge(buyer: Any, member_client: Client) -> None:
    notice(buyer, "a")
    notice(buyer, "b")
    assert 'data-unread="2"' in member_client.get("/messages/badge/").content.decode()

    member_client.post("/messages/read-all/")

    assert member_client.get("/messages/badge/").content.decode() == "<span></span>"
    assert Client().get("/messages/badge/").content.decode() == "<span></span>"


def test_the_centre_needs_a_login() -> None:
    assert Client().get("/messages/").status_code == 302


def test_settings_page_saves_opt_outs_and_quiet_hours(buyer: Any, member_client: Client) -> None:
    r = member_client.post(
        "/messages/settings/",
        {"email": "me@example.com", "wechat_marketing": "on", "quiet_start": "22:00", "quiet_end": "08:00"},
    )
    assert r.status_code == 302
    row = MemberChannels.objects.get(user=buyer)
    assert (row.email, row.sms_marketing, row.wechat_marketing, row.email_marketing) == (
        "me@example.com",
        False,
        True,
        False,
    )
    assert (row.quiet_start.hour, row.quiet_end.hour) == (22, 8)  # type: ignore[union-attr]


def test_settings_refuse_half_quiet_hours(buyer: Any, member_client: Client) -> None:
    r = member_client.post("/messages/settings/", {"quiet_start": "22:00"})
    assert r.status_code == 200
    assert "免打扰时段需要同时填写开始和结束" in r.content.decode()
    assert MemberChannels.objects.get(user=buyer).quiet_start is None
