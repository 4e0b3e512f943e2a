"""Community group-buy pages: today's batch, choosing a leader (nearest first), my pickup codes,
applying to be a leader (and the application's status); the leader app (today's orders, pick
list, confirming a delivery with its shortages, to be collected, verify a code by camera or
typed, earnings, members, a batch poster). Every write is a ``jishi.groupbuy`` service call; a leader
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
from jishi.content import services as content
from jishi.core.errors import DomainError
from jishi.groupbuy import batches, leaders, pickup
from jishi.groupbuy.models import (
    Batch,
    BatchStatus,
    Delivery,
    Leader,
    LeaderStatus,
    MemberBinding,
    PickListLine,
    PickupOrder,
    PickupStatus,
)

from ..pages import buyer, problem
from ..promoter_views import withdrawal_page
from .forms import MAX_PHOTO_BYTES, MAX_PHOTOS, LeaderApplicationForm

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
        is_leader=Leader.objects.filter(user=user, status=LeaderStatus.APPROVED).exists(),
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


# --- applying to lead -----------------------------------------------------------------


def _saved_places(request: HttpRequest) -> list[Address]:
    """The buyer's addresses that carry coordinates: one tap fills the point's address and position."""
    return list(
        Address.objects.filter(user=buyer(request), latitude__isnull=False, longitude__isnull=False).order_by(
            "-is_default", "-id"
        )[:10]
    )


def _application_initial(leader: Leader | None) -> dict[str, Any]:
    if leader is None:
        return {}
    point = leader.point
    return {
        "name": leader.name,
        "phone": leader.phone,
        "point_name": point.name,
        "point_type": point.type,
        "address": point.address,
        "latitude": point.latitude,
        "longitude": point.longitude,
        "hours": point.hours,
        "daily_capacity": point.daily_capacity,
    }


def _upload_photos(request: HttpRequest) -> list[str]:
    uploads = request.FILES.getlist("photos")
    if len(uploads) > MAX_PHOTOS:
        raise DomainError(_("最多上传 %(n)d 张照片") % {"n": MAX_PHOTOS}, code="too_many_photos")
    if any((u.size or 0) > MAX_PHOTO_BYTES for u in uploads):
        raise DomainError(_("图片不能超过 8 MB"), code="image_too_large")
    return [content.upload_image(buyer(request), u.read()).image.url for u in uploads]


@login_required
@require_http_methods(["GET", "POST"])
def apply(request: HttpRequest) -> HttpResponse:
    """申请当团长: the form, or the application's status once sent (a rejected one may re-apply)."""
    user = buyer(request)
    leader = Leader.objects.select_related("point").filter(user=user).first()
    can_apply = leader is None or leader.status == LeaderStatus.REJECTED
    form = LeaderApplicationForm(request.POST or None, initial=_application_initial(leader))
    if request.method == "POST" and can_apply and form.is_valid():
        try:
            photos = _upload_photos(request)
            leaders.apply(user, form.payload(photos))
        except DomainError as exc:
            for name in exc.fields or {}:
                key = {"pickup_point.type": "point_type", "pickup_point.latitude": "latitude"}.get(name, name)
                if key in form.fields:
                    form.add_error(key, str(exc.message))  # type: ignore[arg-type]
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("申请已提交，运营审核后通知你"))
            return HttpResponseRedirect(reverse("storefront:groupbuy:apply"))
    context = _ctx(
        _("申请当团长"),
        leader=leader,
        form=form,
        can_apply=can_apply,
        editing=can_apply and (leader is None or request.method == "POST" or request.GET.get("again") == "1"),
        places=_saved_places(request),
    )
    return render(request, "storefront/groupbuy/apply.html", context)


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
        coming=Batch.objects.filter(status__in=RECEIVABLE, pick_lines__leader=leader)
        .exclude(deliveries__leader=leader)
        .distinct()
        .count(),
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


RECEIVABLE = (BatchStatus.DELIVERING, BatchStatus.AT_POINTS)


@login_required
def leader_deliveries(request: HttpRequest) -> HttpResponse:
    """The batches on their way to this leader (to confirm) and those already received."""
    leader = _leader(request)
    if leader is None:
        return _not_leader(request)
    received = {
        d.batch_id: d
        for d in Delivery.objects.filter(leader=leader).prefetch_related("shortages").order_by("-received_at")[:20]
    }
    coming = list(
        Batch.objects.filter(status__in=RECEIVABLE, pick_lines__leader=leader)
        .exclude(pk__in=list(received))
        .distinct()
        .order_by("delivery_date", "id")
    )
    done = list(Batch.objects.filter(pk__in=list(received)).order_by("-delivery_date", "-id"))
    context = _ctx(_("到货签收"), coming=coming, done=[(b, received[b.pk]) for b in done])
    return render(request, "storefront/groupbuy/deliveries.html", context)


def _shortages_from(request: HttpRequest, lines: list[PickListLine]) -> dict[int, int] | None:
    """{sku: units short} from the form; None when a figure is not a whole number within the pick."""
    out: dict[int, int] = {}
    for line in lines:
        raw = request.POST.get(f"short_{line.sku_id}", "").strip() or "0"
        if not raw.isdigit() or int(raw) > line.quantity:
            return None
        if int(raw):
            out[line.sku_id] = int(raw)
    return out


@login_required
@require_http_methods(["GET", "POST"])
def leader_delivery(request: HttpRequest, batch_id: int) -> HttpResponse:
    """确认到货: the pick list with a shortage field per product; what is short is refunded to the
    buyers at once (``pickup.receive_delivery``), the rest becomes ready for pickup."""
    leader = _leader(request)
    if leader is None:
        return _not_leader(request)
    batch = Batch.objects.filter(pk=batch_id).first()
    lines = list(PickListLine.objects.filter(batch_id=batch_id, leader=leader).order_by("sku_id"))
    back = reverse("storefront:groupbuy:deliveries")
    if batch is None or not lines:
        return problem(request, _("这期团购没有你的分拣单"), status=404, back=back)
    delivery = Delivery.objects.filter(batch=batch, leader=leader).prefetch_related("shortages").first()
    if request.method == "POST":
        shortages = _shortages_from(request, lines)
        if delivery is not None:
            messages.error(request, _("该团长已签收"))
        elif shortages is None:
            messages.error(request, _("缺货数量须为不超过分拣数量的整数"))
        else:
            try:
                pickup.receive_delivery(buyer(request), batch.pk, leader.pk, shortages)
            except DomainError as exc:
                messages.error(request, str(exc.message))
            else:
                messages.success(
                    request, _("已签收，缺货部分已自动退款") if shortages else _("已签收，买家已收到取货通知")
                )
        return HttpResponseRedirect(reverse("storefront:groupbuy:delivery", args=[batch.pk]))
    short = {s.sku_id: s for s in delivery.shortages.all()} if delivery else {}
    rows = [{"line": line, "shortage": short.get(line.sku_id)} for line in lines]
    context = _ctx(
        _("确认到货"),
        batch=batch,
        rows=rows,
        delivery=delivery,
        receivable=batch.status in RECEIVABLE,
        refunded=sum(s.refunded_amount for s in short.values()),
    )
    return render(request, "storefront/groupbuy/delivery.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def leader_withdraw(request: HttpRequest) -> HttpResponse:
    """Withdraw available commission through commission's flow (the promoters' page and form)."""
    if _leader(request) is None:
        return _not_leader(request)
    here = reverse("storefront:groupbuy:withdraw")
    return withdrawal_page(request, pickup.request_withdrawal, here, reverse("storefront:groupbuy:leader"))


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
