"""Community group-buy pages: today's batch, choosing a leader (nearest first), my pickup codes;
the leader app (today's orders, pick list, to be collected, verify a code by camera or typed,
earnings, members, a batch poster). Every write is a ``jishi.groupbuy`` service call; a leader
sees only their own point's orders."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from jishi.accounts.models import Address
from jishi.core.errors import DomainError
from jishi.groupbuy import batches, leaders, pickup
from jishi.groupbuy.models import Batch, Leader, LeaderStatus, MemberBinding, PickupOrder, PickupStatus

from ..pages import buyer, problem

MAX_QUANTITY = 99


def _ctx(title: str, **extra: Any) -> dict[str, Any]:
    return {"tab": "me", "title": title, **extra}


def _today_batch() -> Batch | None:
    live = batches.live_batches()
    return live[0] if live else None


@login_required
def batch_page(request: HttpRequest) -> HttpResponse:
    user = buyer(request)
    batch = _today_batch()
    binding = leaders.binding_of(user)
    context = _ctx(
        _("社区团购"),
        batch=batch,
        items=batches.batch_items(batch) if batch else [],
        binding=binding,
        tab="home",
    )
    return render(request, "storefront/groupbuy/batch.html", context)


@login_required
@require_POST
def place(request: HttpRequest) -> HttpResponse:
    user = buyer(request)
    back = reverse("storefront:groupbuy:batch")
    try:
        batch_id = int(request.POST.get("batch_id", ""))
    except ValueError:
        return problem(request, _("团期不存在"), status=404, back=back)
    lines = []
    for key in request.POST:
        value = request.POST.get(key, "")
        if key.startswith("qty_") and value.strip():
            try:
                sku_id, quantity = int(key[4:]), int(value)
            except ValueError:
                continue
            if 0 < quantity <= MAX_QUANTITY:
                lines.append((sku_id, quantity))
    if not lines:
        messages.error(request, _("请选择要购买的商品"))
        return HttpResponseRedirect(back)
    try:
        order = batches.buy(user, batch_id, lines)
    except DomainError as exc:
        if exc.code == "leader_required":
            messages.error(request, str(exc.message))
            return HttpResponseRedirect(reverse("storefront:groupbuy:leaders"))
        messages.error(request, str(exc.message))
        return HttpResponseRedirect(back)
    return HttpResponseRedirect(reverse("storefront:pay", args=[order.pk]))


def _origin(request: HttpRequest) -> tuple[float, float] | None:
    try:
        lat, lng = float(request.GET["lat"]), float(request.GET["lng"])
    except (KeyError, ValueError):
        address = (
            Address.objects.filter(user=buyer(request), latitude__isnull=False, longitude__isnull=False)
            .order_by("-is_default", "-id")
            .first()
        )
        return (address.latitude, address.longitude) if address else None  # type: ignore[return-value]
    if -90 <= lat <= 90 and -180 <= lng <= 180:
        return lat, lng
    return None


@login_required
@require_http_methods(["GET", "POST"])
def choose_leader(request: HttpRequest) -> HttpResponse:
    user = buyer(request)
    if request.method == "POST":
        try:
            leaders.bind(user, int(request.POST.get("leader_id", "0")))
        except (DomainError, ValueError) as exc:
            messages.error(request, str(getattr(exc, "message", _("团长不存在"))))
            return HttpResponseRedirect(request.get_full_path())
        messages.success(request, _("已选择团长，下单后到自提点取货"))
        return HttpResponseRedirect(reverse("storefront:groupbuy:batch"))
    origin = _origin(request)
    nearby = [{"n": n, "distance": _distance_label(n.distance_m)} for n in (leaders.nearest(*origin) if origin else [])]
    binding = leaders.binding_of(user)
    context = _ctx(_("选择团长"), nearby=nearby, origin=origin, binding=binding)
    return render(request, "storefront/groupbuy/leaders.html", context)


def _distance_label(metres: int) -> str:
    return f"{metres} m" if metres < 1000 else f"{metres / 1000:.1f} km"


@login_required
def share(request: HttpRequest, code: str) -> HttpResponse:
    try:
        leaders.bind_by_share_code(buyer(request), code[:12])
        messages.success(request, _("已绑定团长"))
    except DomainError as exc:
        messages.error(request, str(exc.message))
    return HttpResponseRedirect(reverse("storefront:groupbuy:batch"))


@login_required
def my_pickups(request: HttpRequest) -> HttpResponse:
    rows = (
        PickupOrder.objects.filter(buyer=buyer(request))
        .exclude(status=PickupStatus.CLOSED)
        .select_related("order", "leader__point", "batch")
        .prefetch_related("order__lines")
        .order_by("-id")[:30]
    )
    cards = [{"p": p, "qr": pickup.qr_svg(p.code) if p.status == PickupStatus.READY else ""} for p in rows]
    return render(request, "storefront/groupbuy/pickups.html", _ctx(_("我的提货码"), cards=cards))


# --- the leader app -------------------------------------------------------------------


def _leader(request: HttpRequest) -> Leader | None:
    leader = Leader.objects.select_related("point", "level").filter(user=buyer(request)).first()
    return leader if leader is not None and leader.status == LeaderStatus.APPROVED else None


def _not_leader(request: HttpRequest) -> HttpResponse:
    return problem(
        request,
        _("你还不是团长"),
        status=403,
        back=reverse("storefront:groupbuy:batch"),
        back_label=_("去社区团购"),
    )


@login_required
def leader_home(request: HttpRequest) -> HttpResponse:
    leader = _leader(request)
    if leader is None:
        return _not_leader(request)
    batch = _today_batch()
    todays = pickup.leader_orders(leader, [PickupStatus.PAID, PickupStatus.READY], batch.pk)[:50] if batch else []
    ready = pickup.leader_orders(leader, [PickupStatus.READY, PickupStatus.UNCOLLECTED])[:50]
    context = _ctx(
        _("团长中心"),
        leader=leader,
        batch=batch,
        todays=todays,
        ready=ready,
        money=pickup.earnings(leader.user_id),
        members=MemberBinding.objects.filter(leader=leader).count(),
        recent_batches=Batch.objects.filter(pick_lines__leader=leader).distinct().order_by("-cutoff_at")[:5],
    )
    return render(request, "storefront/groupbuy/leader.html", context)


@login_required
@require_POST
def leader_verify(request: HttpRequest) -> HttpResponse:
    if _leader(request) is None:
        return _not_leader(request)
    code = "".join(ch for ch in request.POST.get("code", "") if ch.isdigit())[:16]
    try:
        done = pickup.verify(buyer(request), code)
    except DomainError as exc:
        messages.error(request, f"{code}: {exc.message}")
    else:
        messages.success(
            request, _("核销成功：%(code)s（订单 %(number)s）") % {"code": done.code, "number": done.order.number}
        )
    return HttpResponseRedirect(reverse("storefront:groupbuy:leader"))


@login_required
def leader_pick_list(request: HttpRequest) -> HttpResponse:
    leader = _leader(request)
    if leader is None:
        return _not_leader(request)
    try:
        batch_id = int(request.GET.get("batch", ""))
    except ValueError:
        latest = Batch.objects.filter(pick_lines__leader=leader).order_by("-cutoff_at").first()
        batch_id = latest.pk if latest else 0
    batch = Batch.objects.filter(pk=batch_id).first()
    data = batches.pick_list(batch_id, leader.pk) if batch else None
    return render(request, "storefront/groupbuy/pick_list.html", _ctx(_("分拣单"), batch=batch, data=data))


@login_required
def leader_members(request: HttpRequest) -> HttpResponse:
    leader = _leader(request)
    if leader is None:
        return _not_leader(request)
    rows = MemberBinding.objects.filter(leader=leader).select_related("member").order_by("-bound_at")[:100]
    return render(request, "storefront/groupbuy/members.html", _ctx(_("我的团员"), rows=rows))


@login_required
def leader_poster(request: HttpRequest) -> HttpResponse:
    leader = _leader(request)
    if leader is None:
        return _not_leader(request)
    batch = _today_batch()
    link = request.build_absolute_uri(reverse("storefront:groupbuy:share", args=[leader.share_code]))
    context = _ctx(
        _("分享团购海报"),
        leader=leader,
        batch=batch,
        items=batches.batch_items(batch)[:6] if batch else [],
        link=link,
        qr=pickup.qr_svg(link),
    )
    return render(request, "storefront/groupbuy/poster.html", context)
