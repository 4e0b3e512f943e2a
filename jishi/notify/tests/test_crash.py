"""A campaign worker killed mid-campaign resumes and every member gets the campaign exactly once."""

from __future__ import annotations

import signal
import time

import pytest
from django.db.models import Count
from django.utils import timezone

from jishi.notify import campaigns
from jishi.notify.models import Campaign, Delivery, Message
from jishi.testing.factories import UserFactory
from jishi.testing.processes import spawn_python

TOTAL = 60


@pytest.mark.django_db(transaction=True)
def test_a_killed_campaign_worker_resumes_without_double_sends() -> None:
    UserFactory.create_batch(TOTAL)
    segment = campaigns.save_segment(None, "全部", {})
    campaign = campaigns.create_campaign(
        None,
        {
            "name": "崩溃测试",
            "segment_id": segment.pk,
            "title": "你好 {name}",
            "body": "新品上架",
            "channel_content": {"sms": {"body": "新品上架"}},
        },
    )
    campaigns.schedule(None, campaign.pk, timezone.now())
    campaigns.start_due()
    child = spawn_python(
        "import django, time; django.setup(); "
        "from jishi.notify import campaigns; "
        "campaigns.after_batch.append(lambda c, ids: time.sleep(0.2)); "
        f"campaigns.run({campaign.pk}, size=5)"
    )
    deadline = time.monotonic() + 60
    while Message.objects.filter(campaign=campaign).count() < 15 and time.monotonic() < deadline:
        assert child.poll() is None, child.stderr.read() if child.stderr else ""
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    written = Message.objects.filter(campaign=campaign).count()
    assert 15 <= written < TOTAL, "the worker must die mid-campaign"

    campaigns.run(campaign.pk, size=5)  # the next worker picks it up

    campaign.refresh_from_db()
    assert campaign.status == "finished"
    assert campaign.targeted == TOTAL
    per_member = Message.objects.filter(campaign=campaign).values("user_id").annotate(n=Count("id"))
    assert len(per_member) == TOTAL and {row["n"] for row in per_member} == {1}
    per_channel = Delivery.objects.filter(campaign=campaign).values("channel").annotate(n=Count("id"))
    assert {row["channel"]: row["n"] for row in per_channel} == {"inbox": TOTAL, "sms": TOTAL}
    assert set(Delivery.objects.filter(campaign=campaign, channel="sms").values_list("status", flat=True)) == {
        "delivered"
    }
    assert Campaign.objects.get(pk=campaign.pk).cursor == max(Message.objects.values_list("user_id", flat=True))
