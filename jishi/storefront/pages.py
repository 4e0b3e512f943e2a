"""What every storefront page shares: htmx detection, the signed-in buyer, the problem page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from jishi.accounts.models import User


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
