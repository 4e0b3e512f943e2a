"""Featured guests (大咖站台): announced in advance to every member once, answers highlighted, readable after."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import Api
from jishi.accounts.services import issue_token
from jishi.community import activity, guests
from jishi.community.models import Membership, MemberStatus
from jishi.core.errors import Forbidden
from jishi.notify.models import Message
from jishi.testing.factories import OperatorFactory, UserFactory

from .conftest import make_group, member

pytestmark = pytest.mark.django_db


def schedule(group, guest, start_in: timedelta = timedelta(days=1)):
    start = timezone.now() + start_in
    return guests.schedule(
        OperatorFactory(),
        group.pk,
        guest_id=guest.pk,
        guest_title="国家一级评茶师",
        title="春茶怎么挑",
        intro="带着问题来",
        starts_at=start,
        ends_at=start + timedelta(hours=1),
    )


def test_operator_schedules_and_members_hear_of_it_once(operator_api: Api) -> None:
    group = make_group()
    fans = [member(group) for _ in range(3)]
    guest = UserFactory(nickname="陈老师")
    start = timezone.now() + timedelta(days=1)
    res = operator_api.post(
        f"admin/community/groups/{group.pk}/guest-sessions",
        {
            "guest_id": guest.pk,
            "guest_title": "国家一级评茶师",
            "title": "春茶怎么挑",
            "intro": "带着问题来",
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=1)).isoformat(),
        },
    )
    assert res.status_code == 201
    assert res.json()["announced_count"] == 3
    assert set(Message.objects.values_list("user_id", flat=True)) == {f.pk for f in fans}
    assert Message.objects.first().title == "大咖站台预告：春茶怎么挑"
    assert Membership.objects.get(group=group, user=guest).status == MemberStatus.ACTIVE
    topic = activity.visible_topic(fans[0], res.json()["topic_id"])
    assert (topic.kind, topic.pinned) == ("qa", True)


def test_only_operators_schedule() -> None:
    group = make_group()
    with pytest.raises(Forbidden):
        guests.schedule(
            member(group),
            group.pk,
            guest_id=UserFactory().pk,
            guest_title="x",
            title="t",
            intro="",
            starts_at=timezone.now() + timedelta(hours=1),
            ends_at=timezone.now() + timedelta(hours=2),
        )


def test_past_or_backwards_times_are_refused(operator_api: Api) -> None:
    group = make_group()
    now = timezone.now()
    body = {"guest_id": UserFactory().pk, "guest_title": "x", "title": "t"}
    res = operator_api.post(
        f"admin/community/groups/{group.pk}/guest-sessions",
        {
            **body,
            "starts_at": (now - timedelta(hours=1)).isoformat(),
            "ends_at": (now - timedelta(hours=2)).isoformat(),
        },
    )
    assert res.status_code == 422
    assert set(res.json()["error"]["fields"]) == {"starts_at", "ends_at"}


def test_questions_before_answers_highlighted_then_readable_after() -> None:
    group = make_group()
    fan = member(group)
    guest = UserFactory()
    session = schedule(group, guest, start_in=timedelta(minutes=10))
    topic = session.topic
    question = activity.reply(fan, topic.pk, "绿茶怎么存放？")
    assert question.highlighted is False
    with pytest.raises(Exception) as early:
        activity.reply(guest, topic.pk, "还没开始")
    assert getattr(early.value, "code", "") == "session_not_started"
    during = session.starts_at + timedelta(minutes=5)
    answer = activity.reply(guest, topic.pk, "密封冷藏，避光防潮", now=during)
    assert answer.highlighted is True
    after = session.ends_at + timedelta(minutes=1)
    with pytest.raises(guests.SessionEnded):
        activity.reply(fan, topic.pk, "还有问题", now=after)
    res = Api(issue_token(fan)).get(f"community/groups/{group.pk}/guest-sessions").json()
    assert [a["body"] for a in res[0]["answers"]] == ["密封冷藏，避光防潮"]
    replies = Api(issue_token(fan)).get(f"community/topics/{topic.pk}/replies").json()
    assert [(r["body"], r["highlighted"]) for r in replies] == [("绿茶怎么存放？", False), ("密封冷藏，避光防潮", True)]
