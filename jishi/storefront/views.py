"""Storefront pages: browse, search, product detail, login/logout, "me", and the PWA files.

Buying lives in ``buying.py`` and the buyer's own orders and addresses in ``mine.py``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jishi.accounts import services as accounts
from jishi.accounts.api import client_ip
from jishi.accounts.models import User
from jishi.accounts.sms import ConsoleSmsBackend
from jishi.content import reviews
from jishi.core.conf import setting
from jishi.core.errors import DomainError
from jishi.distribution import services as distribution
from jishi.engagement import services as engagement
from jishi.payments import services as payments

from . import home as home_blocks
from . import promoter_views, pwa, queries
from .forms import PasswordLoginForm, SmsCodeForm, SmsLoginForm, add_domain_error
from .pages import buyer, is_htmx

SMS_BACKEND = "django.contrib.auth.backends.ModelBackend"

CONSOLE_SMS_BACKEND = "jishi.accounts.sms.ConsoleSmsBackend"


def _grid_response(request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    """A full page, or just the next cards when HTMX asks for "load more"."""
    if is_htmx(request):
        response = render(request, "storefront/partials/grid_more.html", context)
    else:
        response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if "ref" in request.GET:
        promoter_views.capture_referral(request, request.GET["ref"])
    grid = queries.product_grid(number=queries.page_number(request.GET.get("page")))
    context: dict[str, Any] = {"tab": "home", "grid": grid}
    if not is_htmx(request):  # "load more" wants only the next cards
        context.update(categories=queries.top_categories(), blocks=home_blocks.blocks())
    return _grid_response(request, "storefront/home.html", context)


@require_GET
def categories(request: HttpRequest) -> HttpResponse:
    return render(request, "storefront/categories.html", {"tab": "category", "tree": queries.category_tree()})


@require_GET
def category(request: HttpRequest, category_id: int) -> HttpResponse:
    current = queries.active_category(category_id)
    grid = queries.product_grid(number=queries.page_number(request.GET.get("page")), category_id=current.pk)
    context = {
        "tab": "category",
        "category": current,
        "subcategories": queries.subcategories(current),
        "grid": grid,
    }
    return _grid_response(request, "storefront/category.html", context)


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    q = queries.clean_query(request.GET.get("q"))
    grid = queries.product_grid(number=queries.page_number(request.GET.get("page")), q=q) if q else None
    context = {"tab": "home", "q": q, "grid": grid, "categories": queries.top_categories()}
    return _grid_response(request, "storefront/search.html", context)


@require_GET
def product(request: HttpRequest, product_id: int) -> HttpResponse:
    if "ref" in request.GET:
        promoter_views.capture_referral(request, request.GET["ref"])
    product = queries.product_detail(product_id)
    path = reverse("storefront:product", args=[product_id])
    context: dict[str, Any] = {
        "product": product,
        "reviews": reviews.product_reviews(product_id),
        "share_link": request.build_absolute_uri(path),
        "favourite": False,
    }
    if isinstance(request.user, User):
        engagement.record_view(request.user, product_id)
        context["favourite"] = engagement.is_favourite(request.user, product_id)
        promoter = promoter_views.active_promoter(request)
        if promoter is not None:
            skus = product["skus"]
            price = min((s["price"] for s in skus), default=product["price"])
            context["share_earning"] = distribution.share_earning(promoter, product_id, None, price)
            context["share_link"] = promoter_views.share_url(request, promoter.code, path)
            context["poster_url"] = f"{reverse('storefront:promoter:poster')}?product_id={product_id}"
    return render(request, "storefront/product.html", context)


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("storefront:me")


@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    """Phone + password, or phone + SMS code (a new phone becomes a buyer on the spot)."""
    mode = request.POST.get("mode") or request.GET.get("mode")
    mode = "sms" if mode == "sms" else "password"
    password_form = PasswordLoginForm()
    sms_form: SmsCodeForm = SmsLoginForm()
    notice = demo_code = ""
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        ip = client_ip(request)
        try:
            if mode == "password":
                password_form = PasswordLoginForm(request.POST)
                if password_form.is_valid():
                    user = accounts.login_with_password(
                        phone=password_form.cleaned_data["phone"],
                        username=None,
                        password=password_form.cleaned_data["password"],
                        ip=ip,
                    )
                    auth_login(request, user)
                    promoter_views.bind_session_referral(request)
                    return HttpResponseRedirect(_next_url(request))
            elif action == "send_code":
                sms_form = SmsCodeForm(request.POST)
                if sms_form.is_valid():
                    accounts.send_sms_code(sms_form.cleaned_data["phone"], ip)
                    notice = _("验证码已发送，5 分钟内有效")
                    demo_code = _demo_sms_code(sms_form.cleaned_data["phone"])
            else:
                sms_form = SmsLoginForm(request.POST)
                if sms_form.is_valid() and not request.POST.get("agree"):
                    sms_form.add_error(None, _("请先阅读并同意《用户协议》和《隐私政策》"))
                elif sms_form.is_valid():
                    user = accounts.login_with_sms(sms_form.cleaned_data["phone"], sms_form.cleaned_data["code"], ip)
                    auth_login(request, user, backend=SMS_BACKEND)
                    promoter_views.bind_session_referral(request)
                    return HttpResponseRedirect(_next_url(request))
        except DomainError as exc:
            add_domain_error(password_form if mode == "password" else sms_form, exc)
            status = exc.status
        else:
            status = 200 if notice else 400
        if is_htmx(request) and action == "send_code":
            # htmx swaps 2xx only: the refusal travels as a 200 fragment.
            return render(
                request,
                "storefront/partials/sms_notice.html",
                {
                    "form": sms_form,
                    "notice": notice,
                    "demo_code": demo_code,
                    "all_errors": True,
                    "resend": notice != "",
                },
            )
    context = {
        "tab": "me",
        "mode": mode,
        "password_form": password_form,
        "sms_form": sms_form,
        "notice": notice,
        "demo_code": demo_code,
        "resend": notice != "",
        "agreed": bool(request.POST.get("agree")),
        "next": _next_url(request),
    }
    return render(request, "storefront/login.html", context, status=status)


def _demo_sms_code(phone: str) -> str:
    """With the console SMS backend (the demo's), the code just sent, to show on the page."""
    if setting("SMS_BACKEND") != CONSOLE_SMS_BACKEND:
        return ""
    try:
        wanted = accounts.normalise_phone(phone)
    except DomainError:
        return ""
    for to, text in reversed(ConsoleSmsBackend.outbox):
        if to == wanted:
            match = re.search(r"\d{6}", text)
            return match.group(0) if match else ""
    return ""


@require_GET
def legal_page(request: HttpRequest, page: str) -> HttpResponse:
    """用户协议 / 隐私政策 (PIPL): linked from every sign-up and SMS login."""
    return render(request, f"storefront/legal/{page}.html", {"tab": "me", "page": page})


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    auth_logout(request)
    return HttpResponseRedirect(reverse("storefront:home"))


@require_GET
def me(request: HttpRequest) -> HttpResponse:
    """Who is signed in, with order badges, wallet balance and links to orders and addresses."""
    context: dict[str, Any] = {"tab": "me"}
    if request.user.is_authenticated:
        user = buyer(request)
        counts = queries.order_counts(user)
        context["order_tabs"] = [(key, label, counts[key]) for key, label, _statuses in queries.ORDER_TABS if key]
        context["balance"] = payments.wallet(user, limit=0)["balance"]
    return render(request, "storefront/me.html", context)


@require_GET
@cache_control(max_age=3600)
def manifest(request: HttpRequest) -> HttpResponse:
    return HttpResponse(
        json.dumps(pwa.manifest(), ensure_ascii=False),
        content_type="application/manifest+json; charset=utf-8",
    )


@require_GET
@cache_control(no_cache=True)
def service_worker(request: HttpRequest) -> HttpResponse:
    context = {
        "version": pwa.shell_version(),
        "shell": json.dumps(pwa.shell_urls()),
        "uncached": json.dumps(pwa.UNCACHED_PREFIXES),
        "offline_title": _("集市"),
        "offline_text": _("网络不可用，请稍后重试"),
    }
    response = render(request, "storefront/sw.js", context, content_type="application/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    return response
