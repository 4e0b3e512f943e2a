"""Group activity: topics and replies, pinned announcements, product cards, 接龙 sign-up lists, polls.

The only writer of ``Topic``, ``Reply``, ``TopicLike``, ``SignupEntry``, ``PollOption`` and ``PollVote``.
Text goes through content's sanitiser and banned-word screen: a "reject" word refuses the text (nothing
written), a "flag" word holds it for the group's managers. Counters move by ``F()`` updates.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jishi.accounts.models import User
from jishi.content import text
from jishi.core.errors import Conflict, InvalidInput, NotFound
from jishi.core.sql import insert_once

from . import groups
from .models import (
    ModerationStatus,
    PollOption,
    PollVote,
    Reply,
    SignupEntry,
    Topic,
    TopicKind,
    TopicLike,
)

MANAGER_KINDS = {TopicKind.ANNOUNCEMENT, TopicKind.SIGNUP, TopicKind.POLL, TopicKind.QA}
MAX_SIGNUP_QUANTITY = 99
MAX_POLL_OPTIONS = 10


class SignupClosed(Conflict):
    code = "signup_closed"
    default_message = gettext_lazy("接龙已截止")


def _screen(*texts: str) -> tuple[str, list[str]]:
    """(status, flagged words) for ``texts``; a "reject" word raises with the words named."""
    verdict = text.screen(*texts)
    if verdict.rejected:
        raise InvalidInput(
            _("含违禁词：%(words)s") % {"words": "、".join(verdict.rejected)},
            code="banned_words",
            fields={"body": verdict.rejected},
        )
    return (ModerationStatus.PENDING if verdict.flagged else ModerationStatus.APPROVED), verdict.flagged


def _product(product_id: int | None) -> Any:
    if product_id is None:
        return None
    from jishi.catalog.models import Product, ProductStatus

    product = Product.objects.filter(pk=product_id, status=ProductStatus.PUBLISHED).first()
    if product is None:
        raise InvalidInput(fields={"product_id": [_("商品不存在或未上架")]})
    return product


def post_topic(
    user: User,
    group_id: int,
    *,
    kind: str = TopicKind.TOPIC,
    title: str,
    body: str = "",
    product_id: int | None = None,
    pinned: bool = False,
    options: list[str] | None = None,
    signup_deadline: datetime | None = None,
    now: datetime | None = None,
) -> Topic:
    """Post into a group. Announcements, sign-up lists and polls are the managers'; pinning too.

    Raises NotMember, RulesNotAcknowledged, Muted (403), InvalidInput (422: banned words, bad product/options).
    """
    now = now or timezone.now()
    groups.get_group(group_id)
    manager = kind in MANAGER_KINDS or pinned
    if manager:
        groups.require_manager(user, group_id)  # operators post as the shop, members need not be in it
    else:
        groups.require_poster(user.pk, group_id, now)
    title = title.strip()
    if not title:
        raise InvalidInput(fields={"title": [_("不能为空")]})
    if kind == TopicKind.SHARE and product_id is None:
        raise InvalidInput(fields={"product_id": [_("分享商品须选择商品")]})
    product = _product(product_id)
    clean_options = [o.strip() for o in options or [] if o.strip()]
    if kind == TopicKind.POLL and not 2 <= len(clean_options) <= MAX_POLL_OPTIONS:
        raise InvalidInput(fields={"options": [f"2..{MAX_POLL_OPTIONS}"]})
    body_html = text.render_body(body) if body.strip() else ""
    status, flagged = _screen(title, text.plain_text(body_html), *clean_options)
    if manager:
        status = ModerationStatus.APPROVED  # managers' own posts are not held for themselves
    with transaction.atomic():
        topic = Topic.objects.create(
            group_id=group_id,
            author=user,
            kind=kind,
            title=title[:80],
            body_html=body_html,
            product=product,
            pinned=pinned or kind == TopicKind.ANNOUNCEMENT,
            status=status,
            flagged_words=flagged,
            signup_deadline=signup_deadline if kind == TopicKind.SIGNUP else None,
        )
        if kind == TopicKind.POLL:
            PollOption.objects.bulk_create(
                PollOption(topic=topic, seq=i, text=o[:40]) for i, o in enumerate(clean_options)
            )
    return topic


def visible_topic(user: User, topic_id: int) -> Topic:
    """A topic its reader may see: approved ones to members; held ones to their author and managers."""
    topic = Topic.objects.select_related("author", "product").filter(pk=topic_id).first()
    if topic is None:
        raise NotFound(_("话题不存在"), code="topic_not_found")
    groups.active_membership(user.pk, topic.group_id)
    if topic.status != ModerationStatus.APPROVED and topic.author_id != user.pk:
        groups.require_manager(user, topic.group_id)
    return topic


def topics_of(user: User, group_id: int, kind: str = "", limit: int = 20, offset: int = 0) -> list[Topic]:
    groups.active_membership(user.pk, group_id)
    rows = Topic.objects.filter(group_id=group_id).filter(Q(status=ModerationStatus.APPROVED) | Q(author=user))
    if kind:
        rows = rows.filter(kind=kind)
    return list(
        rows.select_related("author", "product").order_by("-pinned", "-last_activity_at", "-id")[
            offset : offset + limit
        ]
    )


def reply(user: User, topic_id: int, body: str, now: datetime | None = None) -> Reply:
    now = now or timezone.now()
    topic = visible_topic(user, topic_id)
    if topic.status != ModerationStatus.APPROVED:
        raise Conflict(_("话题审核通过后才能回复"), code="topic_not_approved")
    groups.require_poster(user.pk, topic.group_id, now)
    body = body.strip()
    if not body:
        raise InvalidInput(fields={"body": [_("不能为空")]})
    status, flagged = _screen(body)
    answer = False
    if topic.kind == TopicKind.QA:
        from . import guests

        answer = guests.reply_is_answer(topic, user.pk, now)
        if answer:
            status = ModerationStatus.APPROVED  # the invited guest is not held for moderation
    with transaction.atomic():
        created = Reply.objects.create(
            topic=topic, author=user, body=body[:2000], status=status, flagged_words=flagged, highlighted=answer
        )
        if status == ModerationStatus.APPROVED:
            Topic.objects.filter(pk=topic.pk).update(reply_count=F("reply_count") + 1, last_activity_at=now)
    return created


def replies_of(user: User, topic_id: int, limit: int = 50, offset: int = 0) -> list[Reply]:
    topic = visible_topic(user, topic_id)
    rows = Reply.objects.filter(topic=topic).filter(Q(status=ModerationStatus.APPROVED) | Q(author=user))
    return list(rows.select_related("author").order_by("id")[offset : offset + limit])


def like(user: User, topic_id: int) -> bool:
    """Like a topic once (a second like changes nothing). Returns whether this call counted."""
    topic = visible_topic(user, topic_id)
    with transaction.atomic():
        counted = insert_once(TopicLike, {"topic": topic.pk, "user": user.pk}, conflict=["topic", "user"]) is not None
        if counted:
            Topic.objects.filter(pk=topic.pk).update(like_count=F("like_count") + 1)
    return counted


def moderate(actor: User, *, topic_id: int | None = None, reply_id: int | None = None, approve: bool) -> Any:
    """A manager approves or rejects a held topic or reply."""
    now = timezone.now()
    if topic_id is not None:
        topic = Topic.objects.filter(pk=topic_id).first()
        if topic is None:
            raise NotFound(_("话题不存在"), code="topic_not_found")
        groups.require_manager(actor, topic.group_id)
        status = ModerationStatus.APPROVED if approve else ModerationStatus.REJECTED
        Topic.objects.filter(pk=topic.pk).update(status=status)
        topic.refresh_from_db()
        return topic
    found = Reply.objects.select_related("topic").filter(pk=reply_id or 0).first()
    if found is None:
        raise NotFound(_("回复不存在"), code="reply_not_found")
    groups.require_manager(actor, found.topic.group_id)
    with transaction.atomic():
        if approve:
            if (
                Reply.objects.filter(pk=found.pk)
                .exclude(status=ModerationStatus.APPROVED)
                .update(status=ModerationStatus.APPROVED)
            ):
                Topic.objects.filter(pk=found.topic_id).update(reply_count=F("reply_count") + 1, last_activity_at=now)
        elif Reply.objects.filter(pk=found.pk, status=ModerationStatus.APPROVED).update(
            status=ModerationStatus.REJECTED
        ):
            Topic.objects.filter(pk=found.topic_id, reply_count__gt=0).update(reply_count=F("reply_count") - 1)
        else:
            Reply.objects.filter(pk=found.pk).update(status=ModerationStatus.REJECTED)
    found.refresh_from_db()
    return found


def pin(actor: User, topic_id: int, pinned: bool) -> Topic:
    topic = Topic.objects.filter(pk=topic_id).first()
    if topic is None:
        raise NotFound(_("话题不存在"), code="topic_not_found")
    groups.require_manager(actor, topic.group_id)
    Topic.objects.filter(pk=topic.pk).update(pinned=pinned)
    topic.refresh_from_db()
    return topic


# --- 接龙 sign-up lists -----------------------------------------------------------------------------


def _signup_topic(user: User, topic_id: int) -> Topic:
    topic = visible_topic(user, topic_id)
    if topic.kind != TopicKind.SIGNUP:
        raise InvalidInput(_("这不是接龙"), code="not_a_signup")
    return topic


def sign_up(user: User, topic_id: int, quantity: int, note: str = "", now: datetime | None = None) -> SignupEntry:
    """Join a 接龙 list with ``quantity`` (joining again sets the new quantity; the total follows)."""
    now = now or timezone.now()
    if not 1 <= quantity <= MAX_SIGNUP_QUANTITY:
        raise InvalidInput(fields={"quantity": [f"1..{MAX_SIGNUP_QUANTITY}"]})
    topic = _signup_topic(user, topic_id)
    groups.require_poster(user.pk, topic.group_id, now)
    if topic.signup_deadline and topic.signup_deadline <= now:
        raise SignupClosed()
    note = note.strip()[:60]
    if note:
        _screen(note)
    with transaction.atomic():
        created = insert_once(
            SignupEntry,
            {"topic": topic.pk, "user": user.pk, "quantity": quantity, "note": note},
            conflict=["topic", "user"],
        )
        if created is not None:
            Topic.objects.filter(pk=topic.pk).update(signup_total=F("signup_total") + quantity, last_activity_at=now)
            return SignupEntry.objects.get(pk=created)
        entry = SignupEntry.objects.select_for_update().get(topic=topic, user=user)
        delta = quantity - entry.quantity
        SignupEntry.objects.filter(pk=entry.pk).update(quantity=quantity, note=note)
        if delta:
            Topic.objects.filter(pk=topic.pk).update(signup_total=F("signup_total") + delta)
    entry.refresh_from_db()
    return entry


def withdraw_signup(user: User, topic_id: int) -> None:
    topic = _signup_topic(user, topic_id)
    with transaction.atomic():
        entry = SignupEntry.objects.select_for_update().filter(topic=topic, user=user).first()
        if entry is None:
            return
        entry.delete()
        Topic.objects.filter(pk=topic.pk).update(signup_total=F("signup_total") - entry.quantity)


def signups_of(user: User, topic_id: int) -> list[SignupEntry]:
    topic = _signup_topic(user, topic_id)
    return list(SignupEntry.objects.filter(topic=topic).select_related("user").order_by("created_at", "id"))


def signups_csv(actor: User, topic_id: int) -> str:
    """The list as CSV for the group's managers (序号, 昵称, 手机, 数量, 备注, 时间)."""
    topic = Topic.objects.filter(pk=topic_id, kind=TopicKind.SIGNUP).first()
    if topic is None:
        raise NotFound(_("接龙不存在"), code="topic_not_found")
    groups.require_manager(actor, topic.group_id)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("序号"), _("昵称"), _("手机号"), _("数量"), _("备注"), _("接龙时间")])
    rows = SignupEntry.objects.filter(topic=topic).select_related("user").order_by("created_at", "id")
    for n, entry in enumerate(rows, start=1):
        writer.writerow(
            [
                n,
                entry.user.nickname,
                entry.user.phone or "",
                entry.quantity,
                _csv_safe(entry.note),
                timezone.localtime(entry.created_at).strftime("%Y-%m-%d %H:%M"),
            ]
        )
    return out.getvalue()


def _csv_safe(value: str) -> str:
    """Spreadsheets run cells starting with = + - @ as formulas: quote them as text."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@") else value


# --- polls ---------------------------------------------------------------------------------------------


def vote(user: User, topic_id: int, option_seq: int) -> PollOption:
    """One vote per member per poll (the unique constraint decides a double click)."""
    topic = visible_topic(user, topic_id)
    if topic.kind != TopicKind.POLL:
        raise InvalidInput(_("这不是投票"), code="not_a_poll")
    groups.require_poster(user.pk, topic.group_id)
    option = PollOption.objects.filter(topic=topic, seq=option_seq).first()
    if option is None:
        raise InvalidInput(fields={"option": [_("选项不存在")]})
    with transaction.atomic():
        if (
            insert_once(PollVote, {"topic": topic.pk, "option": option.pk, "user": user.pk}, conflict=["topic", "user"])
            is None
        ):
            raise Conflict(_("你已经投过票"), code="already_voted")
        PollOption.objects.filter(pk=option.pk).update(votes=F("votes") + 1)
    option.refresh_from_db()
    return option


def poll_results(topic: Topic) -> list[PollOption]:
    return list(PollOption.objects.filter(topic=topic).order_by("seq"))


def my_vote(user_id: int, topic_id: int) -> int | None:
    return PollVote.objects.filter(topic_id=topic_id, user_id=user_id).values_list("option__seq", flat=True).first()
