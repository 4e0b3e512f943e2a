from __future__ import annotations

import io

import pytest

from jishi.demo.seed import STEPS, Progress, demo_buyers
from jishi.notify.demo import CAMPAIGN
from jishi.notify.demo import STEPS as NOTIFY_STEPS
from jishi.notify.models import Campaign, Message

pytestmark = pytest.mark.django_db


def run(steps: list) -> list[int]:
    out = io.StringIO()
    return [step(Progress(out, i, len(steps), name)) for i, (name, step) in enumerate(steps, 1)]


def test_demo_outreach_is_seeded_once() -> None:
    run(list(STEPS))
    run(NOTIFY_STEPS)

    assert run(NOTIFY_STEPS) == [0, 0]
    campaign = Campaign.objects.get(name=CAMPAIGN)
    assert campaign.status == "finished"
    buyers = demo_buyers(include_fresh=True)
    assert Message.objects.filter(campaign=campaign).count() == len(buyers)
    assert Message.objects.filter(key="demo:welcome").count() == len(demo_buyers())
