"""Demo outreach: welcome notices in the demo buyers' inboxes, a saved segment, and a finished
campaign with its report (fresh buyers get the campaign too: every member has an inbox)."""

from __future__ import annotations

from collections.abc import Callable

from django.utils import timezone

from jishi.demo.seed import Progress, demo_buyers

from . import campaigns, services
from .models import Campaign, CampaignStatus, Segment

SEGMENT = "全部会员"
CAMPAIGN = "新品首发 · 百分百送达"


def seed_inbox(progress: Progress) -> int:
    buyers = demo_buyers()
    written = services.notify_members(
        [b.pk for b in buyers],
        category="system",
        title="欢迎来到集市",
        body="订单、售后、活动和社区消息都会出现在这里，通知方式可在“通知设置”里调整。",
        link="/me/",
        key="demo:welcome",
    )
    progress.update(len(buyers), len(buyers))
    return written


def seed_campaign(progress: Progress) -> int:
    segment = Segment.objects.filter(name=SEGMENT).first() or campaigns.save_segment(None, SEGMENT, {})
    if Campaign.objects.filter(name=CAMPAIGN).exists():
        return 0
    campaign = campaigns.create_campaign(
        None,
        {
            "name": CAMPAIGN,
            "segment_id": segment.pk,
            "title": "{name}，本周新品上架",
            "body": "应季水果与家居好物上新，点开看看。",
            "link": "/",
            "channel_content": {"sms": {"body": "【集市】{name}，本周新品上架，点开看看"}},
            "b_percent": 50,
            "b_title": "{name}，新品抢先看",
        },
    )
    campaigns.schedule(None, campaign.pk, timezone.now())
    campaigns.start_due()
    campaigns.run(campaign.pk)
    campaign.refresh_from_db()
    progress.update(1, 1)
    return 1 if campaign.status == CampaignStatus.FINISHED else 0


STEPS: list[tuple[str, Callable[[Progress], int]]] = [
    ("notify inbox", seed_inbox),
    ("notify campaign", seed_campaign),
]
