"""Writing, moderating and reading posts through the API: forms, images, products, XSS, banned words."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from jishi.accounts.models import User
from jishi.accounts.services import has_role
from jishi.content.models import BannedWord, Post, PostImage, PostStatus
from jishi.content.text import forget_words
from jishi.core.models import AuditLog

from .conftest import photo, published_post, write_post

pytestmark = pytest.mark.django_db

XSS_BODY = (
    '<p onclick="steal()">好物<script>alert(1)</script></p><img src="javascript:alert(2)" onerror="alert(3)">'
    '<a href="javascript:alert(4)">链接</a><iframe src="//evil"></iframe><style>p{}</style>'
)


def upload(api: Any, data: bytes | None = None) -> Any:
    file = SimpleUploadedFile("a.png", data or photo(), content_type="image/png")
    return api.client.post("/api/v1/post-images", {"image": file}, headers=api._headers(None))


def test_buyer_post_with_image_and_product_waits_for_moderation(buyer_api: Any, sku: Any) -> None:
    image = upload(buyer_api)
    assert image.status_code == 201
    body = {
        "form": "review",
        "title": "龙井测评",
        "body": "香气足，回甘快。",
        "product_ids": [sku.product_id],
        "image_ids": [image.json()["id"]],
        "scores": [{"aspect": "香气", "score": 5}, {"aspect": "性价比", "score": 4}],
        "tags": ["#绿茶", "测评"],
    }
    r = buyer_api.post("posts", body)
    assert r.status_code == 201
    out = r.json()
    assert out["status"] == "pending"
    assert [p["id"] for p in out["products"]] == [sku.product_id]
    assert out["products"][0]["buyable"] is True
    assert [i["id"] for i in out["images"]] == [image.json()["id"]]
    assert out["scores"] == body["scores"]
    assert out["tags"] == ["测评", "绿茶"]
    assert out["body_html"] == "<p>香气足，回甘快。</p>"


def test_uploaded_image_is_resized_and_reencoded(buyer_api: Any) -> None:
    r = upload(buyer_api, photo((3000, 1500)))
    stored = PostImage.objects.get(pk=r.json()["id"])
    with Image.open(stored.image.path) as img:
        assert (img.format, img.size) == ("JPEG", (1200, 600))


def test_not_an_image_is_refused(buyer_api: Any) -> None:
    r = upload(buyer_api, b"<svg onload=alert(1)>")
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "invalid_image"


def test_someone_elses_image_cannot_be_attached(buyer_api: Any, other_buyer_api: Any) -> None:
    theirs = upload(other_buyer_api).json()["id"]
    r = buyer_api.post("posts", {"form": "kol", "title": "t", "body": "b", "image_ids": [theirs]})
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "image_not_found"
    assert Post.objects.count() == 0


def test_review_needs_scores(buyer_api: Any) -> None:
    r = buyer_api.post("posts", {"form": "review", "title": "t", "body": "b"})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "invalid_scores"


@pytest.mark.parametrize(
    ("field", "value"),
    [("form", "essay"), ("title", ""), ("title", "长" * 81), ("product_ids", [1] * 11), ("body", None)],
)
def test_bad_input_is_a_422(buyer_api: Any, field: str, value: Any) -> None:
    body = {"form": "kol", "title": "t", "body": "b", field: value}
    r = buyer_api.post("posts", body)
    assert r.status_code == 422
    assert Post.objects.count() == 0


def test_unpublished_product_cannot_be_linked(buyer_api: Any, sku: Any) -> None:
    sku.product.status = "draft"
    sku.product.save()
    r = buyer_api.post("posts", {"form": "list", "title": "t", "body": "b", "product_ids": [sku.product_id]})
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "product_unavailable"


def test_script_injection_is_stripped_from_api_output(buyer_api: Any, api: Any, moderator: Any) -> None:
    r = buyer_api.post("posts", {"form": "share", "title": "<b>标题</b>", "body": XSS_BODY})
    post_id = r.json()["id"]
    Post.objects.filter(pk=post_id).update(status=PostStatus.APPROVED)
    html = api.get(f"posts/{post_id}").json()["body_html"]
    for bad in ("<script", "onclick", "onerror", "javascript:", "<iframe", "<style", "alert(1)"):
        assert bad not in html
    assert html.startswith("<p>好物</p>")
    assert '<a rel="noopener noreferrer nofollow">链接</a>' in html


def test_pending_post_is_hidden_from_others_but_shown_to_its_author(
    buyer: Any, buyer_api: Any, other_buyer_api: Any, api: Any
) -> None:
    post = write_post(buyer)
    assert api.get(f"posts/{post.pk}").status_code == 404
    assert other_buyer_api.get(f"posts/{post.pk}").status_code == 404
    assert buyer_api.get(f"posts/{post.pk}").json()["status"] == "pending"
    assert api.get("posts").json()["total"] == 0


def test_operator_approves_and_creator_role_follows(buyer: Any, operator_api: Any, api: Any) -> None:
    post = write_post(buyer)
    r = operator_api.post(f"admin/posts/{post.pk}/approve")
    assert r.status_code == 200
    assert r.json()["status"] == "approved"
    assert api.get("posts").json()["items"][0]["id"] == post.pk
    assert has_role(User.objects.get(pk=buyer.pk), "creator")
    assert AuditLog.objects.filter(action="post.approve", target=f"post:{post.pk}").count() == 1
    again = operator_api.post(f"admin/posts/{post.pk}/approve")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "invalid_transition"


def test_buyer_cannot_moderate(buyer: Any, buyer_api: Any) -> None:
    post = write_post(buyer)
    assert buyer_api.post(f"admin/posts/{post.pk}/approve").status_code == 403
    post.refresh_from_db()
    assert post.status == PostStatus.PENDING


def test_reject_needs_a_reason_and_the_creator_sees_it(buyer: Any, buyer_api: Any, operator_api: Any) -> None:
    post = write_post(buyer)
    assert operator_api.post(f"admin/posts/{post.pk}/reject", {"reason": ""}).json()["error"]["code"] == (
        "reason_required"
    )
    operator_api.post(f"admin/posts/{post.pk}/reject", {"reason": "图片与商品无关"})
    mine = buyer_api.get("me/posts").json()
    assert [(m["id"], m["status"], m["reject_reason"]) for m in mine] == [(post.pk, "rejected", "图片与商品无关")]


def test_operator_post_is_published_at_once(operator: Any) -> None:
    post = write_post(operator)
    assert (post.status, post.by_operator) == (PostStatus.APPROVED, True)


def test_editing_a_published_post_sends_it_back_to_moderation(buyer: Any, buyer_api: Any, moderator: Any) -> None:
    post = published_post(buyer, moderator)
    r = buyer_api.put(f"posts/{post.pk}", {"form": "kol", "title": "改过了", "body": "新内容"})
    assert (r.json()["status"], r.json()["title"]) == ("pending", "改过了")


def test_someone_elses_post_cannot_be_edited(buyer: Any, other_buyer_api: Any) -> None:
    post = write_post(buyer)
    r = other_buyer_api.put(f"posts/{post.pk}", {"form": "kol", "title": "x", "body": "y"})
    assert r.status_code == 404


@pytest.mark.parametrize("text", ["加微信领红包", "加 微 信", "加ＷＸ号", "加-wx-号"])
def test_banned_word_rejects_chinese_text_however_spaced(buyer: Any, text: str) -> None:
    BannedWord.objects.create(word="微信", action="reject")
    BannedWord.objects.create(word="WX", action="reject")
    forget_words()
    post = write_post(buyer, body=text)
    assert post.status == PostStatus.REJECTED
    assert post.reject_reason.startswith("含违禁词：")


def test_flagged_word_holds_the_post_for_review(buyer: Any) -> None:
    BannedWord.objects.create(word="最便宜", action="flag")
    forget_words()
    post = write_post(buyer, title="全网最便宜")
    assert (post.status, post.flagged_words) == (PostStatus.PENDING, ["最便宜"])


def test_pin_and_take_down(buyer: Any, moderator: Any, operator_api: Any, api: Any) -> None:
    first = published_post(buyer, moderator, title="第一篇")
    second = published_post(buyer, moderator, title="第二篇")
    operator_api.post(f"admin/posts/{first.pk}/flags", {"pinned": True})
    assert [p["id"] for p in api.get("posts").json()["items"]] == [first.pk, second.pk]
    operator_api.post(f"admin/posts/{first.pk}/take-down", {"reason": "侵权"})
    assert [p["id"] for p in api.get("posts").json()["items"]] == [second.pk]
    assert api.get(f"posts/{first.pk}").status_code == 404
