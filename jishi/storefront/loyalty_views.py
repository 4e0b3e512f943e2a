"""Storefront loyalty pages: my points, my level, daily sign-in, the points mall, my red packets.

Thin like the API: read through loyalty's services, write only by calling them; every row is the
signed-in buyer's own (another buyer's red packet id is a 404).
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from jishi.accounts.models import Address, User
from jishi.core.errors import DomainError, NotFound
from jishi.core.money import format_yuan
from jishi.loyalty import levels, mall, points, red_packets, services, signin
from jishi.loyalty.models import RedPacketStatus

HISTORY_SIZE = 30


def _buyer(request: HttpRequest) -> User:
    """The signed-in buyer (every view here is behind ``login_required``)."""
    return cast(User, request.user)


def _base(title: str, back: str = "") -> dict[str, Any]:
    return {"tab": "me", "title": title, "back": back or reverse("storefront:me")}


@login_required
@require_GET
def my_points(request: HttpRequest) -> HttpResponse:
    user = _buyer(request)
    context = {
        **_base(_("我的积分")),
        "summary": services.member_summary(user),
        "history": points.history(user.pk, limit=HISTORY_SIZE),
        "expiring": points.expiring_soon(user.pk),
        "signed_today": signin.signed_in_today(user.pk),
    }
    return render(request, "storefront/loyalty/points.html", context)


def _this_month() -> tuple[int, int]:
    today = timezone.localdate()
    return today.year, today.month


@login_required
@require_GET
def my_level(request: HttpRequest) -> HttpResponse:
    summary = services.member_summary(_buyer(request))
    current = summary["level_info"]
    upcoming = summary["next_level"]
    progress = 100
    if upcoming is not None:
        start = current.threshold if current else 0
        span = max(upcoming.threshold - start, 1)
        progress = min(100, max(0, (summary["growth"] - start) * 100 // span))
    context = {
        **_base(_("我的等级"), reverse("loyalty_pages:points")),
        "summary": summary,
        "levels": levels.level_table(),
        "progress": progress,
        "needed": (upcoming.threshold - summary["growth"]) if upcoming else 0,
    }
    return render(request, "storefront/loyalty/level.html", context)


@login_required
def sign_in_page(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            row = signin.sign_in(_buyer(request))
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(
                request,
                _("签到成功，+%(points)s 积分（连续 %(streak)s 天）") % {"points": row.points, "streak": row.streak},
            )
        return HttpResponseRedirect(reverse("loyalty_pages:sign_in"))
    if request.method != "GET":
        return HttpResponse(status=405)
    year, month = _this_month()
    context = {
        **_base(_("每日签到"), reverse("loyalty_pages:points")),
        "calendar": signin.month_calendar(_buyer(request).pk, year, month),
        "balance": points.balance(_buyer(request).pk),
        "weekdays": [_("一"), _("二"), _("三"), _("四"), _("五"), _("六"), _("日")],
    }
    return render(request, "storefront/loyalty/sign_in.html", context)


@login_required
@require_GET
def mall_list(request: HttpRequest) -> HttpResponse:
    context = {
        **_base(_("积分商城"), reverse("loyalty_pages:points")),
        "items": mall.available_items(),
        "balance": points.balance(_buyer(request).pk),
    }
    return render(request, "storefront/loyalty/mall.html", context)


@login_required
def mall_item(request: HttpRequest, item_id: int) -> HttpResponse:
    try:
        item = mall.get_item(item_id)
    except NotFound as exc:
        raise Http404 from exc
    error = ""
    status = 200
    if request.method == "POST":
        try:
            quantity = int(request.POST.get("quantity") or 1)
            address_id = int(request.POST["address_id"]) if request.POST.get("address_id") else None
        except ValueError:
            quantity, address_id = 0, None
        try:
            order = mall.redeem(_buyer(request), item.pk, quantity, address_id)
        except DomainError as exc:
            error, status = str(exc.message), exc.status
        else:
            if order.payable:
                messages.success(request, _("兑换订单已创建，请支付 %(cash)s") % {"cash": format_yuan(order.payable)})
                return HttpResponseRedirect(reverse("storefront:pay", args=[order.pk]))
            messages.success(request, _("兑换成功"))
            return HttpResponseRedirect(reverse("loyalty_pages:redeemed", args=[order.pk]))
    elif request.method != "GET":
        return HttpResponse(status=405)
    context = {
        **_base(item.name, reverse("loyalty_pages:mall")),
        "item": item,
        "balance": points.balance(_buyer(request).pk),
        "addresses": list(Address.objects.filter(user=_buyer(request)).order_by("-is_default", "-id")),
        "redeemed": mall.redeemed_by(_buyer(request).pk, item.pk),
        "error": error,
    }
    return render(request, "storefront/loyalty/mall_item.html", context, status=status)


@login_required
@require_GET
def redeemed(request: HttpRequest, order_id: int) -> HttpResponse:
    from jishi.loyalty.models import MallRedemption

    redemption = (
        MallRedemption.objects.filter(order_id=order_id, user=_buyer(request)).select_related("item", "order").first()
    )
    if redemption is None:
        raise Http404
    context = {
        **_base(_("兑换成功"), reverse("loyalty_pages:mall")),
        "redemption": redemption,
        "balance": points.balance(_buyer(request).pk),
    }
    return render(request, "storefront/loyalty/redeemed.html", context)


@login_required
@require_GET
def my_red_packets(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    packets = red_packets.packets_of(_buyer(request))
    context = {
        **_base(_("我的红包")),
        "pending": [p for p in packets if p.status == RedPacketStatus.PENDING and p.expires_at > now],
        "others": [p for p in packets if not (p.status == RedPacketStatus.PENDING and p.expires_at > now)],
    }
    return render(request, "storefront/loyalty/red_packets.html", context)


@login_required
@require_POST
def claim_red_packet(request: HttpRequest, packet_id: int) -> HttpResponse:
    try:
        packet = red_packets.claim(_buyer(request), packet_id)
    except NotFound as exc:
        raise Http404 from exc
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("%(amount)s 已存入余额") % {"amount": format_yuan(packet.amount)})
    return HttpResponseRedirect(reverse("loyalty_pages:red_packets"))
