"""What every storefront page shares: htmx detection, the signed-in buyer, the problem page."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _

from jishi.accounts.models import Address, User


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def buyer(request: HttpRequest) -> User:
    """The signed-in user of a ``login_required`` view."""
    user = request.user
    assert isinstance(user, User)
    return user


def problem(request: HttpRequest, message: str, *, status: int, back: str = "", back_label: str = "") -> HttpResponse:
    """A page that says what went wrong and where to go next (with the refusal's 4xx status)."""
    context = {
        "message": message,
        "back": back or reverse("storefront:home"),
        "back_label": back_label or _("返回首页"),
    }
    return render(request, "storefront/problem.html", context, status=status)


def safe_next(request: HttpRequest) -> str:
    """The ``next`` page of this shop a form should return to, or ""."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    ok = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False)
    return target if ok and target.startswith("/") else ""


def address_first(request: HttpRequest, back: str) -> HttpResponse | None:
    """For a campaign's "buy now": a buyer without an address adds one first, then comes ``back``."""
    user = buyer(request)
    if Address.objects.filter(user=user).exists():
        return None
    messages.info(request, _("请先添加收货地址，保存后回到刚才的页面继续购买"))
    return HttpResponseRedirect(f"{reverse('storefront:addresses')}?{urlencode({'next': back})}")
