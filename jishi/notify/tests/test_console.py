"""Console forms for outreach: the segment builder's count and product views, the campaign form's channel fields."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from jishi.accounts.models import Role
from jishi.notify import campaigns
from jishi.notify.admin import CampaignForm, SegmentForm, rule_path_label
from jishi.notify.models import Campaign, CampaignStatus
from jishi.testing.factories import AdminFactory, OperatorFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

COUNT = "/console/notify/segment/count/"
PRODUCTS = "/console/notify/segment/products/"


@pytest.fixture
def console() -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(AdminFactory())
    client.get("/console/notify/segment/add/")  # sets the CSRF cookie, as the page does
    return client


def post_count(client: Client, body: Any) -> Any:
    token = client.cookies["csrftoken"].value
    return client.post(COUNT, json.dumps(body), content_type="application/json", HTTP_X_CSRFTOKEN=token)


def test_live_count_counts_members_the_rules_select(console: Client) -> None:
    UserFactory.create_batch(3)
    rules = {"op": "and", "conditions": [{"field": "lifetime_spend", "max": 0}]}

    r = post_count(console, {"rules": rules})

    assert (r.status_code, r.json()) == (200, {"count": 3})


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"rules": {"conditions": [{"field": "points", "min": -1}]}}, "第 1 项：min: an integer ≥ 0"),
        ({"rules": {"conditions": [{"op": "or", "conditions": [{"field": "level", "in": []}]}]}}, "第 1 项 · 第 1 条"),
        ({"rules": {"op": "xor"}}, "条件"),
    ],
)
def test_bad_rules_are_a_422_naming_the_row(console: Client, body: Any, message: str) -> None:
    r = post_count(console, body)

    assert r.status_code == 422
    assert r.json()["error"]["code"] == "invalid"
    assert r.json()["messages"][0].startswith(message)


def test_count_refuses_bad_json_get_and_missing_csrf(console: Client) -> None:
    token = console.cookies["csrftoken"].value
    bad = console.post(COUNT, "{not json", content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "invalid_json")
    assert console.get(COUNT).status_code == 405
    assert console.post(COUNT, "{}", content_type="application/json").status_code == 403


def test_count_and_products_need_an_operator() -> None:
    staff = UserFactory(is_staff=True)
    client = Client()
    client.force_login(staff)
    assert client.post(COUNT, "{}", content_type="application/json").status_code == 403
    assert client.get(PRODUCTS).status_code == 403
    client.logout()
    assert client.get(PRODUCTS).status_code == 302  # to the console login


def test_product_search_finds_by_name_or_id() -> None:
    tea = ProductFactory(name="明前龙井")
    ProductFactory(name="东北大米")
    client = Client()
    client.force_login(OperatorFactory(is_staff=True, roles=[Role.OPERATOR]))

    assert client.get(PRODUCTS, {"q": "龙井"}).json() == {"items": [{"id": tea.pk, "name": "明前龙井"}]}
    assert client.get(PRODUCTS, {"q": str(tea.pk)}).json()["items"][0]["id"] == tea.pk
    assert len(client.get(PRODUCTS).json()["items"]) == 2


def test_segment_form_shows_validation_errors_by_row() -> None:
    form = SegmentForm(data={"name": "x", "rules": json.dumps({"conditions": [{"field": "nope"}]})})

    assert not form.is_valid()
    assert form.errors["rules"][0].startswith("第 1 项：field: one of level")


def test_rule_path_label_numbers_rows_from_one() -> None:
    assert [rule_path_label(k) for k in ("rules.", "rules.0", "rules.2.1")] == ["条件", "第 1 项", "第 3 项 · 第 2 条"]


def campaign_data(**extra: Any) -> dict[str, Any]:
    segment = campaigns.save_segment(None, "全部", {})
    return {"name": "上新", "segment": segment.pk, "title": "新品", "body": "看看", "b_percent": 0, "gift_points": 0,
            "attribution_days": 7, **extra}  # fmt: skip


def test_campaign_form_assembles_channel_content_and_throttle() -> None:
    form = CampaignForm(
        data=campaign_data(
            sms_body=" {name}，新品上架 ",
            wechat_title="上新了",
            wechat_body="点开看看",
            email_body="",
            throttle_sms="30",
            throttle_email="",
        )
    )

    assert form.is_valid(), form.errors
    assert form.cleaned_data["channel_content"] == {
        "sms": {"body": "{name}，新品上架"},
        "wechat": {"title": "上新了", "body": "点开看看"},
    }
    assert form.cleaned_data["throttle"] == {"sms": 30}


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"email_title": "主题", "email_body": ""}, "email_body"),
        ({"throttle_wechat": "0"}, "throttle_wechat"),
        ({"throttle_sms": str(campaigns.MAX_THROTTLE + 1)}, "throttle_sms"),
        ({"throttle_sms": "fast"}, "throttle_sms"),
    ],
)
def test_campaign_form_rejects_title_without_body_and_bad_rates(extra: dict[str, str], field: str) -> None:
    form = CampaignForm(data=campaign_data(**extra))

    assert not form.is_valid()
    assert list(form.errors) == [field]


@pytest.mark.parametrize(
    ("extra", "field"),
    [({"b_percent": 50}, "b_title"), ({"link": "https://example.com/"}, "link")],
)
def test_campaign_form_shows_the_service_rules_on_the_form(extra: dict[str, Any], field: str) -> None:
    form = CampaignForm(data=campaign_data(**extra))

    assert not form.is_valid()
    assert list(form.errors) == [field]


def test_campaign_form_loads_saved_channels_into_fields() -> None:
    segment = campaigns.save_segment(None, "全部", {})
    campaign = campaigns.create_campaign(
        None,
        {
            "name": "n",
            "segment_id": segment.pk,
            "title": "t",
            "body": "b",
            "channel_content": {"email": {"title": "主题", "body": "正文"}},
            "throttle": {"email": 5},
        },
    )

    form = CampaignForm(instance=campaign)

    assert (form["email_title"].value(), form["email_body"].value(), form["throttle_email"].value()) == (
        "主题",
        "正文",
        5,
    )
    assert (form["sms_body"].value(), form["throttle_sms"].value()) == ("", None)


def test_console_saves_a_campaign_with_channel_fields_and_locks_it_once_started() -> None:
    client = Client()
    client.force_login(AdminFactory())
    data = campaign_data(sms_body="短信正文", throttle_sms="12", _save="1")

    r = client.post("/console/notify/campaign/add/", data)

    assert r.status_code == 302
    campaign = Campaign.objects.get(name="上新")
    assert (campaign.channel_content, campaign.throttle) == ({"sms": {"body": "短信正文"}}, {"sms": 12})
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.RUNNING)
    page = client.get(f"/console/notify/campaign/{campaign.pk}/change/").content.decode()
    assert 'name="sms_body"' not in page
    assert "短信正文" in page
    client.post(f"/console/notify/campaign/{campaign.pk}/change/", {**data, "sms_body": "改了", "_save": "1"})
    campaign.refresh_from_db()
    assert campaign.channel_content == {"sms": {"body": "短信正文"}}
