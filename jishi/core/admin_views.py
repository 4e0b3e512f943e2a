"""Building blocks of the ops console: read-only admins, console pages, form pages and money display.

Role checks live in the apps that register pages (core sits below accounts), so a page carries its
own ``allowed(user)`` predicate.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.sites import AdminSite
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, URLResolver, path, reverse
from django.utils.translation import gettext_lazy as _

from .console import ConsoleReadOnlyInline, NavLink, add_nav_link
from .money import format_yuan

INDEX_TEMPLATE = "admin/jishi/index.html"
FORM_PAGE_TEMPLATE = "admin/jishi/form_page.html"

Predicate = Callable[[Any], bool]
_PLAIN_AMOUNT = re.compile(r"\d+(\.\d+)?")


def yuan(fen: int | None) -> str:
    """Fen as the console shows money: ``¥12.34`` (empty for a missing amount)."""
    return "" if fen is None else format_yuan(fen)


def yuan_column(field: str, description: Any, ordering: str | None = None) -> Callable[[Any, Any], str]:
    """A changelist/readonly column showing ``obj.<field>`` (fen) as yuan."""

    def show(admin_obj: Any, obj: Any) -> str:
        return yuan(getattr(obj, field))

    show.short_description = description  # type: ignore[attr-defined]
    if ordering:
        show.admin_order_field = ordering  # type: ignore[attr-defined]
    return show


class YuanField(forms.CharField):
    """An amount typed in yuan (``12.5``, ``12.50``) cleaned to exact integer fen; at most two decimals."""

    default_error_messages = {
        "invalid": _("请输入金额，例如 12.50"),
        "precision": _("金额最多两位小数"),
        "positive": _("金额必须大于 0"),
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 13)  # up to ten digits of yuan: far inside a 64-bit fen amount
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> int | None:  # type: ignore[override]
        text = super().to_python(value)
        if not text:
            return None
        # Digits and one dot only: no signs, exponents, NaN or thousands separators.
        if (self.max_length and len(text) > self.max_length) or not _PLAIN_AMOUNT.fullmatch(text):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        amount = Decimal(text)
        if amount != amount.quantize(Decimal("0.01")):
            raise forms.ValidationError(self.error_messages["precision"], code="precision")
        fen = int(amount * 100)
        if fen <= 0:
            raise forms.ValidationError(self.error_messages["positive"], code="positive")
        return fen

    def validate(self, value: Any) -> None:
        if value is None and self.required:
            raise forms.ValidationError(self.error_messages["required"], code="required")

    def run_validators(self, value: Any) -> None:
        # The length limit is checked on the typed text in to_python: the cleaned value is an int.
        return None


# --- read-only admins -----------------------------------------------------------------


class ConsoleAccessMixin:
    """Admins whose rows staff may see when ``console_access(user)`` allows, besides Django permissions.

    Subclasses set ``console_access``; writing is never allowed here: state changes go through services.
    """

    console_access: Predicate = staticmethod(lambda user: False)

    def _console_allows(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff and type(self).console_access(user))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._console_allows(request) or super().has_module_permission(request)  # type: ignore[misc]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._console_allows(request) or super().has_view_permission(request, obj)  # type: ignore[misc]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyTabularInline(ConsoleReadOnlyInline):
    """A read-only table of child rows (no add, change or delete)."""


# --- console pages --------------------------------------------------------------------


@dataclass(frozen=True)
class ConsolePage:
    route: str  # relative to the console root, e.g. "wallet/top-up/"
    name: str  # URL name in the admin namespace
    title: Any
    view: Callable[[HttpRequest], HttpResponse]
    allowed: Predicate

    def url(self) -> str:
        return reverse(f"admin:{self.name}")


_pages: list[ConsolePage] = []


def console_pages(user: Any) -> list[ConsolePage]:
    return [page for page in _pages if page.allowed(user)]


def register_page(
    route: str,
    name: str,
    title: Any,
    view: Callable[[HttpRequest], HttpResponse],
    allowed: Predicate,
    site: AdminSite | None = None,
    *,
    group: str = "settings",
    icon: str = "chevron_right",
    order: int = 100,
) -> ConsolePage:
    """Mount ``view`` under the console (login required, ``allowed`` else 403) and link it from the sidebar
    (``group``: a key of ``jishi.core.console.GROUPS``) and the console home."""
    site = site or admin.site
    add_nav_link(NavLink(group=group, title=title, url_name=name, icon=icon, order=order, allowed=allowed))
    page = ConsolePage(route=route, name=name, title=title, view=view, allowed=allowed)
    if any(p.name == name for p in _pages):
        return next(p for p in _pages if p.name == name)
    _pages.append(page)
    _install(site)
    return page


def _guarded(site: AdminSite, page: ConsolePage) -> Callable[[HttpRequest], HttpResponse]:
    def view(request: HttpRequest) -> HttpResponse:
        if not page.allowed(request.user):
            raise PermissionDenied
        return page.view(request)

    return site.admin_view(view)


def _install(site: AdminSite) -> None:
    """Teach the site our pages once: extra URLs, the index template and the page list in every context.

    The default site is Django's own instance (settings do not name a custom AdminSite), so the hooks are
    set on the instance; the URLconf reads ``site.urls`` after every admin module has been imported.
    """
    if getattr(site, "_jishi_console", False):
        return
    original_get_urls = site.get_urls
    original_each_context = site.each_context

    def get_urls() -> list[URLPattern | URLResolver]:
        ours: list[URLPattern | URLResolver] = [path(p.route, _guarded(site, p), name=p.name) for p in _pages]
        return ours + original_get_urls()

    def each_context(request: HttpRequest) -> dict[str, Any]:
        context = original_each_context(request)
        context["console_pages"] = console_pages(request.user) if request.user.is_authenticated else []
        return context

    original_login = site.login

    def login(request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        # Unfold's login form carries no "next": opened directly, it would land on Django's /accounts/profile/.
        if "next" not in request.GET and "next" not in request.POST:
            query = request.GET.copy()
            query["next"] = reverse(f"{site.name}:index")
            request.GET = query  # type: ignore[assignment]
        return original_login(request, extra_context)

    site.login = login  # type: ignore[method-assign]
    site.get_urls = get_urls  # type: ignore[method-assign]
    site.each_context = each_context  # type: ignore[method-assign]
    site.index_template = INDEX_TEMPLATE
    site._jishi_console = True  # type: ignore[attr-defined]


# --- form pages -----------------------------------------------------------------------


@dataclass
class FormBlock:
    """One form on a console page: posts to ``action`` (empty: the page itself)."""

    form: Any
    submit: Any
    title: Any = ""
    action: str = ""
    danger: bool = False
    confirm: Any = ""  # asked in a dialog before the form is sent (money actions)
    multipart: bool = False


def render_form_page(
    request: HttpRequest,
    *,
    title: Any,
    forms: Sequence[FormBlock],
    summary: Sequence[tuple[Any, Any]] = (),
    breadcrumbs: Sequence[tuple[Any, str]] = (),
    back_url: str = "",
    site: AdminSite | None = None,
    status: int = 200,
) -> TemplateResponse:
    """A console page with a summary table and one or more forms, in the admin's look."""
    site = site or admin.site
    context = {
        **site.each_context(request),
        "title": title,
        "forms": forms,
        "summary": summary,
        "page_breadcrumbs": breadcrumbs,
        "back_url": back_url,
        "back_label": _("返回"),
    }
    return TemplateResponse(request, FORM_PAGE_TEMPLATE, context, status=status)
