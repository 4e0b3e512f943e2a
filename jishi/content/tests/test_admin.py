"""Ops console: the moderation queue's actions and the content performance report with its chart."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from jishi.content.models import Post, PostStatus
from jishi.testing.factories import AdminFactory

from .conftest import published_post, write_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def console(client: Client) -> Client:
    admin_user = AdminFactory()
    client.force_login(admin_user)
    return client


def test_queue_approves_and_rejects_with_a_reason(console: Client, buyer: Any) -> None:
    good, bad = write_post(buyer, title="好"), write_post(buyer, title="差")
    url = "/console/content/post/"
    assert console.get(f"{url}?status__exact=pending").status_code == 200
    console.post(url, {"action": "approve", "_selected_action": [good.pk], "reason": ""})
    console.post(url, {"action": "reject", "_selected_action": [bad.pk], "reason": "广告"})
    good.refresh_from_db()
    bad.refresh_from_db()
    assert (good.status, bad.status, bad.reject_reason) == (PostStatus.APPROVED, PostStatus.REJECTED, "广告")


def test_performance_report_draws_a_chart(console: Client, buyer: Any, moderator: Any) -> None:
    published_post(buyer, moderator, title="报表里的笔记")
    r = console.get("/console/content/post/report/?days=30")
    html = r.content.decode()
    assert r.status_code == 200
    assert "<svg" in html and "报表里的笔记" in html
    assert Post.objects.count() == 1
