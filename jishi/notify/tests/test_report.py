"""The campaign report (reach, failures, reads, clicks, attributed orders) and its console pages."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from jishi.notify import campaigns, services
from jishi.notify.models import Campaign, CampaignClick, Delivery, Message
from jishi.notify.report import campaign_report
from jishi.orders import services as orders
from jishi.payments.services import pay_with_wallet
from jishi.testing.factories import AdminFactory, UserFactory
from jishi.testing.shop import shopper, skus

pytestmark = pytest.mark.django_db


@pytest.fixture
def console(client: Client) -> Client:
    client.force_login(AdminFactory())
    return client


def finished_campaign(**kw: Any) -> Campaign:
    segment = campaigns.save_segment(None, "全部会员", {})
    campaign = campaigns.create_campaign(
        None,
        {
            "name": "新品首发",
            "segment_id": segment.pk,
            "title": "新品上架",
            "body": "{name}，来看看",
            "link": "/p/1/",
            "channel_content": {"sms": {"body": "新品上架"}},
            **kw,
        },
    )
    campaigns.schedule(None, campaign.pk, timezone.now())
    campaigns.start_due()
    campaigns.run(campaign.pk)
    campaign.refresh_from_db()
    return campaign


def test_the_report_counts_reach_failures_reads_clicks_and_orders() -> None:
    buyer = shopper(wallet=100_000)
    others = UserFactory.create_batch(2)
    campaign = finished_campaign()
    Delivery.objects.filter(campaign=campaign, channel="sms", user=others[0]).update(
        status="failed", reason="isv.MOBILE_NUMBER_ILLEGAL"
    )
    services.mark_all_read(buyer.user)
    Client().get(f"/notify/c/{campaign.pk}/")  # anonymous: not counted
    logged_in = Client()
    logged_in.force_login(buyer.user)
    for _ in range(2):
        r = logged_in.get(f"/notify/c/{campaign.pk}/")
        assert (r.status_code, r["Location"]) == (302, "/p/1/")
    sku = skus(8800, stock=5)[0]
    order = orders.place_order(buyer.user, [(sku.pk, 1)], buyer.address.pk, {})
    pay_with_wallet(buyer.user, order.pk)
    order.refresh_from_db()

    report = campaign_report(campaign)

    assert report["targeted"] == 3
    assert report["inbox_reach"] == 1.0
    sms = report["channels"][1]
    assert (sms["sent"], sms["delivered"], sms["failed"]) == (2, 2, 1)
    assert report["failures"] == [{"channel": "sms", "reason": "isv.MOBILE_NUMBER_ILLEGAL", "count": 1}]
    assert (report["read"], report["clicked"]) == (1, 1)
    assert (report["orders"], report["gmv"]) == (1, order.paid_amount)
    assert CampaignClick.objects.count() == 1


def test_the_console_report_page_draws_charts(console: Client) -> None:
    UserFactory.create_batch(2)
    campaign = finished_campaign()

    r = console.get(f"/console/notify/campaign/{campaign.pk}/report/")

    assert r.status_code == 200
    html = r.content.decode()
    assert "新品首发" in html and "<svg" in html and "100.0%" in html


def test_console_lists_segments_with_a_live_count_and_campaigns(console: Client) -> None:
    UserFactory.create_batch(3)
    campaigns.save_segment(None, "全部会员", {})
    r = console.get("/console/notify/segment/")
    assert r.status_code == 200 and "全部会员" in r.content.decode()
    finished_campaign()
    assert console.get("/console/notify/campaign/").status_code == 200


def test_console_creates_and_schedules_a_campaign(console: Client) -> None:
    UserFactory.create_batch(2)
    segment = campaigns.save_segment(None, "全部会员", {})
    form = {
        "name": "周末特惠",
        "segment": segment.pk,
        "title": "周末特惠",
        "body": "全场八折",
        "link": "/",
        "channel_content": '{"sms": {"body": "周末特惠，全场八折"}}',
        "throttle": '{"sms": 10}',
        "b_percent": 0,
        "gift_points": 0,
        "attribution_days": 7,
    }
    r = console.post("/console/notify/campaign/add/", form)
    assert r.status_code == 302, r.content.decode()[:2000]
    campaign = Campaign.objects.get(name="周末特惠")
    assert campaign.status == "draft"

    r = console.post(
        "/console/notify/campaign/", {"action": "schedule_now", "_selected_action": [campaign.pk]}, follow=True
    )
    assert r.status_code == 200
    campaign.refresh_from_db()
    assert campaign.status == "scheduled"
    campaigns.run_due()
    assert Message.objects.filter(campaign=campaign).count() == 2
    assert Campaign.objects.get(pk=campaign.pk).status == "finished"
