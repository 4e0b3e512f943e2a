"""Storefront message centre: the inbox, opening a message, read all, notice settings, the unread badge."""

from __future__ import annotations

from datetime import time

from django import forms
from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jishi.core.errors import DomainError, NotFound
from jishi.notify import services
from jishi.notify.models import Category

from ..pages import buyer

PAGE = 50


@login_required
@require_GET
def centre(request: HttpRequest) -> HttpResponse:
    user = buyer(request)
    category = request.GET.get("category", "")
    if category not in Category.values:
        category = ""
    context = {
        "tab": "me",
        "items": services.inbox_of(user, category=category, limit=PAGE),
        "unread": services.unread_count(user),
        "categories": [("", _("全部")), *Category.choices],
        "current": category,
    }
    return render(request, "storefront/messages/centre.html", context)


@login_required
@require_POST
def open_message(request: HttpRequest, message_id: int) -> HttpResponse:
    try:
        message = services.mark_read(buyer(request), message_id)
    except NotFound as exc:
        raise Http404 from exc
    return HttpResponseRedirect(message.link or reverse("storefront_messages:centre"))


@login_required
@require_POST
def read_all(request: HttpRequest) -> HttpResponse:
    services.mark_all_read(buyer(request))
    return HttpResponseRedirect(reverse("storefront_messages:centre"))


@require_GET
def badge(request: HttpRequest) -> HttpResponse:
    """The unread count for the tab bar, loaded after the page (no query on the page itself)."""
    count = services.unread_count(buyer(request)) if request.user.is_authenticated else 0
    text = "99+" if count > 99 else str(count)
    html = f'<span class="badge" data-unread="{count}">{text}</span>' if count else "<span></span>"
    return HttpResponse(html)


class NoticeSettingsForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("邮箱"), required=False, max_length=254)
    sms_marketing = forms.BooleanField(label=gettext_lazy("接收短信活动通知"), required=False)
    wechat_marketing = forms.BooleanField(label=gettext_lazy("接收微信活动通知"), required=False)
    email_marketing = forms.BooleanField(label=gettext_lazy("接收邮件活动通知"), required=False)
    quiet_start = forms.TimeField(
        label=gettext_lazy("免打扰开始"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    quiet_end = forms.TimeField(
        label=gettext_lazy("免打扰结束"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )


@login_required
@require_http_methods(["GET", "POST"])
def notice_settings(request: HttpRequest) -> HttpResponse:
    user = buyer(request)
    row = services.notice_settings(user)
    if request.method == "POST":
        form = NoticeSettingsForm(request.POST)
        if form.is_valid():
            data = dict(form.cleaned_data)
            for name in ("quiet_start", "quiet_end"):
                value = data.get(name)
                data[name] = value.replace(second=0, microsecond=0) if isinstance(value, time) else None
            try:
                services.update_notice_settings(user, data)
            except DomainError as exc:
                form.add_error(None, str(exc.message))
            else:
                flash.success(request, _("通知设置已保存"))
                return HttpResponseRedirect(reverse("storefront_messages:settings"))
    else:
        form = NoticeSettingsForm(
            initial={
                "email": row.email,
                "sms_marketing": row.sms_marketing,
                "wechat_marketing": row.wechat_marketing,
                "email_marketing": row.email_marketing,
                "quiet_start": row.quiet_start,
                "quiet_end": row.quiet_end,
            }
        )
    return render(request, "storefront/messages/settings.html", {"tab": "me", "form": form, "phone": user.phone})
