"""Buyer pages beside buying: reviewing a completed order, favourites, browsing history."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jishi.catalog import api as catalog_api
from jishi.catalog.models import Product, ProductImage, ProductStatus
from jishi.content import reviews
from jishi.content import services as content
from jishi.core.errors import DomainError, InvalidInput
from jishi.engagement import services as engagement
from jishi.engagement.models import Favourite, ProductView
from jishi.orders.models import OrderStatus

from . import queries
from .forms import error_message
from .pages import buyer, problem, safe_next

MAX_PHOTOS = 6
MAX_PHOTO_BYTES = 8 * 1024 * 1024
LIST_SIZE = 60


def _int(raw: str | None) -> int:
    return int(raw) if raw and raw.isdigit() and len(raw) < 19 else 0


@login_required
@require_http_methods(["GET", "POST"])
def order_review(request: HttpRequest, order_id: int) -> HttpResponse:
    """评价: one form per line of a completed order (stars, words, photos); reviewed lines show so."""
    user = buyer(request)
    order = queries.my_order(user, order_id)
    detail = reverse("storefront:order", args=[order.pk])
    if order.status != OrderStatus.COMPLETED:
        return problem(request, _("确认收货后才能评价"), status=409, back=detail, back_label=_("返回订单"))
    error, status, failed_line = "", 200, 0
    if request.method == "POST":
        failed_line = _int(request.POST.get("line_id"))
        try:
            photos = request.FILES.getlist("photos")
            if len(photos) > MAX_PHOTOS:
                raise InvalidInput(_("最多上传 6 张图片"), code="too_many_images")
            if any((p.size or 0) > MAX_PHOTO_BYTES for p in photos):
                raise InvalidInput(_("图片不能超过 8 MB"), code="image_too_large")
            stars = _int(request.POST.get("stars"))
            text = request.POST.get("text") or ""
            if not 1 <= stars <= 5:
                raise InvalidInput(_("请选择 1–5 星"), code="invalid_stars")
            image_ids = [content.upload_image(user, p.read()).pk for p in photos]
            reviews.review_line(user, failed_line, stars, text, image_ids)
        except DomainError as exc:
            error, status = error_message(exc), exc.status
        else:
            messages.success(request, _("评价已提交，审核通过后展示在商品页"))
            return HttpResponseRedirect(request.path)
    lines = list(order.lines.all())
    done = reviews.reviewed_line_ids([line.pk for line in lines])
    context = {
        "tab": "me",
        "order": order,
        "lines": [(line, line.pk in done) for line in lines],
        "error": error,
        "failed_line": failed_line,
        "posted": request.POST if error else {},
    }
    return render(request, "storefront/order_review.html", context, status=status)


@require_POST
def favourite_toggle(request: HttpRequest, product_id: int) -> HttpResponse:
    back = safe_next(request) or reverse("storefront:product", args=[product_id])
    if not request.user.is_authenticated:
        return redirect_to_login(back)
    user = buyer(request)
    try:
        if request.POST.get("on") == "0":
            engagement.remove_favourite(user, product_id)
            messages.success(request, _("已取消收藏"))
        else:
            engagement.add_favourite(user, product_id)
            messages.success(request, _("已收藏"))
    except DomainError as exc:
        return problem(request, error_message(exc), status=exc.status)
    return HttpResponseRedirect(back)


def _cards(product_ids: list[int]) -> list[dict[str, object]]:
    images = Prefetch("images", queryset=ProductImage.objects.order_by("sort", "id"))
    rows = Product.objects.filter(pk__in=product_ids, status=ProductStatus.PUBLISHED).prefetch_related(images)
    by_id = {p.pk: p for p in rows}
    return [catalog_api.card(by_id[i]) for i in product_ids if i in by_id]


@login_required
@require_GET
def favourites(request: HttpRequest) -> HttpResponse:
    ids = list(Favourite.objects.filter(user=buyer(request)).values_list("product_id", flat=True)[:LIST_SIZE])
    context = {"tab": "me", "title": _("我的收藏"), "grid": {"items": _cards(ids)}, "kind": "favourites"}
    return render(request, "storefront/product_list.html", context)


@login_required
@require_GET
def history(request: HttpRequest) -> HttpResponse:
    ids = list(ProductView.objects.filter(user=buyer(request)).values_list("product_id", flat=True)[:LIST_SIZE])
    context = {"tab": "me", "title": _("浏览记录"), "grid": {"items": _cards(ids)}, "kind": "history"}
    return render(request, "storefront/product_list.html", context)


@login_required
@require_POST
def history_clear(request: HttpRequest) -> HttpResponse:
    engagement.clear_history(buyer(request))
    messages.success(request, _("浏览记录已清空"))
    return HttpResponseRedirect(reverse("storefront:history"))
