"""Featured guests (大咖站台): an operator schedules a guest's Q&A in a group, announced in advance
through the inbox; members ask as replies until it ends, the guest's answers are highlighted and
shown pinned above the thread, and the session stays readable afterwards.

The only writer of ``GuestSession``; the Q&A topic and its replies are written through ``activity``.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jishi.accounts.models import Role as AccountRole
from jishi.accounts.models import User
from jishi.accounts.services import has_role
from jishi.core.errors import Conflict, Forbidden, InvalidInput, NotFound

from . import groups
from .models import GuestSession, Membership, MemberStatus, Reply, Topic, TopicKind


class SessionEnded(Conflict):
    code = "session_ended"
    default_message = gettext_lazy("问答已结束，可以继续浏览")


def schedule(
    actor: User,
    group_id: int,
    *,
    guest_id: int,
    guest_title: str,
    title: str,
    intro: str,
    starts_at: datetime,
    ends_at: datetime,
    now: datetime | None = None,
) -> GuestSession:
    """Schedule a session, put the guest in the group, and announce it to every member once."""
    from jishi.notify.services import notify_members

    from . import activity

    if not has_role(actor, AccountRole.OPERATOR):
        raise Forbidden()
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    if starts_at <= now:
        errors["starts_at"] = [_("须晚于现在")]
    if ends_at <= starts_at:
        errors["ends_at"] = [_("须晚于开始时间")]
    if not guest_title.strip():
        errors["guest_title"] = [_("不能为空")]
    guest = User.objects.filter(pk=guest_id, is_active=True).first()
    if guest is None:
        errors["guest_id"] = [_("用户不存在")]
    if errors:
        raise InvalidInput(fields=errors)
    assert guest is not None
    group = groups.get_group(group_id)
    with transaction.atomic():
        groups.admit_guest(group, guest.pk, now)
        topic = activity.post_topic(actor, group.pk, kind=TopicKind.QA, title=title, body=intro, pinned=True, now=now)
        session = GuestSession.objects.create(
            group=group,
            topic=topic,
            guest=guest,
            guest_title=guest_title.strip()[:60],
            starts_at=starts_at,
            ends_at=ends_at,
        )
        members = Membership.objects.filter(group=group, status=MemberStatus.ACTIVE).exclude(user=guest)
        when = timezone.localtime(starts_at).strftime("%m-%d %H:%M")
        sent = notify_members(
            members.values_list("user_id", flat=True),
            category="community",
            title=(_("大咖站台预告：%(title)s") % {"title": topic.title})[:100],
            body=_("%(guest)s（%(role)s）%(when)s 在「%(group)s」答疑，提前留下你的问题吧")
            % {"guest": guest, "role": session.guest_title, "when": when, "group": group.name},
            link=f"/community/topics/{topic.pk}/",
            key=f"community:guest:{session.pk}:announce",
        )
        GuestSession.objects.filter(pk=session.pk).update(announced_count=sent)
    session.refresh_from_db()
    return session


def reply_is_answer(topic: Topic, user_id: int, now: datetime) -> bool:
    """For a reply to a Q&A topic: is it the guest's answer (highlighted)? Raises SessionEnded for
    questions after the end; the guest answers from the start on, and may follow up afterwards."""
    session = GuestSession.objects.filter(topic=topic).first()
    if session is None:
        return False
    if user_id == session.guest_id:
        if now < session.starts_at:
            raise Conflict(_("问答还没开始"), code="session_not_started")
        return True
    if now >= session.ends_at:
        raise SessionEnded()
    return False


def answers_of(topic: Topic) -> list[Reply]:
    return list(Reply.objects.filter(topic=topic, highlighted=True).select_related("author").order_by("id"))


def sessions_of(group_id: int) -> list[GuestSession]:
    return list(GuestSession.objects.filter(group_id=group_id).select_related("topic", "guest").order_by("-starts_at"))


def get_session(session_id: int) -> GuestSession:
    session = GuestSession.objects.select_related("topic", "guest").filter(pk=session_id).first()
    if session is None:
        raise NotFound(_("问答不存在"), code="guest_session_not_found")
    return session
