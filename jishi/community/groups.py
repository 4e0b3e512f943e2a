"""Groups and membership: creating groups, joining (open, invite link, approval, level, buyers), rules, roles.

The only writer of ``Group``, ``Membership``, ``RulesAcknowledgement`` and ``Invitation``. The member
count moves by conditional updates against the capacity, so a full group never takes one more.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jishi.accounts.models import Role as AccountRole
from jishi.accounts.models import User
from jishi.accounts.services import has_role
from jishi.core import audit
from jishi.core.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from jishi.core.sql import insert_once

from . import conf
from .models import Group, Invitation, JoinMode, Membership, MemberStatus, Role, RulesAcknowledgement

PAID_STATUSES = ("paid", "shipped", "completed")


class GroupFull(Conflict):
    code = "group_full"
    default_message = gettext_lazy("群已满员")


class NotMember(Forbidden):
    code = "not_member"
    default_message = gettext_lazy("你还不是本群成员")


class RulesNotAcknowledged(Forbidden):
    code = "rules_not_acknowledged"
    default_message = gettext_lazy("请先阅读并确认群规")


class Muted(Forbidden):
    code = "muted"
    default_message = gettext_lazy("你已被禁言")


def _new_code() -> str:
    return secrets.token_hex(5).upper()


def get_group(group_id: int, *, active_only: bool = True) -> Group:
    rows = Group.objects.filter(pk=group_id)
    if active_only:
        rows = rows.filter(is_active=True)
    group = rows.select_related("required_level", "required_product").first()
    if group is None:
        raise NotFound(_("社群不存在"), code="group_not_found")
    return group


def _clean(data: dict[str, Any], partial: bool = False) -> dict[str, Any]:
    clean = {k: v for k, v in data.items() if v is not None}
    errors: dict[str, list[str]] = {}
    for name in ("name", "theme", "rules"):
        if name in clean:
            clean[name] = str(clean[name]).strip()
            if not clean[name]:
                errors[name] = [_("不能为空")]
        elif not partial:
            errors[name] = [_("必填")]
    mode = clean.get("join_mode")
    if mode == JoinMode.LEVEL and not clean.get("required_level_id"):
        errors["required_level_id"] = [_("按等级加入须指定等级")]
    if mode == JoinMode.BUYERS and not clean.get("required_product_id"):
        errors["required_product_id"] = [_("按购买加入须指定商品")]
    capacity = clean.get("capacity")
    if capacity is not None and not 1 <= capacity <= conf.GROUP_MAX_CAPACITY:
        errors["capacity"] = [f"1..{conf.GROUP_MAX_CAPACITY}"]
    if errors:
        raise InvalidInput(fields=errors)
    return clean


def _check_references(clean: dict[str, Any]) -> None:
    from jishi.catalog.models import Product
    from jishi.loyalty.models import MemberLevel

    level_id = clean.get("required_level_id")
    if level_id and not MemberLevel.objects.filter(pk=level_id).exists():
        raise InvalidInput(fields={"required_level_id": [_("等级不存在")]})
    product_id = clean.get("required_product_id")
    if product_id and not Product.objects.filter(pk=product_id).exists():
        raise InvalidInput(fields={"required_product_id": [_("商品不存在")]})


def create_group(actor: User, data: dict[str, Any]) -> Group:
    """An operator opens a group; ``owner_id`` (a buyer) becomes its owner member."""
    clean = _clean(data)
    _check_references(clean)
    owner_id = clean.pop("owner_id", None)
    if owner_id and not User.objects.filter(pk=owner_id, is_active=True).exists():
        raise InvalidInput(fields={"owner_id": [_("用户不存在")]})
    clean.setdefault("capacity", conf.GROUP_DEFAULT_CAPACITY)
    with transaction.atomic():
        group = Group.objects.create(owner_id=owner_id, **clean)
        if owner_id:
            _admit(group, owner_id, role=Role.OWNER, now=timezone.now())
        audit.record(actor, "community.group.create", f"community_group:{group.pk}", name=group.name)
    group.refresh_from_db()
    return group


def update_group(actor: User, group_id: int, data: dict[str, Any]) -> Group:
    """Edit a group; changed rules get a new version that every member must acknowledge again."""
    group = get_group(group_id, active_only=False)
    clean = _clean(data, partial=True)
    _check_references(clean)
    merged_mode = clean.get("join_mode", group.join_mode)
    if merged_mode == JoinMode.LEVEL and not clean.get("required_level_id", group.required_level_id):
        raise InvalidInput(fields={"required_level_id": [_("按等级加入须指定等级")]})
    if merged_mode == JoinMode.BUYERS and not clean.get("required_product_id", group.required_product_id):
        raise InvalidInput(fields={"required_product_id": [_("按购买加入须指定商品")]})
    with transaction.atomic():
        locked = Group.objects.select_for_update().get(pk=group.pk)
        if "capacity" in clean and clean["capacity"] < locked.member_count:
            raise InvalidInput(fields={"capacity": [_("不能少于现有成员数 %(n)s") % {"n": locked.member_count}]})
        rules_changed = "rules" in clean and clean["rules"] != locked.rules
        for name, value in clean.items():
            setattr(locked, name, value)
        if rules_changed:
            locked.rules_version = F("rules_version") + 1
        locked.save()
        audit.record(actor, "community.group.update", f"community_group:{group.pk}", fields=sorted(clean))
    locked.refresh_from_db()
    return locked


# --- joining ---------------------------------------------------------------------------------


def _take_seat(group_id: int) -> None:
    if not Group.objects.filter(pk=group_id, member_count__lt=F("capacity")).update(member_count=F("member_count") + 1):
        raise GroupFull()


def _free_seat(group_id: int) -> None:
    Group.objects.filter(pk=group_id, member_count__gt=0).update(member_count=F("member_count") - 1)


def _admit(
    group: Group,
    user_id: int,
    *,
    role: str = Role.MEMBER,
    now: datetime,
    invited_by: int | None = None,
    pending: bool = False,
) -> Membership:
    """Insert or revive the membership row and take a seat (inside the caller's transaction)."""
    status = MemberStatus.PENDING if pending else MemberStatus.ACTIVE
    created = insert_once(
        Membership,
        {
            "group": group.pk,
            "user": user_id,
            "role": role,
            "status": status,
            "invite_code": _new_code(),
            "invited_by": invited_by,
            "joined_at": None if pending else now,
            "last_active_at": None if pending else now,
        },
        conflict=["group", "user"],
    )
    if created is not None:
        if not pending:
            _take_seat(group.pk)
        return Membership.objects.get(pk=created)
    membership = Membership.objects.get(group=group, user_id=user_id)
    if membership.status in (MemberStatus.ACTIVE, MemberStatus.PENDING):
        return membership  # a replayed join changes nothing
    if membership.status == MemberStatus.REMOVED:
        raise Forbidden(_("你已被移出本群"), code="removed_from_group")
    # left or rejected before: coming back (by a conditional update, so two tabs revive it once)
    if Membership.objects.filter(pk=membership.pk, status=membership.status).update(
        status=status, joined_at=None if pending else now, left_at=None, role=Role.MEMBER
    ):
        if not pending:
            _take_seat(group.pk)
    membership.refresh_from_db()
    return membership


def _eligible(group: Group, user: User) -> None:
    """Level- and purchase-gated groups: raise Forbidden unless ``user`` qualifies."""
    if group.join_mode == JoinMode.LEVEL and group.required_level is not None:
        from jishi.loyalty.levels import current_level

        level = current_level(user.pk)
        if level is None or level.threshold < group.required_level.threshold:
            raise Forbidden(
                _("本群仅限 %(level)s 及以上会员") % {"level": group.required_level.name}, code="level_required"
            )
    if group.join_mode == JoinMode.BUYERS and group.required_product_id:
        from jishi.orders.models import OrderLine

        bought = OrderLine.objects.filter(
            order__user=user, order__status__in=PAID_STATUSES, product_id=group.required_product_id
        ).exists()
        if not bought:
            raise Forbidden(_("本群仅限购买过指定商品的买家"), code="purchase_required")


def join(user: User, group_id: int, now: datetime | None = None) -> Membership:
    """Join a group directly: open, level and buyer groups admit at once; approval groups queue the request.

    Raises Forbidden (invite-only, not eligible, removed), GroupFull.
    """
    now = now or timezone.now()
    group = get_group(group_id)
    if group.join_mode == JoinMode.INVITE:
        raise Forbidden(_("本群仅限邀请加入"), code="invite_required")
    _eligible(group, user)
    with transaction.atomic():
        return _admit(group, user.pk, now=now, pending=group.join_mode == JoinMode.APPROVAL)


def membership_by_invite(code: str) -> Membership:
    inviter = (
        Membership.objects.select_related("group", "user")
        .filter(invite_code=code.strip().upper(), status=MemberStatus.ACTIVE, group__is_active=True)
        .first()
    )
    if inviter is None:
        raise NotFound(_("邀请链接无效"), code="invalid_invite")
    return inviter


def join_by_invite(user: User, code: str, now: datetime | None = None) -> Membership:
    """Join through a member's invite link: admitted even to invite-only groups, the inviter credited.

    With distribution on and the inviter an active promoter, the newcomer is bound to them as a
    share-link binding would (distribution's rules decide whether an existing binding changes).
    Approval groups still queue the request; level and buyer gates still apply.
    """
    now = now or timezone.now()
    inviter = membership_by_invite(code)
    group = get_group(inviter.group_id)
    if inviter.user_id == user.pk:
        raise InvalidInput(_("不能使用自己的邀请链接"), code="own_invite")
    _eligible(group, user)
    with transaction.atomic():
        before = Membership.objects.filter(group=group, user=user).values_list("status", flat=True).first()
        membership = _admit(
            group, user.pk, now=now, invited_by=inviter.user_id, pending=group.join_mode == JoinMode.APPROVAL
        )
        if before is None:
            insert_once(
                Invitation,
                {"group": group.pk, "inviter": inviter.user_id, "invitee": user.pk},
                conflict=["group", "invitee"],
            )
    _bind_to_inviter(user, inviter.user_id, now)
    return membership


def _bind_to_inviter(user: User, inviter_id: int, now: datetime) -> None:
    from jishi.distribution import services as distribution
    from jishi.distribution.models import BindingSource, Promoter, PromoterStatus

    if not distribution.get_settings().enabled:
        return
    code = Promoter.objects.filter(user_id=inviter_id, status=PromoterStatus.ACTIVE).values_list("code", flat=True)
    promoter_code = code.first()
    if promoter_code is None:
        return
    try:
        with transaction.atomic():
            distribution.bind(user, promoter_code, source=BindingSource.LINK, now=now)
    except DomainError:
        pass  # a cycle or self-binding is distribution's "no": the join itself stands


def admit_guest(group: Group, user_id: int, now: datetime) -> Membership:
    """A featured guest joins the group the operator invited them to, rules taken as read."""
    membership = _admit(group, user_id, now=now)
    Membership.objects.filter(pk=membership.pk).update(rules_version_acked=group.rules_version, rules_acked_at=now)
    membership.refresh_from_db()
    return membership


def ack_rules(user: User, group_id: int) -> Membership:
    """Record that ``user`` read the group's current rules (needed before posting)."""
    group = get_group(group_id)
    membership = active_membership(user.pk, group.pk)
    with transaction.atomic():
        insert_once(
            RulesAcknowledgement,
            {"group": group.pk, "user": user.pk, "version": group.rules_version, "rules": group.rules},
            conflict=["group", "user", "version"],
        )
        now = timezone.now()
        Membership.objects.filter(pk=membership.pk, rules_version_acked__lt=group.rules_version).update(
            rules_version_acked=group.rules_version, rules_acked_at=now
        )
    membership.refresh_from_db()
    return membership


def leave(user: User, group_id: int, now: datetime | None = None) -> Membership:
    membership = active_membership(user.pk, group_id)
    if membership.role == Role.OWNER:
        raise Conflict(_("群主不能退群，请先转让群主"), code="owner_cannot_leave")
    with transaction.atomic():
        if Membership.objects.filter(pk=membership.pk, status=MemberStatus.ACTIVE).update(
            status=MemberStatus.LEFT, left_at=now or timezone.now()
        ):
            _free_seat(group_id)
    membership.refresh_from_db()
    return membership


# --- management (operators, the group's owner and admins) ----------------------------------------


def active_membership(user_id: int, group_id: int) -> Membership:
    membership = Membership.objects.filter(group_id=group_id, user_id=user_id, status=MemberStatus.ACTIVE).first()
    if membership is None:
        raise NotMember()
    return membership


def is_member(user_id: int, group_id: int) -> bool:
    return Membership.objects.filter(group_id=group_id, user_id=user_id, status=MemberStatus.ACTIVE).exists()


def require_manager(actor: User, group_id: int) -> bool:
    """Operators manage every group; a member manages theirs as owner or admin. Returns is_operator."""
    if has_role(actor, AccountRole.OPERATOR):
        return True
    mine = Membership.objects.filter(
        group_id=group_id, user=actor, status=MemberStatus.ACTIVE, role__in=(Role.OWNER, Role.ADMIN)
    ).exists()
    if not mine:
        raise Forbidden(_("只有群主、管理员或运营可以管理本群"), code="not_group_manager")
    return False


def can_manage(user: User, group_id: int) -> bool:
    try:
        require_manager(user, group_id)
    except Forbidden:
        return False
    return True


def _target(group_id: int, user_id: int) -> Membership:
    target = Membership.objects.filter(group_id=group_id, user_id=user_id).first()
    if target is None:
        raise NotFound(_("成员不存在"), code="member_not_found")
    return target


def _protect_owner(actor: User, target: Membership, operator: bool) -> None:
    """Operators manage anyone; the owner manages admins and members; admins manage members only."""
    if target.user_id == actor.pk:
        raise InvalidInput(_("不能对自己操作"), code="self_management")
    if operator or target.role == Role.MEMBER:
        return
    actor_is_owner = Membership.objects.filter(group_id=target.group_id, user=actor, role=Role.OWNER).exists()
    if not (actor_is_owner and target.role == Role.ADMIN):
        raise Forbidden(_("不能管理群主或其他管理员"), code="cannot_manage_peer")


def review_request(actor: User, group_id: int, user_id: int, approve: bool) -> Membership:
    """Approve (takes a seat) or reject a pending join request."""
    require_manager(actor, group_id)
    target = _target(group_id, user_id)
    if target.status != MemberStatus.PENDING:
        raise Conflict(_("该申请已处理"), code="request_not_pending")
    now = timezone.now()
    with transaction.atomic():
        if approve:
            changed = Membership.objects.filter(pk=target.pk, status=MemberStatus.PENDING).update(
                status=MemberStatus.ACTIVE, joined_at=now, last_active_at=now
            )
            if changed:
                _take_seat(group_id)
        else:
            Membership.objects.filter(pk=target.pk, status=MemberStatus.PENDING).update(status=MemberStatus.REJECTED)
        audit.record(actor, "community.member.review", f"community_group:{group_id}", user=user_id, approve=approve)
    target.refresh_from_db()
    return target


def mute(actor: User, group_id: int, user_id: int, minutes: int) -> Membership:
    """Mute a member for ``minutes`` (0 lifts it)."""
    operator = require_manager(actor, group_id)
    if not 0 <= minutes <= conf.MUTE_MAX_MINUTES:
        raise InvalidInput(fields={"minutes": [f"0..{conf.MUTE_MAX_MINUTES}"]})
    target = _target(group_id, user_id)
    _protect_owner(actor, target, operator)
    until = timezone.now() + timedelta(minutes=minutes) if minutes else None
    Membership.objects.filter(pk=target.pk).update(muted_until=until)
    audit.record(actor, "community.member.mute", f"community_group:{group_id}", user=user_id, minutes=minutes)
    target.refresh_from_db()
    return target


def remove(actor: User, group_id: int, user_id: int) -> Membership:
    """Remove a member (they cannot rejoin by themselves)."""
    operator = require_manager(actor, group_id)
    target = _target(group_id, user_id)
    _protect_owner(actor, target, operator)
    with transaction.atomic():
        was_active = Membership.objects.filter(
            pk=target.pk, status__in=(MemberStatus.ACTIVE, MemberStatus.PENDING)
        ).values_list("status", flat=True)
        status = was_active.first()
        if status is not None and Membership.objects.filter(pk=target.pk, status=status).update(
            status=MemberStatus.REMOVED, left_at=timezone.now()
        ):
            if status == MemberStatus.ACTIVE:
                _free_seat(group_id)
        audit.record(actor, "community.member.remove", f"community_group:{group_id}", user=user_id)
    target.refresh_from_db()
    return target


def set_role(actor: User, group_id: int, user_id: int, role: str) -> Membership:
    """Operators name admins (or a new owner: the old owner becomes an admin)."""
    if not has_role(actor, AccountRole.OPERATOR):
        raise Forbidden()
    if role not in Role.values:
        raise InvalidInput(fields={"role": [str(r) for r in Role.values]})
    target = _target(group_id, user_id)
    if target.status != MemberStatus.ACTIVE:
        raise Conflict(_("只能给在群成员设置角色"), code="member_not_active")
    with transaction.atomic():
        if role == Role.OWNER:
            Membership.objects.filter(group_id=group_id, role=Role.OWNER).exclude(pk=target.pk).update(role=Role.ADMIN)
            Group.objects.filter(pk=group_id).update(owner_id=user_id)
        Membership.objects.filter(pk=target.pk).update(role=role)
        audit.record(actor, "community.member.role", f"community_group:{group_id}", user=user_id, role=role)
    target.refresh_from_db()
    return target


def set_digest_opt_out(user: User, group_id: int, opt_out: bool) -> Membership:
    membership = active_membership(user.pk, group_id)
    Membership.objects.filter(pk=membership.pk).update(digest_opt_out=opt_out)
    membership.refresh_from_db()
    return membership


def require_poster(user_id: int, group_id: int, now: datetime | None = None) -> Membership:
    """The member who may post now: in the group, rules acknowledged, not muted. Marks them active."""
    membership = active_membership(user_id, group_id)
    group_version = Group.objects.filter(pk=group_id).values_list("rules_version", flat=True).get()
    if membership.rules_version_acked < group_version:
        raise RulesNotAcknowledged()
    now = now or timezone.now()
    if membership.muted_until and membership.muted_until > now:
        raise Muted(fields={"muted_until": [membership.muted_until.isoformat()]})
    touch(membership.pk, now)
    return membership


def touch(membership_id: int, now: datetime) -> None:
    """Mark a member active (the daily digest skips members active since the last one)."""
    Membership.objects.filter(pk=membership_id).filter(
        Q(last_active_at__isnull=True) | Q(last_active_at__lt=now)
    ).update(last_active_at=now)


def groups_of(user_id: int) -> list[Membership]:
    return list(
        Membership.objects.filter(user_id=user_id, status__in=(MemberStatus.ACTIVE, MemberStatus.PENDING))
        .select_related("group")
        .order_by("-joined_at", "-id")
    )


def group_list(limit: int = 50, offset: int = 0) -> tuple[list[Group], int]:
    rows = Group.objects.filter(is_active=True)
    return list(rows.order_by("-member_count", "id")[offset : offset + limit]), rows.count()


def members_of(group_id: int, status: str = MemberStatus.ACTIVE, limit: int = 50, offset: int = 0) -> list[Membership]:
    return list(
        Membership.objects.filter(group_id=group_id, status=status)
        .select_related("user")
        .order_by("joined_at", "id")[offset : offset + limit]
    )


def invite_path(membership: Membership) -> str:
    return f"/community/join/{membership.invite_code}"
