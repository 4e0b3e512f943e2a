"""Console: every community list opens, and held topics are approved from the moderation list."""

from __future__ import annotations

import pytest
from django.test import Client

from jishi.community import activity, red_packets
from jishi.community.models import ModerationStatus, Topic
from jishi.content.models import BannedWord, BannedWordAction
from jishi.testing.factories import AdminFactory

from .conftest import make_group, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def console(client: Client) -> Client:
    client.force_login(AdminFactory())
    return client


@pytest.mark.parametrize(
    "model", ["group", "membership", "topic", "reply", "groupredpacket", "digestrun", "groupprice"]
)
def test_lists_open(console: Client, model: str) -> None:
    group = make_group()
    funder = member(group, wallet=1000)
    member(group)
    red_packets.send(funder, group.pk, amount=500, shares=2, split="random")
    activity.post_topic(funder, group.pk, title="话题")
    res = console.get(f"/console/community/{model}/")
    assert res.status_code == 200


def test_held_topic_approved_from_the_list(console: Client) -> None:
    BannedWord.objects.create(word="代购", action=BannedWordAction.FLAG)
    group = make_group()
    held = activity.post_topic(member(group), group.pk, title="代购")
    assert held.status == ModerationStatus.PENDING
    console.post("/console/community/topic/", {"action": "approve", "_selected_action": [held.pk]})
    assert Topic.objects.get(pk=held.pk).status == ModerationStatus.APPROVED


def test_red_packet_amounts_show_in_yuan(console: Client) -> None:
    group = make_group()
    funder = member(group, wallet=10_000)
    member(group)
    red_packets.send(funder, group.pk, amount=8888, shares=2, split="random")
    assert "¥88.88" in console.get("/console/community/groupredpacket/").content.decode()
