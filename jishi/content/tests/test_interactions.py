"""Likes, favourites, comments, shares, views and follows: once per person, counters equal to rows."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from jishi.accounts.services import issue_token
from jishi.content import services
from jishi.content.models import BannedWord, Comment, Like, Post, PostShare, PostView
from jishi.content.text import forget_words
from jishi.testing.factories import UserFactory

from .conftest import published_post, write_post


@pytest.fixture
def post(buyer: Any, moderator: Any) -> Post:
    return published_post(buyer, moderator)


@pytest.mark.django_db
def test_like_is_idempotent_and_unlike_undoes_it(post: Post, other_buyer_api: Any) -> None:
    assert other_buyer_api.post(f"posts/{post.pk}/like").json() == {"liked": True, "like_count": 1}
    assert other_buyer_api.post(f"posts/{post.pk}/like").json() == {"liked": True, "like_count": 1}
    assert other_buyer_api.delete(f"posts/{post.pk}/like").json() == {"liked": False, "like_count": 0}
    assert other_buyer_api.delete(f"posts/{post.pk}/like").json() == {"liked": False, "like_count": 0}
    assert Like.objects.count() == 0


@pytest.mark.django_db
def test_pending_post_cannot_be_liked(buyer: Any, other_buyer_api: Any) -> None:
    pending = write_post(buyer)
    r = other_buyer_api.post(f"posts/{pending.pk}/like")
    assert r.status_code == 404


@pytest.mark.django_db(transaction=True)
def test_parallel_likes_by_one_person_make_one_like() -> None:
    author, fan = UserFactory(), UserFactory()
    post = write_post(author)
    Post.objects.filter(pk=post.pk).update(status="approved")
    results: list[bool] = []
    errors: list[BaseException] = []

    def hit() -> None:
        try:
            results.append(services.like(fan, post.pk))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=hit) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(results) == [False] * 7 + [True]
    post.refresh_from_db()
    assert (Like.objects.filter(post=post).count(), post.like_count) == (1, 1)


@pytest.mark.django_db
def test_favourite_once(post: Post, other_buyer_api: Any) -> None:
    other_buyer_api.post(f"posts/{post.pk}/favourite")
    other_buyer_api.post(f"posts/{post.pk}/favourite")
    post.refresh_from_db()
    assert post.favourite_count == 1


@pytest.mark.django_db
def test_comments_thread_one_level(post: Post, buyer_api: Any, other_buyer_api: Any, api: Any) -> None:
    top = other_buyer_api.post(f"posts/{post.pk}/comments", {"body": "求链接"}).json()
    reply = buyer_api.post(f"posts/{post.pk}/comments", {"body": "下方商品卡", "parent_id": top["id"]}).json()
    deeper = other_buyer_api.post(f"posts/{post.pk}/comments", {"body": "谢谢", "parent_id": reply["id"]}).json()
    items = api.get(f"posts/{post.pk}/comments").json()["items"]
    assert [c["id"] for c in items] == [top["id"]]
    assert [r["id"] for r in items[0]["replies"]] == [reply["id"], deeper["id"]]
    post.refresh_from_db()
    assert post.comment_count == 3


@pytest.mark.django_db
def test_comment_script_is_escaped_in_api_output(post: Post, other_buyer_api: Any, api: Any) -> None:
    r = other_buyer_api.post(f"posts/{post.pk}/comments", {"body": '<script>alert("x")</script><img onerror=1>'})
    assert r.status_code == 201
    shown = api.get(f"posts/{post.pk}/comments").json()["items"][0]["body_html"]
    assert shown == "<p>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img onerror=1&gt;</p>"


@pytest.mark.django_db
def test_banned_comment_is_rejected_and_not_counted(post: Post, other_buyer_api: Any, api: Any) -> None:
    BannedWord.objects.create(word="代购", action="reject")
    forget_words()
    r = other_buyer_api.post(f"posts/{post.pk}/comments", {"body": "专业代 购"})
    assert r.json()["status"] == "rejected"
    assert api.get(f"posts/{post.pk}/comments").json()["items"] == []
    post.refresh_from_db()
    assert post.comment_count == 0


@pytest.mark.django_db
def test_flagged_comment_waits_then_counts_when_approved(post: Post, other_buyer_api: Any, operator_api: Any) -> None:
    BannedWord.objects.create(word="私聊", action="flag")
    forget_words()
    r = other_buyer_api.post(f"posts/{post.pk}/comments", {"body": "有货私聊"})
    assert r.json()["status"] == "pending"
    assert [c["id"] for c in other_buyer_api.get(f"posts/{post.pk}/comments").json()["items"]] == [r.json()["id"]]
    operator_api.post(f"admin/comments/{r.json()['id']}/moderate", {"approve": True})
    post.refresh_from_db()
    assert post.comment_count == 1


@pytest.mark.django_db
def test_share_link_carries_the_sharer_and_counts_opens(post: Post, other_buyer_api: Any, buyer: Any) -> None:
    out = other_buyer_api.post(f"posts/{post.pk}/share").json()
    other_buyer_api.post(f"posts/{post.pk}/share")
    share = PostShare.objects.get(pk=out["share_id"])
    assert out["path"] == f"/content/p/{post.pk}/?share={share.pk}"
    reader = UserFactory()
    from conftest import Api  # the suite's JSON client

    Api(issue_token(reader)).get(f"posts/{post.pk}?share={share.pk}")
    share.refresh_from_db()
    post.refresh_from_db()
    assert (post.share_count, share.opens) == (1, 1)
    assert PostView.objects.get(post=post, user=reader).share_id == share.pk


@pytest.mark.django_db
def test_views_are_recorded_per_buyer(post: Post, other_buyer_api: Any, api: Any) -> None:
    other_buyer_api.get(f"posts/{post.pk}")
    other_buyer_api.get(f"posts/{post.pk}")
    api.get(f"posts/{post.pk}")
    post.refresh_from_db()
    assert post.view_count == 3
    assert list(PostView.objects.values_list("views", flat=True)) == [2]


@pytest.mark.django_db
def test_following_feed(post: Post, buyer: Any, other_buyer_api: Any) -> None:
    assert other_buyer_api.get("posts?sort=following").json()["items"] == []
    other_buyer_api.post(f"creators/{buyer.pk}/follow")
    assert [p["id"] for p in other_buyer_api.get("posts?sort=following").json()["items"]] == [post.pk]


@pytest.mark.django_db
def test_hot_ranks_by_weighted_interactions(buyer: Any, moderator: Any, api: Any) -> None:
    quiet = published_post(buyer, moderator, title="冷门")
    busy = published_post(buyer, moderator, title="热门")
    for _ in range(3):
        services.like(UserFactory(), busy.pk)
    assert [p["id"] for p in api.get("posts?sort=hot").json()["items"]] == [busy.pk, quiet.pk]
    assert [p["id"] for p in api.get("posts?sort=latest").json()["items"]] == [busy.pk, quiet.pk]


@pytest.mark.django_db
def test_recount_repairs_drifted_counters(post: Post) -> None:
    services.like(UserFactory(), post.pk)
    services.add_comment(UserFactory(), post.pk, "好")
    Post.objects.filter(pk=post.pk).update(like_count=7, comment_count=0)
    assert services.recount([post.pk]) == 1
    post.refresh_from_db()
    assert (post.like_count, post.comment_count) == (1, 1)
    assert services.recount([post.pk]) == 0
    assert Comment.objects.count() == 1
