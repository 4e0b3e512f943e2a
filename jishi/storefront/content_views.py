"""Storefront content pages: the discovery feed, a post with buyable product cards, topic pages,
and the creator centre (write/edit a post, my posts with status and stats).

Thin like the API: reads and writes go through ``jishi.content.services``; post bodies are
sanitised when saved (``body_html``) and comments are plain text, escaped by the templates.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from jishi.catalog.models import Product, ProductStatus
from jishi.content import services
from jishi.content.models import Post, PostForm, PostStatus, Topic
from jishi.core.errors import DomainError, NotFound

SORTS = ("latest", "hot", "following")
PAGE_SIZE = 20
PICKER_SIZE = 30


def _viewer(request: HttpRequest) -> Any:
    return request.user if request.user.is_authenticated else None


def _int(value: str | None) -> int | None:
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if 0 < number < 2**63 else None


def _base(title: str, back: str = "") -> dict[str, Any]:
    return {"tab": "content", "title": title, "back": back}


@require_GET
def feed(request: HttpRequest) -> HttpResponse:
    sort = request.GET.get("sort", "latest")
    sort = sort if sort in SORTS else "latest"
    product_id = _int(request.GET.get("product"))
    viewer = _viewer(request)
    posts, total = services.feed(sort=sort, viewer=viewer, product_id=product_id, limit=PAGE_SIZE)
    product = Product.objects.filter(pk=product_id).first() if product_id else None
    context = {
        **_base(_("种草")),
        "sort": sort,
        "posts": posts,
        "total": total,
        "topics": services.topics()[:8],
        "product": product,
        "liked": services.viewer_state(viewer, [p.pk for p in posts])["liked"],
    }
    return render(request, "storefront/content/feed.html", context)


@require_GET
def post_detail(request: HttpRequest, post_id: int) -> HttpResponse:
    viewer = _viewer(request)
    try:
        post = services.visible_post(post_id, viewer)
    except NotFound:
        return render(
            request,
            "storefront/content/missing.html",
            _base(_("笔记不存在"), reverse("content_pages:feed")),
            status=404,
        )
    if post.status == PostStatus.APPROVED:
        services.record_view(viewer, post, _int(request.GET.get("share")))
        post.view_count += 1  # the row was counted up in SQL: show this view too
    state = services.viewer_state(viewer, [post.pk])
    context = {
        **_base(post.title, reverse("content_pages:feed")),
        "post": post,
        "liked": post.pk in state["liked"],
        "favourited": post.pk in state["favourited"],
        "comments": services.comments_of(post, viewer) if post.status == PostStatus.APPROVED else [],
        "is_author": viewer is not None and viewer.pk == post.author_id,
    }
    return render(request, "storefront/content/post.html", context)


def _back_to_post(post_id: int) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("content_pages:post", args=[post_id]))


def _act(request: HttpRequest, post_id: int, action: Any) -> HttpResponse:
    try:
        action()
    except DomainError as exc:
        messages.error(request, str(exc.message))
    return _back_to_post(post_id)


@login_required
@require_POST
def post_like(request: HttpRequest, post_id: int) -> HttpResponse:
    user = request.user
    if request.POST.get("undo"):
        return _act(request, post_id, lambda: services.unlike(user, post_id))  # type: ignore[arg-type]
    return _act(request, post_id, lambda: services.like(user, post_id))  # type: ignore[arg-type]


@login_required
@require_POST
def post_favourite(request: HttpRequest, post_id: int) -> HttpResponse:
    user = request.user
    if request.POST.get("undo"):
        return _act(request, post_id, lambda: services.unfavourite(user, post_id))  # type: ignore[arg-type]
    return _act(request, post_id, lambda: services.favourite(user, post_id))  # type: ignore[arg-type]


@login_required
@require_POST
def post_comment(request: HttpRequest, post_id: int) -> HttpResponse:
    def add() -> None:
        comment = services.add_comment(
            request.user,  # type: ignore[arg-type]
            post_id,
            request.POST.get("body", "")[:1000],
            _int(request.POST.get("parent_id")),
        )
        if comment.status == "pending":
            messages.info(request, _("评论已提交，审核通过后展示"))
        elif comment.status == "rejected":
            messages.error(request, comment.reject_reason)

    return _act(request, post_id, add)


@login_required
@require_POST
def post_share(request: HttpRequest, post_id: int) -> HttpResponse:
    def share() -> None:
        row = services.share(request.user, post_id)  # type: ignore[arg-type]
        link = request.build_absolute_uri(reverse("content_pages:post", args=[post_id]) + f"?share={row.pk}")
        messages.success(request, _("分享链接：%(link)s") % {"link": link})

    return _act(request, post_id, share)


@login_required
@require_POST
def follow(request: HttpRequest, user_id: int) -> HttpResponse:
    back = _int(request.POST.get("post_id"))
    try:
        if request.POST.get("undo"):
            services.unfollow(request.user, user_id)  # type: ignore[arg-type]
        else:
            services.follow(request.user, user_id)  # type: ignore[arg-type]
            messages.success(request, _("已关注"))
    except DomainError as exc:
        messages.error(request, str(exc.message))
    return _back_to_post(back) if back else HttpResponseRedirect(reverse("content_pages:feed") + "?sort=following")


@require_GET
def topic(request: HttpRequest, topic_id: int) -> HttpResponse:
    found = Topic.objects.filter(pk=topic_id, is_active=True).first()
    if found is None:
        return render(
            request,
            "storefront/content/missing.html",
            _base(_("专题不存在"), reverse("content_pages:feed")),
            status=404,
        )
    posts, _total = services.feed(topic_id=found.pk, viewer=_viewer(request), limit=50)
    context = {
        **_base(found.title, reverse("content_pages:feed")),
        "topic": found,
        "posts": posts,
        "products": services.topic_products(found),
    }
    return render(request, "storefront/content/topic.html", context)


# --- creator centre ----------------------------------------------------------------------------------


def _picker(request: HttpRequest, chosen: list[int]) -> list[Product]:
    """Published products to link: the chosen ones first, then matches of ``pq`` (or the newest)."""
    q = request.GET.get("pq", "").strip()[:40]
    rows = Product.objects.filter(status=ProductStatus.PUBLISHED)
    found = list(rows.filter(name__icontains=q)[:PICKER_SIZE] if q else rows[:PICKER_SIZE])
    first = list(rows.filter(pk__in=chosen))
    return first + [p for p in found if p.pk not in set(chosen)]


def _form_data(request: HttpRequest) -> dict[str, Any]:
    scores = []
    for aspect, score in zip(request.POST.getlist("aspect"), request.POST.getlist("score"), strict=False):
        if aspect.strip():
            scores.append({"aspect": aspect.strip()[:10], "score": _int(score) or 0})
    return {
        "form": request.POST.get("form", ""),
        "title": request.POST.get("title", "")[:200],
        "body": request.POST.get("body", "")[:20_000],
        "product_ids": [i for i in (_int(v) for v in request.POST.getlist("product_ids")[:20]) if i],
        "image_ids": [i for i in (_int(v) for v in request.POST.getlist("image_ids")[:20]) if i],
        "scores": scores,
        "tags": [t for t in request.POST.get("tags", "").replace("，", " ").replace(",", " ").split() if t][:10],
    }


def _editor(request: HttpRequest, post: Post | None) -> HttpResponse:
    user = request.user
    if request.method == "POST":
        data = _form_data(request)
        try:
            for upload in request.FILES.getlist("images")[:9]:
                if upload.size and upload.size > 8 * 1024 * 1024:
                    raise DomainError(_("图片不能超过 8 MB"), code="image_too_large")
                data["image_ids"].append(services.upload_image(user, upload.read()).pk)  # type: ignore[arg-type]
            entry = services.PostInput(**data)
            saved = (
                services.update_post(user, post.pk, entry)  # type: ignore[arg-type]
                if post
                else services.create_post(user, entry)  # type: ignore[arg-type]
            )
        except DomainError as exc:
            messages.error(request, str(exc.message))
            values = data
        else:
            messages.success(request, _("已提交，审核通过后发布") if saved.status == "pending" else _("已保存"))
            return HttpResponseRedirect(reverse("content_pages:mine"))
    elif post is not None:
        values = {
            "form": post.form,
            "title": post.title,
            "body": post.body,
            "product_ids": [link.product_id for link in post.product_links.all()],
            "image_ids": [i.pk for i in post.images.all()],
            "scores": post.scores,
            "tags": [t.name for t in post.tags.all()],
        }
    else:
        values = {
            "form": PostForm.REVIEW,
            "title": "",
            "body": "",
            "product_ids": [],
            "image_ids": [],
            "scores": [],
            "tags": [],
        }
    scores = list(values["scores"]) + [{"aspect": "", "score": 5}] * max(0, 3 - len(values["scores"]))
    images = list(post.images.all()) if post else []
    context = {
        **_base(_("编辑笔记") if post else _("写笔记"), reverse("content_pages:mine")),
        "tab": "me",
        "post": post,
        "values": values,
        "scores": scores,
        "forms": PostForm.choices,
        "products": _picker(request, values["product_ids"]),
        "images": images,
        "tags_text": " ".join(values["tags"]),
    }
    return render(request, "storefront/content/write.html", context)


@login_required
def write(request: HttpRequest) -> HttpResponse:
    return _editor(request, None)


@login_required
def edit(request: HttpRequest, post_id: int) -> HttpResponse:
    post = (
        Post.objects.filter(pk=post_id, author_id=request.user.pk).prefetch_related("images", "product_links").first()
    )
    if post is None:
        return render(
            request,
            "storefront/content/missing.html",
            _base(_("笔记不存在"), reverse("content_pages:mine")),
            status=404,
        )
    return _editor(request, post)


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    rows = services.my_posts(request.user)  # type: ignore[arg-type]
    totals = {k: sum(r[k] for r in rows) for k in ("views", "interactions", "orders", "gmv", "red_packet", "points")}
    context = {**_base(_("创作中心"), reverse("storefront:me")), "tab": "me", "rows": rows, "totals": totals}
    return render(request, "storefront/content/mine.html", context)
