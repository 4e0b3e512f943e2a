"""Group activity: topics moderated by the banned-word list, replies, likes, 接龙 lists, polls, product cards."""

from __future__ import annotations

import csv
import io

import pytest

from conftest import Api
from jishi.accounts.services import issue_token
from jishi.community import activity
from jishi.community.models import ModerationStatus, Reply, SignupEntry, Topic
from jishi.content.models import BannedWord, BannedWordAction
from jishi.core.errors import Forbidden
from jishi.testing.factories import OperatorFactory, ProductFactory, UserFactory

from .conftest import make_group, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def group():
    return make_group(owner_id=UserFactory().pk)


def api_for(user) -> Api:
    return Api(issue_token(user))


def test_a_member_posts_a_topic_and_others_reply(group) -> None:
    author, other = member(group), member(group)
    res = api_for(author).post(f"community/groups/{group.pk}/topics", {"title": "今天喝什么", "body": "<b>岩茶</b>"})
    assert res.status_code == 201
    topic = res.json()
    assert (topic["kind"], topic["status"], topic["body_html"]) == ("topic", "approved", "<p><b>岩茶</b></p>")
    res = api_for(other).post(f"community/topics/{topic['id']}/replies", {"body": "正山小种"})
    assert res.status_code == 201
    assert Topic.objects.get(pk=topic["id"]).reply_count == 1
    replies = api_for(author).get(f"community/topics/{topic['id']}/replies").json()
    assert [r["body"] for r in replies] == ["正山小种"]


def test_topic_body_is_sanitised(group) -> None:
    author = member(group)
    topic = activity.post_topic(
        author, group.pk, title="t", body='<script>alert(1)</script><a href="javascript:x">y</a>'
    )
    assert "<script" not in topic.body_html
    assert "javascript:" not in topic.body_html


def test_rejected_words_write_nothing_and_flagged_words_wait(group) -> None:
    BannedWord.objects.create(word="加微信", action=BannedWordAction.REJECT)
    BannedWord.objects.create(word="代购", action=BannedWordAction.FLAG)
    author, reader = member(group), member(group)
    res = api_for(author).post(f"community/groups/{group.pk}/topics", {"title": "好茶", "body": "加 微 信 聊"})
    assert (res.status_code, res.json()["error"]["code"]) == (422, "banned_words")
    assert Topic.objects.count() == 0
    held = api_for(author).post(f"community/groups/{group.pk}/topics", {"title": "日本代购", "body": "有人要吗"}).json()
    assert held["status"] == "pending"
    assert [t["id"] for t in api_for(reader).get(f"community/groups/{group.pk}/topics").json()] == []
    assert [t["id"] for t in api_for(author).get(f"community/groups/{group.pk}/topics").json()] == [held["id"]]
    owner_api = api_for(group.owner)
    assert owner_api.post(f"community/topics/{held['id']}/moderate", {"approve": True}).json()["status"] == "approved"
    assert [t["id"] for t in api_for(reader).get(f"community/groups/{group.pk}/topics").json()] == [held["id"]]


def test_flagged_reply_counts_once_approved(group) -> None:
    BannedWord.objects.create(word="代购", action=BannedWordAction.FLAG)
    author, other = member(group), member(group)
    topic = activity.post_topic(author, group.pk, title="t")
    held = activity.reply(other, topic.pk, "找代购")
    assert held.status == ModerationStatus.PENDING
    topic.refresh_from_db()
    assert topic.reply_count == 0
    activity.moderate(group.owner, reply_id=held.pk, approve=True)
    activity.moderate(group.owner, reply_id=held.pk, approve=True)
    topic.refresh_from_db()
    assert topic.reply_count == 1
    assert Reply.objects.get(pk=held.pk).status == ModerationStatus.APPROVED


def test_plain_members_cannot_post_announcements_or_moderate(group) -> None:
    author = member(group)
    res = api_for(author).post(f"community/groups/{group.pk}/topics", {"kind": "announcement", "title": "公告"})
    assert (res.status_code, res.json()["error"]["code"]) == (403, "not_group_manager")
    topic = activity.post_topic(author, group.pk, title="t")
    assert api_for(member(group)).post(f"community/topics/{topic.pk}/moderate", {"approve": False}).status_code == 403


def test_announcements_are_pinned_first(group) -> None:
    author = member(group)
    activity.post_topic(author, group.pk, title="闲聊")
    notice = activity.post_topic(OperatorFactory(), group.pk, kind="announcement", title="本周活动")
    activity.post_topic(author, group.pk, title="再聊")
    listed = api_for(author).get(f"community/groups/{group.pk}/topics").json()
    assert listed[0]["id"] == notice.pk
    assert listed[0]["pinned"] is True


def test_a_product_share_is_a_buyable_card(group) -> None:
    product = ProductFactory(price=6800)
    author = member(group)
    res = api_for(author).post(
        f"community/groups/{group.pk}/topics", {"kind": "share", "title": "推荐", "product_id": product.pk}
    )
    card = res.json()["product"]
    assert (card["id"], card["price"], card["buyable"]) == (product.pk, 6800, True)
    assert card["url"] == f"/p/{product.pk}/?group={group.pk}"
    res = api_for(author).post(f"community/groups/{group.pk}/topics", {"kind": "share", "title": "推荐"})
    assert "product_id" in res.json()["error"]["fields"]


def test_likes_count_once(group) -> None:
    author, fan = member(group), member(group)
    topic = activity.post_topic(author, group.pk, title="t")
    assert api_for(fan).post(f"community/topics/{topic.pk}/like").json() == {"counted": True}
    assert api_for(fan).post(f"community/topics/{topic.pk}/like").json() == {"counted": False}
    topic.refresh_from_db()
    assert topic.like_count == 1


def test_outsiders_see_nothing(group) -> None:
    topic = activity.post_topic(member(group), group.pk, title="t")
    outsider = api_for(UserFactory())
    assert outsider.get(f"community/topics/{topic.pk}").status_code == 403
    assert outsider.get(f"community/groups/{group.pk}/topics").status_code == 403


def test_signup_list_join_change_withdraw_and_export(group) -> None:
    a, b = member(group), member(group)
    signup = activity.post_topic(group.owner, group.pk, kind="signup", title="周六茶会接龙")
    rows = api_for(a).post(f"community/topics/{signup.pk}/signups", {"quantity": 2, "note": "带朋友"}).json()
    assert [(r["seq"], r["quantity"]) for r in rows] == [(1, 2)]
    api_for(b).post(f"community/topics/{signup.pk}/signups", {"quantity": 1, "note": "=HYPERLINK()"})
    api_for(a).post(f"community/topics/{signup.pk}/signups", {"quantity": 3})
    signup.refresh_from_db()
    assert signup.signup_total == 4
    exported = list(csv.reader(io.StringIO(activity.signups_csv(group.owner, signup.pk))))
    assert exported[0] == ["序号", "昵称", "手机号", "数量", "备注", "接龙时间"]
    assert [row[3] for row in exported[1:]] == ["3", "1"]
    assert exported[2][4] == "'=HYPERLINK()"
    api_for(b).delete(f"community/topics/{signup.pk}/signups")
    signup.refresh_from_db()
    assert (signup.signup_total, SignupEntry.objects.count()) == (3, 1)
    with pytest.raises(Forbidden):
        activity.signups_csv(a, signup.pk)


def test_signup_quantity_is_bounded(group) -> None:
    a = member(group)
    signup = activity.post_topic(group.owner, group.pk, kind="signup", title="接龙")
    res = api_for(a).post(f"community/topics/{signup.pk}/signups", {"quantity": 0})
    assert res.status_code == 422
    topic = activity.post_topic(a, group.pk, title="t")
    assert api_for(a).post(f"community/topics/{topic.pk}/signups", {"quantity": 1}).json()["error"]["code"] == (
        "not_a_signup"
    )


def test_poll_one_vote_each(group) -> None:
    a, b = member(group), member(group)
    poll = activity.post_topic(group.owner, group.pk, kind="poll", title="下次喝什么", options=["白茶", "红茶"])
    body = api_for(a).post(f"community/topics/{poll.pk}/vote", {"option": 1}).json()
    assert [o["votes"] for o in body["options"]] == [0, 1]
    assert body["my_vote"] == 1
    again = api_for(a).post(f"community/topics/{poll.pk}/vote", {"option": 0})
    assert (again.status_code, again.json()["error"]["code"]) == (409, "already_voted")
    api_for(b).post(f"community/topics/{poll.pk}/vote", {"option": 1})
    assert [o.votes for o in activity.poll_results(poll)] == [0, 2]


def test_poll_needs_two_options(group) -> None:
    res = api_for(group.owner).post(
        f"community/groups/{group.pk}/topics", {"kind": "poll", "title": "投票", "options": ["只有一个"]}
    )
    assert "options" in res.json()["error"]["fields"]
