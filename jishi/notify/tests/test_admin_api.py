"""Operator API for outreach: segments with a live count, campaigns through their life cycle, the report."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from jishi.notify import campaigns
from jishi.notify.models import Campaign, Message, Segment
from jishi.testing.shop import shopper

pytestmark = pytest.mark.django_db

SPENDERS = {"op": "and", "conditions": [{"field": "lifetime_spend", "max": 0}]}


def test_segments_save_list_and_preview_a_live_count(operator_api: Any) -> None:
    shopper(), shopper()
    assert operator_api.post("admin/notify/segments/preview", {"rules": SPENDERS}).json() == {"count": 2}

    made = operator_api.post("admin/notify/segments", {"name": "未下单", "rules": SPENDERS})
    assert made.status_code == 201
    assert (made.json()["name"], made.json()["count"]) == ("未下单", 2)
    changed = operator_api.put(f"admin/notify/segments/{made.json()['id']}", {"name": "全部", "rules": {}})
    assert (changed.status_code, changed.json()["name"]) == (200, "全部")
    assert [s["name"] for s in operator_api.get("admin/notify/segments").json()] == ["全部"]


@pytest.mark.parametrize(
    "body",
    [
        {"rules": {"conditions": [{"field": "colour"}]}},
        {"rules": {"op": "xor", "conditions": []}},
        {"rules": {"conditions": [{"field": "points", "min": -5}]}},
    ],
)
def test_bad_rules_are_a_422_with_fields_and_nothing_saved(operator_api: Any, body: dict[str, Any]) -> None:
    r = operator_api.post("admin/notify/segments/preview", body)
    assert r.status_code == 422
    assert r.json()["error"]["fields"]
    r = operator_api.post("admin/notify/segments", {"name": "坏", **body})
    assert r.status_code == 422
    assert not Segment.objects.exists()


def test_a_campaign_goes_from_draft_to_finished_through_the_api(operator_api: Any) -> None:
    a, b = shopper(), shopper()
    segment = operator_api.post("admin/notify/segments", {"name": "全部", "rules": {}}).json()
    body = {
        "name": "双十二",
        "segment_id": segment["id"],
        "title": "{name}，双十二来啦",
        "body": "全场满减",
        "link": "/p/1/",
        "channel_content": {"sms": {"body": "【集市】双十二全场满减"}},
        "throttle": {"sms": 100},
    }
    made = operator_api.post("admin/notify/campaigns", body)
    assert (made.status_code, made.json()["status"]) == (201, "draft")
    cid = made.json()["id"]
    assert operator_api.put(f"admin/notify/campaigns/{cid}", {**body, "body": "全场五折"}).json()["body"] == "全场五折"

    scheduled = operator_api.post(f"admin/notify/campaigns/{cid}/schedule", {"at": timezone.now().isoformat()})
    assert scheduled.json()["status"] == "scheduled"
    assert operator_api.put(f"admin/notify/campaigns/{cid}", body).status_code == 200  # still editable
    assert campaigns.run_due() == 1

    assert operator_api.get(f"admin/notify/campaigns/{cid}").json()["status"] == "finished"
    assert Message.objects.filter(campaign_id=cid).count() == 2
    report = operator_api.get(f"admin/notify/campaigns/{cid}/report").json()
    assert (report["targeted"], report["inbox_reach"]) == (2, 1.0)
    assert {c["channel"]: c["sent"] for c in report["channels"]}["sms"] == 2
    assert operator_api.put(f"admin/notify/campaigns/{cid}", body).json()["error"]["code"] == "campaign_not_editable"
    assert operator_api.post(f"admin/notify/campaigns/{cid}/pause").json()["error"]["code"] == "invalid_transition"
    assert {a.user.pk, b.user.pk} == set(Message.objects.filter(campaign_id=cid).values_list("user_id", flat=True))


def test_pause_resume_cancel_and_bad_campaign_input(operator_api: Any, buyer_api: Any) -> None:
    segment = campaigns.save_segment(None, "全部", {})
    body = {"name": "n", "segment_id": segment.pk, "title": "t", "body": "b"}
    cid = operator_api.post("admin/notify/campaigns", body).json()["id"]
    operator_api.post(f"admin/notify/campaigns/{cid}/schedule", {})
    campaigns.start_due()
    assert operator_api.post(f"admin/notify/campaigns/{cid}/pause").json()["status"] == "paused"
    assert operator_api.post(f"admin/notify/campaigns/{cid}/resume").json()["status"] == "running"
    assert operator_api.post(f"admin/notify/campaigns/{cid}/cancel").json()["status"] == "cancelled"

    for bad in (
        {**body, "segment_id": 999_999},
        {**body, "link": "https://evil.example/"},
        {**body, "throttle": {"sms": 0}},
        {**body, "channel_content": {"fax": {"body": "x"}}},
        {**body, "b_percent": 30},
        {**body, "title": ""},
    ):
        r = operator_api.post("admin/notify/campaigns", bad)
        assert r.status_code in (404, 422), bad
        assert r.json()["error"]["code"]
    assert Campaign.objects.count() == 1
    assert operator_api.get("admin/notify/campaigns/999999").status_code == 404
    assert buyer_api.get("admin/notify/campaigns").status_code == 403
