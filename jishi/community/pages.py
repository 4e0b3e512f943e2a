"""Storefront community pages: group list and detail, invite landing, rules acknowledgement, topics,
red packets with the claim animation, 接龙 lists (and their CSV for managers), the weekly core-fan
ranking and the group's members-only coupons.

Thin like the API: reads through community's modules, writes only by calling them; domain errors
become a flash message on the page the buyer came from.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_
from django.views.decorators.http import require_GET, require_POST

from jishi.accounts.models import User
from jishi.core.errors import DomainError
from jishi.core.money import format_yuan

from . import activity, conf, fans, groups, offers, red_packets
from .models import Membership, MemberStatus, PacketStatus, Role, TopicKind

TOPICS_ON_PAGE = 20
FANS_ON_GROUP_PAGE = 3


def _buyer(request: HttpRequest) -> User:
    return cast(User, request.user)


def _detail_url(group_id: int) -> str:
    return reverse("community_pages:group", args=[group_id])


def refusals(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A GET page whose read is refused (not found, not a member) shows the problem page with its 4xx."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except DomainError as exc:
            context = {
                "message": str(exc.message),
                "back": reverse("community_pages:groups"),
                "back_label": _("去社群列表"),
            }
            return render(request, "storefront/problem.html", context, status=exc.status)

    return wrapped


def _attempt(request: HttpRequest, back: str, action: Callable[[], Any], done: str = "") -> HttpResponseRedirect:
    """Run a write; a domain error becomes a message on ``back``."""
    try:
        action()
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        if done:
            messages.success(request, done)
    return HttpResponseRedirect(back)


@require_GET
def group_list(request: HttpRequest) -> HttpResponse:
    rows, _total = groups.group_list(limit=50)
    mine: dict[int, str] = {}
    if request.user.is_authenticated:
        mine = {m.group_id: m.status for m in groups.groups_of(request.user.pk)}
    for g in rows:
        g.my_status = mine.get(g.pk, "")  # type: ignore[attr-defined]
    context = {"tab": "me", "title": _("社群"), "groups": rows, "back": reverse("storefront:me")}
    return render(request, "community/groups.html", context)


@login_required
@require_GET
@refusals
def group_detail(request: HttpRequest, group_id: int) -> HttpResponse:
    user = _buyer(request)
    group = groups.get_group(group_id)
    me = Membership.objects.filter(group=group, user=user).first()
    active = me is not None and me.status == MemberStatus.ACTIVE
    context: dict[str, Any] = {
        "tab": "me",
        "title": group.name,
        "back": reverse("community_pages:groups"),
        "group": group,
        "me": me,
        "active": active,
        "needs_ack": active and me is not None and me.rules_version_acked < group.rules_version,
        "manager": active and me is not None and me.role in (Role.OWNER, Role.ADMIN),
    }
    if active:
        topics = activity.topics_of(user, group.pk, limit=TOPICS_ON_PAGE)
        packets = red_packets.packets_in(group.pk, limit=5)
        context.update(
            topics=topics,
            pinned=[t for t in topics if t.pinned],
            packets=packets,
            my_shares=red_packets.my_shares(user.pk, [p.pk for p in packets]),
            invite_url=request.build_absolute_uri(groups.invite_path(me)) if me else "",
            kinds=[(k.value, k.label) for k in TopicKind if k in (TopicKind.TOPIC, TopicKind.SHARE)],
            top_fans=fans.weekly_ranking(group.pk, limit=FANS_ON_GROUP_PAGE),
            coupons=_group_coupons(user, group.pk),
        )
    return render(request, "community/group.html", context)


def _group_coupons(user: User, group_id: int) -> list[dict[str, Any]]:
    """The group's coupons with what this member may still do with each."""
    from jishi.marketing import coupons
    from jishi.marketing.models import Coupon

    templates = offers.coupons_of(group_id)
    held = set(Coupon.objects.filter(user=user, template__in=templates).values_list("template_id", flat=True))
    return [
        {
            "template": t,
            "rule": coupons.describe(t),
            "held": t.pk in held,
            "sold_out": t.issued >= t.total_quantity,
        }
        for t in templates
    ]


@login_required
@require_GET
@refusals
def invite_poster(request: HttpRequest, group_id: int) -> HttpResponse:
    """The member's own invite poster (PNG): scanning it is opening their invite link."""
    from .poster import invite_poster as render_poster

    user = _buyer(request)
    group = groups.get_group(group_id)
    membership = groups.active_membership(user.pk, group.pk)
    url = request.build_absolute_uri(groups.invite_path(membership))
    png = render_poster(group, user.nickname or "", url)
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "private, max-age=300"
    return response


@login_required
@require_POST
def claim_coupon(request: HttpRequest, group_id: int, template_id: int) -> HttpResponseRedirect:
    from jishi.marketing import coupons

    groups.get_group(group_id)
    return _attempt(
        request,
        _detail_url(group_id),
        lambda: coupons.claim(_buyer(request), template_id),
        _("已领取，下单时自动使用"),
    )


# The parts of a fan's score as the ranking page names them, with their weights.
SCORE_PARTS: list[tuple[str, str, int]] = [
    ("topics", N_("话题"), conf.SCORE_TOPIC),
    ("replies", N_("回复"), conf.SCORE_REPLY),
    ("likes", N_("获赞"), conf.SCORE_LIKE_RECEIVED),
    ("red_packets", N_("红包"), conf.SCORE_RED_PACKET),
    ("orders", N_("带货"), conf.SCORE_SHARED_ORDER),
    ("invitations", N_("邀请"), conf.SCORE_INVITATION),
]


def _week_asked(request: HttpRequest) -> date:
    this_week = fans.week_of(timezone.localdate())
    try:
        asked = fans.week_of(date.fromisoformat(request.GET.get("week") or ""))
    except ValueError:
        return this_week
    return min(asked, this_week)


@login_required
@require_GET
@refusals
def ranking(request: HttpRequest, group_id: int) -> HttpResponse:
    """The week's core-fan ranking (核心粉丝榜) with badges, members only; ``?week=`` any day of a past week."""
    user = _buyer(request)
    group = groups.get_group(group_id)
    groups.active_membership(user.pk, group.pk)
    week = _week_asked(request)
    board = fans.weekly_ranking(group.pk, week)
    labels = [(key, _(label), weight) for key, label, weight in SCORE_PARTS]
    rows = [
        {
            "fan": fan,
            "parts": [(label, fan.parts[key]) for key, label, _w in labels if fan.parts.get(key)],
            "me": fan.user_id == user.pk,
        }
        for fan in board
    ]
    podium = rows[:3]
    this_week = fans.week_of(timezone.localdate())
    context = {
        "tab": "me",
        "title": _("核心粉丝榜"),
        "back": _detail_url(group.pk),
        "group": group,
        "week": week,
        "week_end": week + timedelta(days=6),
        "this_week": week == this_week,
        "prev_week": week - timedelta(days=7),
        "next_week": week + timedelta(days=7) if week < this_week else None,
        # Second, first, third: the podium's usual order, first in the middle.
        "podium": [podium[i] for i in (1, 0, 2) if i < len(podium)],
        "rest": rows[3:],
        "mine": next((r for r in rows if r["me"]), None),
        "weights": [(label, weight) for _k, label, weight in labels],
    }
    return render(request, "community/ranking.html", context)


@require_GET
@refusals
def invite_landing(request: HttpRequest, code: str) -> HttpResponse:
    inviter = groups.membership_by_invite(code)
    context = {
        "tab": "me",
        "title": _("邀请你加入社群"),
        "back": reverse("community_pages:groups"),
        "group": inviter.group,
        "inviter": inviter.user,
        "code": inviter.invite_code,
    }
    return render(request, "community/invite.html", context)


@login_required
@require_POST
@refusals
def join_by_invite(request: HttpRequest, code: str) -> HttpResponseRedirect:
    inviter = groups.membership_by_invite(code)
    return _attempt(request, _detail_url(inviter.group_id), lambda: groups.join_by_invite(_buyer(request), code))


@login_required
@require_POST
def join(request: HttpRequest, group_id: int) -> HttpResponseRedirect:
    return _attempt(request, _detail_url(group_id), lambda: groups.join(_buyer(request), group_id))


@login_required
@require_POST
def ack_rules(request: HttpRequest, group_id: int) -> HttpResponseRedirect:
    return _attempt(
        request, _detail_url(group_id), lambda: groups.ack_rules(_buyer(request), group_id), _("已确认群规，欢迎入群")
    )


@login_required
@require_POST
def leave(request: HttpRequest, group_id: int) -> HttpResponseRedirect:
    return _attempt(request, reverse("community_pages:groups"), lambda: groups.leave(_buyer(request), group_id))


@login_required
@require_POST
def post_topic(request: HttpRequest, group_id: int) -> HttpResponseRedirect:
    kind = request.POST.get("kind") or TopicKind.TOPIC
    if kind not in (TopicKind.TOPIC, TopicKind.SHARE):
        kind = TopicKind.TOPIC
    product = request.POST.get("product_id", "")
    return _attempt(
        request,
        _detail_url(group_id),
        lambda: activity.post_topic(
            _buyer(request),
            group_id,
            kind=kind,
            title=request.POST.get("title", "")[:80],
            body=request.POST.get("body", "")[:20_000],
            product_id=int(product) if product.isdigit() and len(product) < 19 else None,
        ),
        _("已发布"),
    )


@login_required
@require_GET
@refusals
def topic_detail(request: HttpRequest, topic_id: int) -> HttpResponse:
    user = _buyer(request)
    topic = activity.visible_topic(user, topic_id)
    signups = activity.signups_of(user, topic.pk) if topic.kind == TopicKind.SIGNUP else []
    context = {
        "tab": "me",
        "title": topic.title,
        "back": _detail_url(topic.group_id),
        "topic": topic,
        "replies": activity.replies_of(user, topic.pk),
        "signups": signups,
        "my_signup": next((s for s in signups if s.user_id == user.pk), None),
        "options": activity.poll_results(topic) if topic.kind == TopicKind.POLL else [],
        "my_vote": activity.my_vote(user.pk, topic.pk),
        "manager": groups.can_manage(user, topic.group_id),
    }
    return render(request, "community/topic.html", context)


def _topic_url(topic_id: int) -> str:
    return reverse("community_pages:topic", args=[topic_id])


@login_required
@require_POST
def reply(request: HttpRequest, topic_id: int) -> HttpResponseRedirect:
    body = request.POST.get("body", "")[:2000]
    return _attempt(request, _topic_url(topic_id), lambda: activity.reply(_buyer(request), topic_id, body))


@login_required
@require_POST
def sign_up(request: HttpRequest, topic_id: int) -> HttpResponseRedirect:
    raw = request.POST.get("quantity", "")
    quantity = int(raw) if raw.isdigit() and len(raw) < 4 else 0
    note = request.POST.get("note", "")[:60]
    return _attempt(
        request, _topic_url(topic_id), lambda: activity.sign_up(_buyer(request), topic_id, quantity, note), _("已接龙")
    )


@login_required
@require_POST
def vote(request: HttpRequest, topic_id: int) -> HttpResponseRedirect:
    raw = request.POST.get("option", "")
    seq = int(raw) if raw.isdigit() and len(raw) < 3 else -1
    return _attempt(request, _topic_url(topic_id), lambda: activity.vote(_buyer(request), topic_id, seq))


@login_required
@require_GET
@refusals
def signups_csv(request: HttpRequest, topic_id: int) -> HttpResponse:
    body = activity.signups_csv(_buyer(request), topic_id)
    response = HttpResponse("\ufeff" + body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="signup-{topic_id}.csv"'
    return response


@login_required
@require_POST
@refusals
def claim(request: HttpRequest, packet_id: int) -> HttpResponseRedirect:
    packet = red_packets.get_packet(packet_id)
    back = reverse("community_pages:red_packet", args=[packet_id])
    try:
        share = red_packets.claim(_buyer(request), packet_id)
    except DomainError as exc:
        messages.error(request, str(exc.message))
        member = groups.is_member(_buyer(request).pk, packet.group_id)
        return HttpResponseRedirect(back if member else _detail_url(packet.group_id))
    return HttpResponseRedirect(f"{back}?opened={share.amount}")


@login_required
@require_GET
@refusals
def red_packet(request: HttpRequest, packet_id: int) -> HttpResponse:
    user = _buyer(request)
    packet = red_packets.get_packet(packet_id)
    groups.active_membership(user.pk, packet.group_id)
    mine = red_packets.my_shares(user.pk, [packet.pk]).get(packet.pk)
    context = {
        "tab": "me",
        "title": _("群红包"),
        "back": _detail_url(packet.group_id),
        "packet": packet,
        "mine": mine,
        "mine_yuan": format_yuan(mine) if mine is not None else "",
        "just_opened": request.GET.get("opened") is not None and mine is not None,
        "claims": red_packets.claims_of(packet),
        "claimable": mine is None and packet.status == PacketStatus.ACTIVE,
    }
    return render(request, "community/red_packet.html", context)
