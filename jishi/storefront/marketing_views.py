"""Campaign pages: coupon centre and my coupons, flash sale, 拼团 (share links), bargain."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from jishi.accounts.models import User
from jishi.core.errors import DomainError
from jishi.marketing import bargains, coupons, flash, groups
from jishi.marketing.models import Bargain, BargainCampaign, CouponStatus

from .forms import error_message
from .pages import address_first, buyer, problem


def _user_or_none(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) else None


def _int(raw: str | None) -> int:
    try:
        return max(1, min(int(raw or 1), 99))
    except ValueError:
        return 1


# --- coupons ------------------------------------------------------------------------------


@require_GET
def coupon_centre(request: HttpRequest) -> HttpResponse:
    user = _user_or_none(request)
    if user is not None:
        coupons.ensure_new_member_coupons(user)
    offers = [(o, coupons.describe(o.template)) for o in coupons.available(user)]
    return render(request, "storefront/marketing/coupons.html", {"tab": "me", "offers": offers})


@login_required
@require_POST
def coupon_claim(request: HttpRequest, template_id: int) -> HttpResponse:
    try:
        coupons.claim(buyer(request), template_id)
        messages.success(request, _("领取成功"))
    except DomainError as exc:
        messages.error(request, error_message(exc))
    return HttpResponseRedirect(reverse("storefront:mkt_coupons"))


@login_required
@require_GET
def my_coupons(request: HttpRequest) -> HttpResponse:
    user = buyer(request)
    coupons.ensure_new_member_coupons(user)
    status = request.GET.get("status") or CouponStatus.UNUSED
    if status not in CouponStatus.values:
        status = CouponStatus.UNUSED
    now = timezone.now()
    rows = [
        (c, coupons.describe(c.template), coupons.effective_status(c, now)) for c in coupons.mine(user, status, now)
    ]
    context = {"tab": "me", "rows": rows, "status": status, "statuses": CouponStatus.choices}
    return render(request, "storefront/marketing/my_coupons.html", context)


# --- flash sale ---------------------------------------------------------------------------


@require_GET
def flash_sale(request: HttpRequest) -> HttpResponse:
    views = flash.current_sessions()
    chosen = request.GET.get("session")
    current = next((v for v in views if str(v.session.pk) == chosen), None) or next(iter(views), None)
    return render(
        request,
        "storefront/marketing/flash.html",
        {"tab": "home", "sessions": views, "current": current, "now": timezone.now()},
    )


@login_required
@require_POST
def flash_buy(request: HttpRequest, item_id: int) -> HttpResponse:
    first = address_first(request, reverse("storefront:mkt_flash"))
    if first is not None:
        return first
    try:
        order = flash.buy(buyer(request), item_id, _int(request.POST.get("quantity")))
    except DomainError as exc:
        messages.error(request, error_message(exc))
        return HttpResponseRedirect(reverse("storefront:mkt_flash"))
    return HttpResponseRedirect(reverse("storefront:pay", args=[order.pk]))


# --- 拼团 ----------------------------------------------------------------------------------


@require_GET
def group_buys(request: HttpRequest) -> HttpResponse:
    user = _user_or_none(request)
    context = {
        "tab": "home",
        "campaigns": groups.running_campaigns(),
        "mine": groups.my_groups(user) if user else [],
    }
    return render(request, "storefront/marketing/groups.html", context)


@require_GET
def group_share(request: HttpRequest, code: str) -> HttpResponse:
    try:
        group = groups.group_by_code(code)
    except DomainError as exc:
        return problem(request, error_message(exc), status=exc.status, back=reverse("storefront:mkt_groups"))
    user = _user_or_none(request)
    members = groups.paid_members(group)
    joined = user is not None and any(m.user_id == user.pk for m in group.members.exclude(status="released"))
    context = {
        "tab": "home",
        "group": group,
        "campaign": group.campaign,
        "members": members,
        "empty_seats": range(max(0, group.size - len(members))),
        "joined": joined,
        "can_join": group.status == "open" and group.seats_taken < group.size and not joined,
    }
    return render(request, "storefront/marketing/group.html", context)


@login_required
@require_POST
def group_open(request: HttpRequest, campaign_id: int) -> HttpResponse:
    first = address_first(request, reverse("storefront:mkt_groups"))
    if first is not None:
        return first
    try:
        _group, order = groups.open_group(buyer(request), campaign_id)
    except DomainError as exc:
        messages.error(request, error_message(exc))
        return HttpResponseRedirect(reverse("storefront:mkt_groups"))
    return HttpResponseRedirect(reverse("storefront:pay", args=[order.pk]))


@login_required
@require_POST
def group_join(request: HttpRequest, code: str) -> HttpResponse:
    back = reverse("storefront:mkt_group", args=[code])
    first = address_first(request, back)
    if first is not None:
        return first
    try:
        group = groups.group_by_code(code)
        _group, order = groups.join_group(buyer(request), group.pk)
    except DomainError as exc:
        messages.error(request, error_message(exc))
        return HttpResponseRedirect(back)
    return HttpResponseRedirect(reverse("storefront:pay", args=[order.pk]))


# --- bargain ------------------------------------------------------------------------------


@require_GET
def bargain_list(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    user = _user_or_none(request)
    campaigns = BargainCampaign.objects.filter(is_active=True, starts_at__lte=now, ends_at__gt=now).select_related(
        "sku__product"
    )
    mine = (
        Bargain.objects.filter(user=user).select_related("campaign__sku__product").order_by("-id")[:20] if user else []
    )
    return render(request, "storefront/marketing/bargains.html", {"tab": "home", "campaigns": campaigns, "mine": mine})


@login_required
@require_POST
def bargain_start(request: HttpRequest, campaign_id: int) -> HttpResponse:
    try:
        bargain = bargains.start(buyer(request), campaign_id)
    except DomainError as exc:
        messages.error(request, error_message(exc))
        return HttpResponseRedirect(reverse("storefront:mkt_bargains"))
    return HttpResponseRedirect(reverse("storefront:mkt_bargain", args=[bargain.pk]))


@require_GET
def bargain_detail(request: HttpRequest, bargain_id: int) -> HttpResponse:
    try:
        bargain = bargains.get_bargain(bargain_id)
    except DomainError as exc:
        return problem(request, error_message(exc), status=exc.status, back=reverse("storefront:mkt_bargains"))
    user = _user_or_none(request)
    helps = list(bargain.helps.select_related("helper"))
    cut = bargain.original_price - bargain.current_price
    span = bargain.original_price - bargain.floor_price
    context = {
        "tab": "home",
        "bargain": bargain,
        "helps": helps,
        "mine": user is not None and user.pk == bargain.user_id,
        "helped": user is not None and any(h.helper_id == user.pk for h in helps),
        "progress": cut * 100 // span if span else 100,
        "live": bargain.status in ("active", "floor") and bargain.expires_at > timezone.now(),
    }
    return render(request, "storefront/marketing/bargain.html", context)


@login_required
@require_POST
def bargain_help(request: HttpRequest, bargain_id: int) -> HttpResponse:
    try:
        cut = bargains.help_cut(buyer(request), bargain_id)
        messages.success(request, _("帮砍成功，砍掉 ¥%(y)s") % {"y": f"{cut.amount / 100:.2f}"})
    except DomainError as exc:
        messages.error(request, error_message(exc))
    return HttpResponseRedirect(reverse("storefront:mkt_bargain", args=[bargain_id]))


@login_required
@require_POST
def bargain_buy(request: HttpRequest, bargain_id: int) -> HttpResponse:
    first = address_first(request, reverse("storefront:mkt_bargain", args=[bargain_id]))
    if first is not None:
        return first
    try:
        order = bargains.buy(buyer(request), bargain_id)
    except DomainError as exc:
        messages.error(request, error_message(exc))
        return HttpResponseRedirect(reverse("storefront:mkt_bargain", args=[bargain_id]))
    return HttpResponseRedirect(reverse("storefront:pay", args=[order.pk]))
