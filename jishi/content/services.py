"""Every change in content commerce: posts and images, moderation, interactions, follows, feeds, creator stats.

Counters on a post change only by ``F()`` updates in the transaction that writes the row they count
(``recount`` repairs them from the rows); "once per person" is a unique constraint plus ``insert_once``.
Rewards live in ``rewards``, sales attribution and creator commission in ``attribution``.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count, F, Prefetch, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jishi.accounts.models import Role, User
from jishi.accounts.services import grant_role, has_role
from jishi.catalog.models import Product, ProductStatus
from jishi.catalog.services import normalise_image
from jishi.core import audit, local_cache
from jishi.core.errors import Conflict, InvalidInput, NotFound
from jishi.core.events import publish
from jishi.core.sql import insert_once

from . import conf, text
from .models import (
    AttributedLine,
    Comment,
    CommentStatus,
    ContentSettings,
    Favourite,
    Follow,
    Like,
    Post,
    PostForm,
    PostImage,
    PostProduct,
    PostShare,
    PostStatus,
    PostView,
    RewardGrant,
    Tag,
    Topic,
)

# Moderation as data: a move not listed here raises.
TRANSITIONS: dict[str, set[str]] = {
    PostStatus.PENDING: {PostStatus.APPROVED, PostStatus.REJECTED},
    PostStatus.APPROVED: {PostStatus.TAKEN_DOWN, PostStatus.PENDING},
    PostStatus.REJECTED: {PostStatus.APPROVED, PostStatus.PENDING},
    PostStatus.TAKEN_DOWN: {PostStatus.APPROVED, PostStatus.PENDING},
}


# --- settings -----------------------------------------------------------------------------

_cached: tuple[float, ContentSettings] | None = None
SETTINGS_TTL_SECONDS = 5.0


def get_settings(*, fresh: bool = False) -> ContentSettings:
    """The rules, read at most every few seconds per process (checkout and every like ask)."""
    global _cached
    import time

    now = time.monotonic()
    if not fresh and _cached and now - _cached[0] < SETTINGS_TTL_SECONDS:
        return _cached[1]
    row = conf.content_settings()
    _cached = (now, row)
    return row


@local_cache.register
def forget_settings() -> None:
    global _cached
    _cached = None


def update_settings(actor: User | None, data: dict[str, Any]) -> ContentSettings:
    row = get_settings(fresh=True)
    for name, value in data.items():
        if value is None or name not in conf.DEFAULTS:
            continue
        setattr(row, name, value)
    if not 0 <= row.commission_bp <= 10_000:
        raise InvalidInput(code="invalid_rate", fields={"commission_bp": ["0..10000"]})
    if row.attribution_days < 1 or row.reward_threshold < 1 or row.hot_window_days < 1:
        raise InvalidInput(code="invalid_number", fields={"attribution_days": [">= 1"]})
    row.save()
    forget_settings()
    audit.record(actor, "content.settings", "content:settings", **{k: getattr(row, k) for k in conf.DEFAULTS})
    return row


# --- images -------------------------------------------------------------------------------


def upload_image(user: User, raw: bytes) -> PostImage:
    """Decode, resize and re-encode through the catalogue's one image normaliser, then store."""
    content = normalise_image(raw)
    image = PostImage(uploader=user)
    image.image.save(f"{uuid.uuid4().hex}.jpg", ContentFile(content), save=True)
    return image


# --- writing posts --------------------------------------------------------------------------


@dataclass(frozen=True)
class PostInput:
    form: str
    title: str
    body: str
    product_ids: Sequence[int] = ()
    image_ids: Sequence[int] = ()
    scores: Sequence[dict[str, Any]] = ()
    tags: Sequence[str] = ()


def _invalid(field: str, message: Any, code: str = "invalid") -> InvalidInput:
    return InvalidInput(message, code=code, fields={field: [str(message)]})


def _clean_scores(form: str, scores: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    if form != PostForm.REVIEW:
        return []
    clean: list[dict[str, Any]] = []
    seen: set[str] = set()
    for row in scores:
        aspect = str(row.get("aspect", "")).strip()[:10]
        try:
            score = int(row.get("score", 0))
        except (TypeError, ValueError):
            score = 0
        if not aspect or aspect in seen or not 1 <= score <= 5:
            raise _invalid("scores", _("每个评分维度需要名称和 1–5 分"), "invalid_scores")
        seen.add(aspect)
        clean.append({"aspect": aspect, "score": score})
    if not clean or len(clean) > 8:
        raise _invalid("scores", _("测评需要 1–8 个评分维度"), "invalid_scores")
    return clean


def _clean(data: PostInput) -> dict[str, Any]:
    if data.form not in PostForm.values:
        raise _invalid("form", _("笔记形式无效"), "invalid_form")
    title = data.title.strip()
    body = data.body.strip()
    if not title or len(title) > conf.MAX_TITLE:
        raise _invalid("title", _("标题为 1–80 个字"), "invalid_title")
    if not body or len(body) > conf.MAX_BODY:
        raise _invalid("body", _("正文不能为空且不超过两万字"), "invalid_body")
    body_html = text.render_body(body)
    if not text.plain_text(body_html).strip() and "<img" not in body_html:
        raise _invalid("body", _("正文不能为空"), "invalid_body")
    product_ids = list(dict.fromkeys(int(i) for i in data.product_ids))
    if len(product_ids) > conf.MAX_PRODUCTS:
        raise _invalid("product_ids", _("最多关联 10 个商品"), "too_many_products")
    image_ids = list(dict.fromkeys(int(i) for i in data.image_ids))
    if len(image_ids) > conf.MAX_IMAGES:
        raise _invalid("image_ids", _("最多 9 张图片"), "too_many_images")
    tags = list(dict.fromkeys(t.strip().lstrip("#")[:20] for t in data.tags if t.strip().lstrip("#")))
    if len(tags) > 5:
        raise _invalid("tags", _("最多 5 个标签"), "too_many_tags")
    return {
        "form": data.form,
        "title": title,
        "body": body,
        "body_html": body_html,
        "scores": _clean_scores(data.form, data.scores),
        "product_ids": product_ids,
        "image_ids": image_ids,
        "tags": tags,
    }


def _check_links(author: User, clean: dict[str, Any], post: Post | None) -> None:
    found = set(
        Product.objects.filter(pk__in=clean["product_ids"], status=ProductStatus.PUBLISHED).values_list("pk", flat=True)
    )
    missing = [str(i) for i in clean["product_ids"] if i not in found]
    if missing:
        raise NotFound(_("商品不存在或已下架"), code="product_unavailable", fields={"product_ids": missing})
    images = PostImage.objects.filter(pk__in=clean["image_ids"], uploader=author)
    images = images.filter(Q(post__isnull=True) | Q(post=post)) if post else images.filter(post__isnull=True)
    usable = set(images.values_list("pk", flat=True))
    bad = [str(i) for i in clean["image_ids"] if i not in usable]
    if bad:  # someone else's image, or one already in another post: 404, never a leak
        raise NotFound(_("图片不存在"), code="image_not_found", fields={"image_ids": bad})


def _screen_verdict(post: Post, clean: dict[str, Any]) -> None:
    """Apply the banned-word list: a "reject" word refuses the post with the words as the reason."""
    verdict = text.screen(clean["title"], text.plain_text(clean["body_html"]), " ".join(clean["tags"]))
    post.flagged_words = verdict.rejected + verdict.flagged
    if verdict.rejected:
        post.status = PostStatus.REJECTED
        post.reject_reason = str(_("含违禁词：%(words)s") % {"words": "、".join(verdict.rejected)})[:200]
    else:
        post.reject_reason = ""


def _save_links(post: Post, clean: dict[str, Any]) -> None:
    PostProduct.objects.filter(post=post).exclude(product_id__in=clean["product_ids"]).delete()
    for sort, product_id in enumerate(clean["product_ids"]):
        PostProduct.objects.update_or_create(post=post, product_id=product_id, defaults={"sort": sort})
    PostImage.objects.filter(post=post).exclude(pk__in=clean["image_ids"]).update(post=None)
    for sort, image_id in enumerate(clean["image_ids"]):
        PostImage.objects.filter(pk=image_id).update(post=post, sort=sort)
    tags = [Tag.objects.get_or_create(name=name)[0] for name in clean["tags"]]
    post.tags.set(tags)


def create_post(author: User, data: PostInput, now: datetime | None = None) -> Post:
    """A buyer's post waits for moderation; an operator's is published at once."""
    clean = _clean(data)
    _check_links(author, clean, None)
    operator = has_role(author, Role.OPERATOR)
    with transaction.atomic():
        post = Post(
            author=author,
            by_operator=operator,
            form=clean["form"],
            title=clean["title"],
            body=clean["body"],
            body_html=clean["body_html"],
            scores=clean["scores"],
        )
        if not operator:
            _screen_verdict(post, clean)
        post.save()
        _save_links(post, clean)
        if operator:
            _publish(post, now or timezone.now())
    return post


def update_post(author: User, post_id: int, data: PostInput) -> Post:
    """The author edits: a buyer's post goes back to moderation."""
    clean = _clean(data)
    with transaction.atomic():
        post = Post.objects.select_for_update().filter(pk=post_id, author=author).first()
        if post is None:
            raise NotFound()
        _check_links(author, clean, post)
        for name in ("form", "title", "body", "body_html", "scores"):
            setattr(post, name, clean[name])
        if not post.by_operator:
            post.status = PostStatus.PENDING
            _screen_verdict(post, clean)
        post.save()
        _save_links(post, clean)
    return post


def _publish(post: Post, now: datetime) -> None:
    fields: dict[str, Any] = {"status": PostStatus.APPROVED, "reject_reason": ""}
    if post.published_at is None:
        fields["published_at"] = now
    Post.objects.filter(pk=post.pk).update(**fields)
    for name, value in fields.items():
        setattr(post, name, value)
    publish("post.approved", {"post_id": post.pk, "author_id": post.author_id, "by_operator": post.by_operator})


# --- moderation -------------------------------------------------------------------------------


def _move(post_id: int, to: str) -> Post:
    post = Post.objects.select_for_update().filter(pk=post_id).first()
    if post is None:
        raise NotFound()
    if to not in TRANSITIONS[post.status]:
        raise Conflict(
            _("笔记当前状态不允许此操作"), code="invalid_transition", fields={"status": [f"{post.status} → {to}"]}
        )
    return post


def approve_post(actor: User, post_id: int, now: datetime | None = None) -> Post:
    with transaction.atomic():
        post = _move(post_id, PostStatus.APPROVED)
        _publish(post, now or timezone.now())
        if not post.by_operator:
            grant_role(post.author, Role.CREATOR)
        audit.record(actor, "post.approve", f"post:{post.pk}")
    return post


def reject_post(actor: User, post_id: int, reason: str) -> Post:
    reason = reason.strip()[: conf.MAX_REASON]
    if not reason:
        raise _invalid("reason", _("请填写驳回原因"), "reason_required")
    with transaction.atomic():
        post = _move(post_id, PostStatus.REJECTED)
        Post.objects.filter(pk=post.pk).update(status=PostStatus.REJECTED, reject_reason=reason)
        post.status, post.reject_reason = PostStatus.REJECTED, reason
        audit.record(actor, "post.reject", f"post:{post.pk}", reason=reason)
        publish("post.rejected", {"post_id": post.pk, "author_id": post.author_id, "reason": reason})
    return post


def take_down(actor: User, post_id: int, reason: str) -> Post:
    reason = reason.strip()[: conf.MAX_REASON] or str(_("违反社区规范"))
    with transaction.atomic():
        post = _move(post_id, PostStatus.TAKEN_DOWN)
        Post.objects.filter(pk=post.pk).update(status=PostStatus.TAKEN_DOWN, reject_reason=reason, pinned=False)
        post.status, post.reject_reason, post.pinned = PostStatus.TAKEN_DOWN, reason, False
        audit.record(actor, "post.take_down", f"post:{post.pk}", reason=reason)
    return post


def set_flags(actor: User, post_id: int, *, pinned: bool | None = None, featured: bool | None = None) -> Post:
    post = Post.objects.filter(pk=post_id).first()
    if post is None:
        raise NotFound()
    if post.status != PostStatus.APPROVED:
        raise Conflict(_("只能置顶或精选已发布的笔记"), code="not_published")
    fields = {k: v for k, v in {"pinned": pinned, "featured": featured}.items() if v is not None}
    Post.objects.filter(pk=post.pk).update(**fields)
    for name, value in fields.items():
        setattr(post, name, value)
    audit.record(actor, "post.flags", f"post:{post.pk}", **fields)
    return post


def moderate_comment(actor: User, comment_id: int, approve: bool, reason: str = "") -> Comment:
    """Pending → approved (counted from now on) or rejected; an approved one may be rejected later."""
    with transaction.atomic():
        comment = Comment.objects.select_for_update().filter(pk=comment_id).first()
        if comment is None:
            raise NotFound()
        target = CommentStatus.APPROVED if approve else CommentStatus.REJECTED
        if comment.status == target or (approve and comment.status != CommentStatus.PENDING):
            raise Conflict(_("评论当前状态不允许此操作"), code="invalid_transition")
        was_counted = comment.status == CommentStatus.APPROVED
        Comment.objects.filter(pk=comment.pk).update(status=target, reject_reason=reason.strip()[:200])
        if approve:
            Post.objects.filter(pk=comment.post_id).update(comment_count=F("comment_count") + 1)
            _published_comment(comment)
        elif was_counted:
            Post.objects.filter(pk=comment.post_id).update(comment_count=F("comment_count") - 1)
        comment.status = target
        audit.record(actor, f"comment.{'approve' if approve else 'reject'}", f"comment:{comment.pk}", reason=reason)
    return comment


# --- reading posts ------------------------------------------------------------------------------


def card_queryset() -> QuerySet[Post]:
    """Posts with what a card or page shows, in a fixed number of queries."""
    return Post.objects.select_related("author").prefetch_related(
        Prefetch("images", queryset=PostImage.objects.order_by("sort", "id")),
        Prefetch(
            "product_links",
            queryset=PostProduct.objects.select_related("product")
            .prefetch_related("product__images")
            .order_by("sort", "id"),
        ),
        "tags",
    )


def visible_post(post_id: int, viewer: User | None) -> Post:
    """A published post for anyone; the author also sees their own in any status. Else 404."""
    post = card_queryset().filter(pk=post_id).first()
    if post is None:
        raise NotFound()
    if post.status != PostStatus.APPROVED and (viewer is None or viewer.pk != post.author_id):
        raise NotFound()
    return post


def _published(post_id: int) -> Post:
    post = Post.objects.filter(pk=post_id, status=PostStatus.APPROVED).only("id", "author_id", "created_at").first()
    if post is None:
        raise NotFound()
    return post


def viewer_state(viewer: User | None, post_ids: Iterable[int]) -> dict[str, set[int]]:
    ids = list(post_ids)
    if viewer is None or not ids:
        return {"liked": set(), "favourited": set()}
    return {
        "liked": set(Like.objects.filter(user=viewer, post_id__in=ids).values_list("post_id", flat=True)),
        "favourited": set(Favourite.objects.filter(user=viewer, post_id__in=ids).values_list("post_id", flat=True)),
    }


def comments_of(post: Post, viewer: User | None = None, limit: int = 50, offset: int = 0) -> list[Comment]:
    """Top-level comments with their replies; a viewer also sees their own pending ones."""
    shown = Q(status=CommentStatus.APPROVED)
    if viewer is not None:
        shown |= Q(user=viewer, status=CommentStatus.PENDING)
    replies = Comment.objects.filter(shown).select_related("user").order_by("id")
    return list(
        Comment.objects.filter(shown, post=post, parent__isnull=True)
        .select_related("user")
        .prefetch_related(Prefetch("replies", queryset=replies))
        .order_by("id")[offset : offset + limit]
    )


def hot_score(post: Any, now: datetime) -> float:
    w = conf.HOT_WEIGHTS
    points = (
        post.like_count * w["like"]
        + post.comment_count * w["comment"]
        + post.favourite_count * w["favourite"]
        + post.share_count * w["share"]
    )
    hours = max((now - (post.published_at or now)).total_seconds() / 3600, 0)
    return float(points) / math.pow(hours + 2, conf.HOT_GRAVITY)


def feed(
    *,
    sort: str = "latest",
    viewer: User | None = None,
    topic_id: int | None = None,
    product_id: int | None = None,
    tag: str = "",
    author_id: int | None = None,
    form: str = "",
    limit: int = 20,
    offset: int = 0,
    now: datetime | None = None,
) -> tuple[list[Post], int]:
    """Published posts: latest (pinned first), hot (interactions over time-decay), or from followed creators."""
    now = now or timezone.now()
    rows = Post.objects.filter(status=PostStatus.APPROVED)
    if topic_id is not None:
        rows = rows.filter(topics__id=topic_id, topics__is_active=True)
    if product_id is not None:
        rows = rows.filter(product_links__product_id=product_id)
    if tag:
        rows = rows.filter(tags__name=tag)
    if author_id is not None:
        rows = rows.filter(author_id=author_id)
    if form:
        rows = rows.filter(form=form)
    if sort == "following":
        if viewer is None:
            return [], 0
        rows = rows.filter(author_id__in=Follow.objects.filter(follower=viewer).values("creator_id"))
    if sort == "hot":
        window = now - timedelta(days=get_settings().hot_window_days)
        candidates = list(
            rows.filter(published_at__gte=window)
            .annotate(weight=F("like_count") + F("comment_count") * 2 + F("favourite_count") * 2 + F("share_count") * 3)
            .order_by("-weight", "-id")
            .only("id", "like_count", "comment_count", "favourite_count", "share_count", "published_at")[
                : conf.HOT_CANDIDATES
            ]
        )
        candidates.sort(key=lambda p: (-hot_score(p, now), -p.pk))
        page_ids = [p.pk for p in candidates[offset : offset + limit]]
        by_id = {p.pk: p for p in card_queryset().filter(pk__in=page_ids)}
        return [by_id[i] for i in page_ids], len(candidates)
    total = rows.count()
    order = ["-pinned", "-published_at", "-id"] if sort == "latest" and topic_id is None else ["-published_at", "-id"]
    return list(card_queryset().filter(pk__in=rows.values("pk")).order_by(*order)[offset : offset + limit]), total


def topics(active_only: bool = True) -> list[Topic]:
    rows = Topic.objects.annotate(n_posts=Count("posts", filter=Q(posts__status=PostStatus.APPROVED)))
    return list(rows.filter(is_active=True) if active_only else rows)


def get_topic(topic_id: int) -> Topic:
    topic = Topic.objects.filter(pk=topic_id, is_active=True).first()
    if topic is None:
        raise NotFound()
    return topic


def topic_products(topic: Topic, limit: int = 20) -> list[Product]:
    return list(topic.products.filter(status=ProductStatus.PUBLISHED).prefetch_related("images")[:limit])


# --- interactions ---------------------------------------------------------------------------------


def _interacted(post: Post, user: User, kind: str) -> None:
    publish(f"post.{kind}", {"post_id": post.pk, "author_id": post.author_id, "user_id": user.pk})


def like(user: User, post_id: int) -> bool:
    """Like once: a repeat (or a parallel duplicate) changes nothing. True when this call liked."""
    post = _published(post_id)
    with transaction.atomic():
        if insert_once(Like, {"post": post.pk, "user": user.pk}, conflict=["post", "user"]) is None:
            return False
        Post.objects.filter(pk=post.pk).update(like_count=F("like_count") + 1)
        _interacted(post, user, "liked")
    return True


def unlike(user: User, post_id: int) -> bool:
    with transaction.atomic():
        deleted, _rows = Like.objects.filter(post_id=post_id, user=user).delete()
        if deleted:
            Post.objects.filter(pk=post_id).update(like_count=F("like_count") - 1)
    return bool(deleted)


def favourite(user: User, post_id: int) -> bool:
    post = _published(post_id)
    with transaction.atomic():
        if insert_once(Favourite, {"post": post.pk, "user": user.pk}, conflict=["post", "user"]) is None:
            return False
        Post.objects.filter(pk=post.pk).update(favourite_count=F("favourite_count") + 1)
    return True


def unfavourite(user: User, post_id: int) -> bool:
    with transaction.atomic():
        deleted, _rows = Favourite.objects.filter(post_id=post_id, user=user).delete()
        if deleted:
            Post.objects.filter(pk=post_id).update(favourite_count=F("favourite_count") - 1)
    return bool(deleted)


def _published_comment(comment: Comment) -> None:
    publish("post.commented", {"post_id": comment.post_id, "user_id": comment.user_id, "comment_id": comment.pk})


def add_comment(user: User, post_id: int, body: str, parent_id: int | None = None) -> Comment:
    """Comment (plain text); a reply to a reply joins its top-level thread. Banned words reject or hold it."""
    post = _published(post_id)
    body = body.strip()
    if not body or len(body) > conf.MAX_COMMENT:
        raise _invalid("body", _("评论为 1–500 个字"), "invalid_body")
    parent = None
    if parent_id is not None:
        parent = Comment.objects.filter(pk=parent_id, post=post, status=CommentStatus.APPROVED).first()
        if parent is None:
            raise NotFound(fields={"parent_id": [str(parent_id)]})
        if parent.parent_id:
            parent = Comment(pk=parent.parent_id)
    verdict = text.screen(body)
    if verdict.rejected:
        status, reason = CommentStatus.REJECTED, str(_("含违禁词：%(w)s") % {"w": "、".join(verdict.rejected)})
    elif verdict.flagged or not get_settings().comment_auto_approve:
        status, reason = CommentStatus.PENDING, ""
    else:
        status, reason = CommentStatus.APPROVED, ""
    with transaction.atomic():
        comment = Comment.objects.create(
            post=post,
            user=user,
            parent=parent,
            body=body,
            status=status,
            reject_reason=reason[:200],
            flagged_words=verdict.rejected + verdict.flagged,
        )
        if status == CommentStatus.APPROVED:
            Post.objects.filter(pk=post.pk).update(comment_count=F("comment_count") + 1)
            _published_comment(comment)
    return comment


def share(user: User, post_id: int) -> PostShare:
    """The sharer's link to the post (one per sharer; the first share counts)."""
    post = _published(post_id)
    with transaction.atomic():
        if insert_once(PostShare, {"post": post.pk, "sharer": user.pk}, conflict=["post", "sharer"]) is not None:
            Post.objects.filter(pk=post.pk).update(share_count=F("share_count") + 1)
    return PostShare.objects.get(post=post, sharer=user)


def record_view(viewer: User | None, post: Post, share_id: int | None = None, now: datetime | None = None) -> None:
    """Count a view; a signed-in buyer's last view is what a later purchase is attributed by."""
    now = now or timezone.now()
    with transaction.atomic():
        Post.objects.filter(pk=post.pk).update(view_count=F("view_count") + 1)
        share_row = None
        if share_id:
            share_row = PostShare.objects.filter(pk=share_id, post=post).exclude(sharer=viewer).first()
            if share_row is not None:
                PostShare.objects.filter(pk=share_row.pk).update(opens=F("opens") + 1)
        if viewer is None or viewer.pk == post.author_id:
            return
        values = {"post": post.pk, "user": viewer.pk, "first_viewed_at": now, "last_viewed_at": now}
        if share_row is not None:
            values["share"] = share_row.pk
        if insert_once(PostView, values, conflict=["post", "user"]) is None:
            changes: dict[str, Any] = {"views": F("views") + 1, "last_viewed_at": now}
            if share_row is not None:
                changes["share"] = share_row
            PostView.objects.filter(post=post, user=viewer).update(**changes)


def follow(user: User, creator_id: int) -> bool:
    if creator_id == user.pk:
        raise _invalid("creator_id", _("不能关注自己"), "self_follow")
    if not User.objects.filter(pk=creator_id, is_active=True).exists():
        raise NotFound()
    return (
        insert_once(Follow, {"follower": user.pk, "creator": creator_id}, conflict=["follower", "creator"]) is not None
    )


def unfollow(user: User, creator_id: int) -> bool:
    return bool(Follow.objects.filter(follower=user, creator_id=creator_id).delete()[0])


def recount(post_ids: Iterable[int] | None = None) -> int:
    """Repair counters from the rows they count; returns how many posts were off."""
    rows = Post.objects.all() if post_ids is None else Post.objects.filter(pk__in=list(post_ids))
    fixed = 0
    for post in rows.annotate(
        n_likes=Count("likes", distinct=True),
        n_favs=Count("favourites", distinct=True),
        n_comments=Count("comments", filter=Q(comments__status=CommentStatus.APPROVED), distinct=True),
        n_shares=Count("shares", distinct=True),
    ).iterator():
        truth = {
            "like_count": post.n_likes,
            "favourite_count": post.n_favs,
            "comment_count": post.n_comments,
            "share_count": post.n_shares,
        }
        if any(getattr(post, k) != v for k, v in truth.items()):
            Post.objects.filter(pk=post.pk).update(**truth)
            fixed += 1
    return fixed


# --- creator centre ----------------------------------------------------------------------------------


def my_posts(user: User, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
    """The author's posts in any status, with views, interactions, attributed orders and GMV, rewards."""
    posts = list(card_queryset().filter(author=user).order_by("-id")[offset : offset + limit])
    ids = [p.pk for p in posts]
    sales = {
        r["post_id"]: r
        for r in AttributedLine.objects.filter(post_id__in=ids)
        .values("post_id")
        .annotate(
            orders=Count("order_id", distinct=True),
            paid=Sum("paid_amount"),
            refunded=Sum("refunded_amount"),
            commission=Sum("commission"),
        )
    }
    rewards = {
        r["post_id"]: r
        for r in RewardGrant.objects.filter(post_id__in=ids)
        .values("post_id")
        .annotate(red_packet=Sum("red_packet"), points=Sum("points"))
    }
    out = []
    for post in posts:
        s, r = sales.get(post.pk, {}), rewards.get(post.pk, {})
        out.append(
            {
                "post": post,
                "views": post.view_count,
                "interactions": post.interaction_count,
                "orders": int(s.get("orders") or 0),
                "gmv": int((s.get("paid") or 0) - (s.get("refunded") or 0)),
                "commission": int(s.get("commission") or 0),
                "red_packet": int(r.get("red_packet") or 0),
                "points": int(r.get("points") or 0),
            }
        )
    return out


def performance_report(days: int = 30, limit: int = 20, now: datetime | None = None) -> list[dict[str, Any]]:
    """Posts published in the last ``days`` by attributed GMV, with views and interactions (for the console)."""
    since = (now or timezone.now()) - timedelta(days=days)
    rows = (
        Post.objects.filter(status=PostStatus.APPROVED, published_at__gte=since)
        .annotate(
            paid=Sum("attributed_lines__paid_amount", default=0),
            refunded=Sum("attributed_lines__refunded_amount", default=0),
            orders=Count("attributed_lines__order_id", distinct=True),
        )
        .select_related("author")
        .order_by("-paid", "-view_count", "-id")[:limit]
    )
    return [
        {
            "post": p,
            "views": p.view_count,
            "interactions": p.interaction_count,
            "orders": p.orders,
            "gmv": int(p.paid - p.refunded),
        }
        for p in rows
    ]
