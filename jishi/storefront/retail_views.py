"""New-retail pages: store list and store page, my member code, and the POS page for clerks."""

from __future__ import annotations

from typing import Any

import segno
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_GET, require_http_methods

from jishi.accounts.models import User
from jishi.core.errors import DomainError, InvalidInput
from jishi.loyalty import points
from jishi.retail import pos, routing, stores
from jishi.retail.models import Tender

from .forms import error_message
from .pages import buyer, problem

WEEKDAYS = [
    gettext_noop("周一"),
    gettext_noop("周二"),
    gettext_noop("周三"),
    gettext_noop("周四"),
    gettext_noop("周五"),
    gettext_noop("周六"),
    gettext_noop("周日"),
]


def _float(raw: Any, low: float, high: float) -> float | None:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    return value if low <= value <= high else None


def _distance(meters: int | None) -> str:
    if meters is None:
        return ""
    return f"{meters / 1000:.1f} km" if meters >= 1000 else f"{meters} m"


@require_GET
def store_list(request: HttpRequest) -> HttpResponse:
    lat, lng = _float(request.GET.get("lat"), -90, 90), _float(request.GET.get("lng"), -180, 180)
    if lat is not None and lng is not None:
        found: list[tuple[Any, int | None]] = list(routing.nearest(lat, lng, 50, radius_m=50_000))
    else:
        found = [(s, None) for s in stores.visible_stores().prefetch_related("hours", "holidays")[:50]]
    rows = [{"store": s, "distance": _distance(d), "open": stores.is_open(s)} for s, d in found]
    return render(request, "storefront/retail/stores.html", {"rows": rows, "located": lat is not None})


@require_GET
def store_page(request: HttpRequest, store_id: int) -> HttpResponse:
    try:
        store = stores.get_store(store_id, visible_only=True)
    except DomainError as exc:
        return problem(request, error_message(exc), status=exc.status, back=reverse("retail_pages:stores"))
    hours = {h.weekday: h for h in store.hours.all()}
    week = [{"day": _(WEEKDAYS[d]), "hours": hours.get(d)} for d in range(7)]
    context = {"store": store, "week": week, "open": stores.is_open(store), "photos": list(store.photos.all())}
    return render(request, "storefront/retail/store.html", context)


def _qr_png(token: str) -> str:
    # A PNG, not inline SVG: the shop's icon styles (stroke, round caps) would reach SVG paths.
    return str(segno.make(token, error="m").png_data_uri(scale=6, border=2))


@login_required
@require_GET
def member_code(request: HttpRequest) -> HttpResponse:
    """The member's QR, re-fetched (a new one-use token) shortly before each one expires."""
    user = buyer(request)
    code = pos.member_code(user)
    context = {
        "qr": _qr_png(code["token"]),
        "refresh": max(5, code["expires_in"] - 5),
        "points": points.balance(user.pk),
        "member": user,
    }
    template = (
        "storefront/retail/member_code_qr.html" if request.GET.get("part") else "storefront/retail/member_code.html"
    )
    return render(request, template, context)


def _parse_basket(text: str) -> list[pos.BasketLine]:
    """One line per item: ``barcode`` or ``barcode x quantity`` (also ``*`` or a space)."""
    lines = []
    for raw in text.splitlines():
        raw = raw.strip().replace("×", "x").replace("*", "x")
        if not raw:
            continue
        code, _sep, qty = raw.partition("x") if "x" in raw else raw.partition(" ")
        try:
            quantity = int(qty.strip() or "1")
        except ValueError as exc:
            raise InvalidInput(_("数量无效：%(line)s") % {"line": raw}, code="invalid_quantity") from exc
        if not 1 <= quantity <= 999:
            raise InvalidInput(_("数量无效：%(line)s") % {"line": raw}, code="invalid_quantity")
        lines.append(pos.BasketLine(quantity=quantity, barcode=code.strip()[:64]))
    if not lines:
        raise InvalidInput(_("请扫描商品条码"), code="empty_basket")
    return lines


@login_required
@require_http_methods(["GET", "POST"])
def pos_page(request: HttpRequest) -> HttpResponse:
    clerk = buyer(request)
    posts = list(clerk.store_posts.select_related("store").order_by("store_id"))
    if not posts:
        return problem(request, _("仅门店店员可使用收银台"), status=403)
    context: dict[str, Any] = {"posts": posts, "tenders": Tender.choices, "form": request.POST, "error": ""}
    if request.method == "GET":
        return render(request, "storefront/retail/pos.html", context)
    try:
        store_id = int(request.POST.get("store_id") or posts[0].store_id)
        code, phone = (request.POST.get("member_code") or "").strip(), (request.POST.get("member_phone") or "").strip()
        if code:
            member: User = pos.redeem_member_code(code)
        elif phone:
            member = pos.member_by_phone(phone)
        else:
            raise InvalidInput(_("请扫会员码或输入手机号"), code="member_required")
        use_points = int(request.POST.get("use_points") or 0)
        sale, pay = pos.ring_up(
            clerk,
            store_id,
            member,
            _parse_basket(request.POST.get("basket") or ""),
            tender=request.POST.get("tender") or "cash",
            use_points=max(0, min(use_points, 10**9)),
        )
    except (DomainError, ValueError) as exc:
        context["error"] = error_message(exc) if isinstance(exc, DomainError) else _("输入有误")
        status = exc.status if isinstance(exc, DomainError) else 400
        return render(request, "storefront/retail/pos.html", context, status=status)
    url = reverse("retail_pages:receipt", args=[sale.order_id])
    return HttpResponseRedirect(url + (f"?pay={pay['pay_url']}" if pay.get("pay_url") else ""))


@login_required
@require_GET
def receipt(request: HttpRequest, order_id: int) -> HttpResponse:
    try:
        sale = pos.staff_sale(buyer(request), order_id)
    except DomainError as exc:
        return problem(request, error_message(exc), status=exc.status)
    context = {"r": pos.receipt(sale), "sale": sale, "pay_url": request.GET.get("pay", "")[:300]}
    return render(request, "storefront/retail/receipt.html", context)
