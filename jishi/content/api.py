"""REST endpoints (thin: parse, authorise, call a service, serialise)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.html import escape, linebreaks
from ninja import Field, File, Query, Router, Schema, Status
from ninja.files import UploadedFile

from jishi.accounts.auth import buyer_auth, current_user, operator_auth
from jishi.accounts.models import User
from jishi.accounts.services import user_for_token
from jishi.core.api import Id, ObjectId, OkOut, PageLimit, PageOffset, page_bounds, responses
from jishi.core.errors import InvalidInput

from . import conf, services
from .models import Comment, Post, PostStatus

router = Router(auth=buyer_auth)
admin_router = Router(auth=operator_auth)

MAX_IMAGE_BYTES = 8 * 1024 * 1024


def optional_user(request: HttpRequest) -> User | None:
    """The bearer's user on a public endpoint (None when absent or invalid)."""
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    return user_for_token(header[7:].strip())


# --- schemas -----------------------------------------------------------------------------------


class ScoreIO(Schema):
    aspect: str = Field(..., min_length=1, max_length=10)
    score: int = Field(..., ge=1, le=5)


class ProductCardOut(Schema):
    id: int
    name: str
    price: int
    image: str
    buyable: bool


class PostImageOut(Schema):
    id: int
    url: str


class AuthorOut(Schema):
    id: int
    nickname: str


class PostOut(Schema):
    id: int
    form: str
    title: str
    body_html: str
    excerpt: str
    scores: list[ScoreIO]
    status: str
    reject_reason: str
    author: AuthorOut
    images: list[PostImageOut]
    products: list[ProductCardOut]
    tags: list[str]
    pinned: bool
    featured: bool
    like_count: int
    favourite_count: int
    comment_count: int
    share_count: int
    view_count: int
    liked: bool
    favourited: bool
    published_at: datetime | None
    created_at: datetime


class PostPage(Schema):
    items: list[PostOut]
    total: int


def product_card(product: Any) -> dict[str, Any]:
    images = list(product.images.all())
    return {
        "id": product.pk,
        "name": product.name,
        "price": product.price,
        "image": images[0].image.url if images else "",
        "buyable": product.status == "published",
    }


def post_body(post: Post, state: dict[str, set[int]] | None = None) -> dict[str, Any]:
    from . import text

    state = state or {"liked": set(), "favourited": set()}
    return {
        "id": post.pk,
        "form": post.form,
        "title": post.title,
        "body_html": post.body_html,
        "excerpt": text.plain_text(post.body_html)[:120],
        "scores": post.scores,
        "status": post.status,
        "reject_reason": post.reject_reason,
        "author": {"id": post.author_id, "nickname": post.author.nickname or ""},
        "images": [{"id": i.pk, "url": i.image.url} for i in post.images.all()],
        "products": [product_card(link.product) for link in post.product_links.all()],
        "tags": [t.name for t in post.tags.all()],
        "pinned": post.pinned,
        "featured": post.featured,
        "like_count": post.like_count,
        "favourite_count": post.favourite_count,
        "comment_count": post.comment_count,
        "share_count": post.share_count,
        "view_count": post.view_count,
        "liked": post.pk in state["liked"],
        "favourited": post.pk in state["favourited"],
        "published_at": post.published_at,
        "created_at": post.created_at,
    }


def _page(posts: list[Post], total: int, viewer: User | None) -> dict[str, Any]:
    state = services.viewer_state(viewer, [p.pk for p in posts])
    return {"items": [post_body(p, state) for p in posts], "total": total}


# --- reading -------------------------------------------------------------------------------------


class FeedIn(Schema):
    sort: Literal["latest", "hot", "following"] = "latest"
    topic: int | None = Field(None, ge=1, le=2**63 - 1)
    product: int | None = Field(None, ge=1, le=2**63 - 1)
    author: int | None = Field(None, ge=1, le=2**63 - 1)
    tag: str = Field("", max_length=20)
    form: Literal["", "list", "review", "share", "kol"] = ""
    limit: PageLimit | None = None
    offset: PageOffset | None = None


@router.get("/posts", response=responses(PostPage), auth=None)
def post_list(request: HttpRequest, q: Query[FeedIn]) -> Any:
    limit, offset = page_bounds(q.limit, q.offset)
    viewer = optional_user(request)
    posts, total = services.feed(
        sort=q.sort,
        viewer=viewer,
        topic_id=q.topic,
        product_id=q.product,
        author_id=q.author,
        tag=q.tag,
        form=q.form,
        limit=limit,
        offset=offset,
    )
    return _page(posts, total, viewer)


class ViewIn(Schema):
    share: int | None = Field(None, ge=1, le=2**63 - 1)


@router.get("/posts/{post_id}", response=responses(PostOut), auth=None)
def post_detail(request: HttpRequest, post_id: ObjectId, q: Query[ViewIn]) -> Any:
    viewer = optional_user(request)
    post = services.visible_post(post_id, viewer)
    if post.status == PostStatus.APPROVED:
        services.record_view(viewer, post, q.share)
    return post_body(post, services.viewer_state(viewer, [post.pk]))


class ReplyOut(Schema):
    id: int
    user: AuthorOut
    body_html: str  # plain text, escaped: safe to put into a page as is
    status: str
    created_at: datetime


class CommentOut(ReplyOut):
    replies: list[ReplyOut] = []


def comment_body(comment: Comment, with_replies: bool = True) -> dict[str, Any]:
    return {
        "id": comment.pk,
        "user": {"id": comment.user_id, "nickname": comment.user.nickname or ""},
        "body_html": str(linebreaks(escape(comment.body))),
        "status": comment.status,
        "created_at": comment.created_at,
        "replies": [comment_body(r, False) for r in comment.replies.all()] if with_replies else [],
    }


class CommentPage(Schema):
    items: list[CommentOut]


class ContentPageIn(Schema):
    limit: PageLimit | None = None
    offset: PageOffset | None = None


@router.get("/posts/{post_id}/comments", response=responses(CommentPage), auth=None)
def comment_list(request: HttpRequest, post_id: ObjectId, q: Query[ContentPageIn]) -> Any:
    limit, offset = page_bounds(q.limit, q.offset)
    viewer = optional_user(request)
    post = services.visible_post(post_id, viewer)
    return {"items": [comment_body(c) for c in services.comments_of(post, viewer, limit, offset)]}


class TopicOut(Schema):
    id: int
    title: str
    intro: str
    cover_colour: str
    posts: int


@router.get("/topics", response=responses(list[TopicOut]), auth=None)
def topic_list(request: HttpRequest) -> Any:
    return [
        {"id": t.pk, "title": t.title, "intro": t.intro, "cover_colour": t.cover_colour, "posts": t.n_posts}  # type: ignore[attr-defined]
        for t in services.topics()
    ]


class TopicDetailOut(Schema):
    id: int
    title: str
    intro: str
    posts: list[PostOut]
    products: list[ProductCardOut]


@router.get("/topics/{topic_id}", response=responses(TopicDetailOut), auth=None)
def topic_detail(request: HttpRequest, topic_id: ObjectId) -> Any:
    topic = services.get_topic(topic_id)
    viewer = optional_user(request)
    posts, _total = services.feed(topic_id=topic.pk, viewer=viewer, limit=50)
    return {
        "id": topic.pk,
        "title": topic.title,
        "intro": topic.intro,
        "posts": _page(posts, _total, viewer)["items"],
        "products": [product_card(p) for p in services.topic_products(topic)],
    }


# --- writing ---------------------------------------------------------------------------------------


@router.post("/post-images", response=responses(PostImageOut, 201))
def upload_image(request: HttpRequest, image: File[UploadedFile]) -> Any:
    if image.size and image.size > MAX_IMAGE_BYTES:
        raise InvalidInput(code="image_too_large", fields={"image": ["<= 8 MB"]})
    created = services.upload_image(current_user(request), image.read())
    return Status(201, {"id": created.pk, "url": created.image.url})


class PostIn(Schema):
    form: Literal["list", "review", "share", "kol"]
    title: str = Field(..., min_length=1, max_length=conf.MAX_TITLE)
    body: str = Field(..., min_length=1, max_length=conf.MAX_BODY)
    product_ids: list[Id] = Field(default_factory=list, max_length=conf.MAX_PRODUCTS)
    image_ids: list[Id] = Field(default_factory=list, max_length=conf.MAX_IMAGES)
    scores: list[ScoreIO] = Field(default_factory=list, max_length=8)
    tags: list[str] = Field(default_factory=list, max_length=5)

    def as_input(self) -> services.PostInput:
        return services.PostInput(
            form=self.form,
            title=self.title,
            body=self.body,
            product_ids=list(self.product_ids),
            image_ids=list(self.image_ids),
            scores=[s.dict() for s in self.scores],
            tags=[t[:20] for t in self.tags],
        )


def _detail(post_id: int, viewer: User) -> dict[str, Any]:
    return post_body(services.visible_post(post_id, viewer))


@router.post("/posts", response=responses(PostOut, 201))
def create_post(request: HttpRequest, payload: PostIn) -> Any:
    user = current_user(request)
    post = services.create_post(user, payload.as_input())
    return Status(201, _detail(post.pk, user))


@router.put("/posts/{post_id}", response=responses(PostOut))
def update_post(request: HttpRequest, post_id: ObjectId, payload: PostIn) -> Any:
    user = current_user(request)
    post = services.update_post(user, post_id, payload.as_input())
    return _detail(post.pk, user)


class MyPostOut(Schema):
    id: int
    title: str
    form: str
    status: str
    reject_reason: str
    views: int
    interactions: int
    orders: int
    gmv: int
    commission: int
    red_packet: int
    points: int


@router.get("/me/posts", response=responses(list[MyPostOut]))
def my_posts(request: HttpRequest, q: Query[ContentPageIn]) -> Any:
    limit, offset = page_bounds(q.limit, q.offset)
    return [
        {
            **{k: v for k, v in row.items() if k != "post"},
            "id": row["post"].pk,
            "title": row["post"].title,
            "form": row["post"].form,
            "status": row["post"].status,
            "reject_reason": row["post"].reject_reason,
        }
        for row in services.my_posts(current_user(request), limit, offset)
    ]


# --- interactions ---------------------------------------------------------------------------------


class LikeOut(Schema):
    liked: bool
    like_count: int


def _like_state(post_id: int, liked: bool) -> dict[str, Any]:
    count = Post.objects.filter(pk=post_id).values_list("like_count", flat=True).first() or 0
    return {"liked": liked, "like_count": count}


@router.post("/posts/{post_id}/like", response=responses(LikeOut))
def like(request: HttpRequest, post_id: ObjectId) -> Any:
    services.like(current_user(request), post_id)
    return _like_state(post_id, True)


@router.delete("/posts/{post_id}/like", response=responses(LikeOut))
def unlike(request: HttpRequest, post_id: ObjectId) -> Any:
    services.unlike(current_user(request), post_id)
    return _like_state(post_id, False)


class FavouriteOut(Schema):
    favourited: bool


@router.post("/posts/{post_id}/favourite", response=responses(FavouriteOut))
def favourite(request: HttpRequest, post_id: ObjectId) -> Any:
    services.favourite(current_user(request), post_id)
    return {"favourited": True}


@router.delete("/posts/{post_id}/favourite", response=responses(FavouriteOut))
def unfavourite(request: HttpRequest, post_id: ObjectId) -> Any:
    services.unfavourite(current_user(request), post_id)
    return {"favourited": False}


class CommentIn(Schema):
    body: str = Field(..., min_length=1, max_length=conf.MAX_COMMENT)
    parent_id: int | None = Field(None, ge=1, le=2**63 - 1)


@router.post("/posts/{post_id}/comments", response=responses(CommentOut, 201))
def add_comment(request: HttpRequest, post_id: ObjectId, payload: CommentIn) -> Any:
    comment = services.add_comment(current_user(request), post_id, payload.body, payload.parent_id)
    return Status(201, comment_body(comment, False))


class ShareOut(Schema):
    share_id: int
    path: str


@router.post("/posts/{post_id}/share", response=responses(ShareOut))
def share(request: HttpRequest, post_id: ObjectId) -> Any:
    row = services.share(current_user(request), post_id)
    return {"share_id": row.pk, "path": f"/content/p/{post_id}/?share={row.pk}"}


class FollowOut(Schema):
    following: bool


@router.post("/creators/{user_id}/follow", response=responses(FollowOut))
def follow(request: HttpRequest, user_id: ObjectId) -> Any:
    services.follow(current_user(request), user_id)
    return {"following": True}


@router.delete("/creators/{user_id}/follow", response=responses(FollowOut))
def unfollow(request: HttpRequest, user_id: ObjectId) -> Any:
    services.unfollow(current_user(request), user_id)
    return {"following": False}


# --- operators --------------------------------------------------------------------------------------


class AdminFeedIn(Schema):
    status: Literal["pending", "approved", "rejected", "taken_down"] = "pending"
    limit: PageLimit | None = None
    offset: PageOffset | None = None


@admin_router.get("/posts", response=responses(PostPage))
def admin_posts(request: HttpRequest, q: Query[AdminFeedIn]) -> Any:
    limit, offset = page_bounds(q.limit, q.offset)
    rows = services.card_queryset().filter(status=q.status).order_by("id")
    return {"items": [post_body(p) for p in rows[offset : offset + limit]], "total": rows.count()}


def _admin_detail(post_id: int) -> dict[str, Any]:
    return post_body(services.card_queryset().get(pk=post_id))


@admin_router.post("/posts/{post_id}/approve", response=responses(PostOut))
def admin_approve(request: HttpRequest, post_id: ObjectId) -> Any:
    services.approve_post(current_user(request), post_id)
    return _admin_detail(post_id)


class ReasonIn(Schema):
    reason: str = Field("", max_length=conf.MAX_REASON)


@admin_router.post("/posts/{post_id}/reject", response=responses(PostOut))
def admin_reject(request: HttpRequest, post_id: ObjectId, payload: ReasonIn) -> Any:
    services.reject_post(current_user(request), post_id, payload.reason)
    return _admin_detail(post_id)


@admin_router.post("/posts/{post_id}/take-down", response=responses(PostOut))
def admin_take_down(request: HttpRequest, post_id: ObjectId, payload: ReasonIn) -> Any:
    services.take_down(current_user(request), post_id, payload.reason)
    return _admin_detail(post_id)


class FlagsIn(Schema):
    pinned: bool | None = None
    featured: bool | None = None


@admin_router.post("/posts/{post_id}/flags", response=responses(PostOut))
def admin_flags(request: HttpRequest, post_id: ObjectId, payload: FlagsIn) -> Any:
    services.set_flags(current_user(request), post_id, pinned=payload.pinned, featured=payload.featured)
    return _admin_detail(post_id)


class ModerateIn(Schema):
    approve: bool
    reason: str = Field("", max_length=conf.MAX_REASON)


@admin_router.post("/comments/{comment_id}/moderate", response=responses(OkOut))
def admin_moderate_comment(request: HttpRequest, comment_id: ObjectId, payload: ModerateIn) -> Any:
    services.moderate_comment(current_user(request), comment_id, payload.approve, payload.reason)
    return {"ok": True}


@admin_router.post("/posts/recount", response=responses(OkOut))
def admin_recount(request: HttpRequest) -> Any:
    services.recount()
    return {"ok": True}
