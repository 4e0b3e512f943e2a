"""Storefront content pages: feed, post page (sanitised body, escaped comments), topic, creator centre."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings

from jishi.content import services
from jishi.content.models import Post, PostStatus, Topic
from jishi.content.tests.conftest import photo, published_post, write_post
from jishi.testing.factories import OperatorFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_content_urls")]


@pytest.fixture
def _content_urls() -> Any:
    with override_settings(ROOT_URLCONF="jishi.content.tests.urls"):
        yield


@pytest.fixture
def moderator() -> Any:
    return OperatorFactory()


def test_post_page_renders_sanitised_body_and_escaped_comments(
    me: Any, me_client: Client, shop: Any, moderator: Any
) -> None:
    post = published_post(
        me.user,
        moderator,
        body='<p>好喝<script>alert(1)</script><img src=x onerror="alert(2)"></p>',
        product_ids=[shop.longjing.pk],
    )
    services.add_comment(me.user, post.pk, "<script>alert(3)</script>")
    html = me_client.get(f"/content/p/{post.pk}/").content.decode()
    assert "<script>alert" not in html
    assert "onerror" not in html
    assert "&lt;script&gt;alert(3)&lt;/script&gt;" in html
    assert f'href="/p/{shop.longjing.pk}/"' in html
    assert "西湖龙井茶" in html


def test_feed_and_product_filter(client: Client, me: Any, shop: Any, moderator: Any) -> None:
    tea = published_post(me.user, moderator, title="龙井笔记", product_ids=[shop.longjing.pk])
    published_post(me.user, moderator, title="苹果笔记", product_ids=[shop.apple.pk])
    html = client.get(f"/content/?product={shop.longjing.pk}").content.decode()
    assert "龙井笔记" in html and "苹果笔记" not in html
    assert f'data-post="{tea.pk}"' in html


def test_topic_page_shows_posts_and_products(client: Client, me: Any, shop: Any, moderator: Any) -> None:
    post = published_post(me.user, moderator, title="夏天喝茶")
    topic = Topic.objects.create(title="品质茶生活")
    topic.posts.add(post)
    topic.products.add(shop.pu_erh)
    html = client.get(f"/content/t/{topic.pk}/").content.decode()
    assert "夏天喝茶" in html and "云南普洱茶饼" in html


def test_pending_post_page_is_404_for_others(client: Client, me: Any) -> None:
    post = write_post(me.user)
    assert client.get(f"/content/p/{post.pk}/").status_code == 404


def test_write_a_review_with_image_and_product(me: Any, me_client: Client, shop: Any) -> None:
    r = me_client.post(
        "/content/write/",
        {
            "form": "review",
            "title": "龙井测评",
            "body": "香！",
            "aspect": ["香气", ""],
            "score": ["5", "5"],
            "product_ids": [str(shop.longjing.pk)],
            "images": SimpleUploadedFile("tea.png", photo(), content_type="image/png"),
        },
    )
    assert r.status_code == 302
    post = Post.objects.get()
    assert (post.status, post.scores) == (PostStatus.PENDING, [{"aspect": "香气", "score": 5}])
    assert [link.product_id for link in post.product_links.all()] == [shop.longjing.pk]
    assert post.images.count() == 1
    mine = me_client.get("/content/mine/").content.decode()
    assert "龙井测评" in mine and "待审核" in mine


def test_someone_elses_post_cannot_be_edited(other: Any, me_client: Client) -> None:
    post = write_post(other.user)
    assert me_client.get(f"/content/p/{post.pk}/edit/").status_code == 404


def test_like_button_toggles(me: Any, other: Any, client: Client, moderator: Any) -> None:
    post = published_post(other.user, moderator)
    client.force_login(me.user)
    client.post(f"/content/p/{post.pk}/like/")
    post.refresh_from_db()
    assert post.like_count == 1
    client.post(f"/content/p/{post.pk}/like/", {"undo": "1"})
    post.refresh_from_db()
    assert post.like_count == 0
