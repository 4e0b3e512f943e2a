"""拼团: campaigns, groups opened and joined by paying, completion, expiry refunds, leader bonus.

A seat is taken by a conditional update when the buyer places the order; the membership
becomes real when the order is paid (``order.paid``) and the seat goes back if the order
closes unpaid. A group completes when its paid members fill it; an open group past its
deadline completes if the campaign allows it at X% full, otherwise every paid member is
refunded through ``orders.services.refund_whole_order``.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jishi.accounts.models import User
from jishi.core import audit, events, ledger
from jishi.core.errors import Conflict, InvalidInput, NotFound
from jishi.core.models import AccountKind
from jishi.orders import services as orders
from jishi.orders.models import Order, OrderStatus
from jishi.orders.pipeline import Checkout

from .conf import mkt_setting
from .flash import default_address_id
from .models import Group, GroupBuyCampaign, GroupMember, GroupStatus, MemberStatus
from .steps import Activity, register_committer

log = logging.getLogger(__name__)


def live_campaign(campaign_id: int, now: datetime) -> GroupBuyCampaign:
    campaign = GroupBuyCampaign.objects.select_related("sku").filter(pk=campaign_id, is_active=True).first()
    if campaign is None:
        raise NotFound(code="group_campaign_not_found")
    if not campaign.starts_at <= now < campaign.ends_at:
        raise Conflict(_("拼团活动未在进行中"), code="group_campaign_not_running")
    return campaign


def required_members(campaign: GroupBuyCampaign, size: int) -> int:
    """Paid members that complete a group at its deadline (the full size unless X% is allowed)."""
    if not campaign.complete_percent:
        return size
    return max(1, -(-size * campaign.complete_percent // 100))


def _activity(campaign: GroupBuyCampaign, group: Group, quantity: int, leader: bool) -> Activity:
    return Activity(
        kind="group",
        campaign_id=campaign.pk,
        sku_id=campaign.sku_id,
        quantity=quantity,
        unit_price=campaign.group_price,
        commission=campaign.commission,
        points=campaign.points,
        pay_minutes=mkt_setting("GROUP_PAY_MINUTES"),
        ref={"group_id": group.pk, "leader": leader},
    )


def open_group(
    user: User,
    campaign_id: int,
    address_id: int | None = None,
    quantity: int = 1,
    coupon_ids: list[int] | None = None,
    now: datetime | None = None,
) -> tuple[Group, Order]:
    """The buyer leads a new group; it opens for others once the leader's order is paid."""
    now = now or timezone.now()
    campaign = live_campaign(campaign_id, now)
    address_id = address_id or default_address_id(user)
    with transaction.atomic():
        group = Group.objects.create(
            campaign=campaign,
            leader=user,
            share_code=secrets.token_urlsafe(9)[:12],
            size=campaign.group_size,
            seats_taken=1,
        )
        order = orders.place_order(
            user,
            [(campaign.sku_id, quantity)],
            address_id,
            {"activity": _activity(campaign, group, quantity, True), "coupon_ids": coupon_ids},
        )
    return group, order


def join_group(
    user: User,
    group_id: int,
    address_id: int | None = None,
    quantity: int = 1,
    coupon_ids: list[int] | None = None,
    now: datetime | None = None,
) -> tuple[Group, Order]:
    now = now or timezone.now()
    group = Group.objects.select_related("campaign").filter(pk=group_id).first()
    if group is None:
        raise NotFound(code="group_not_found")
    if GroupMember.objects.filter(group=group, user=user).exclude(status=MemberStatus.RELEASED).exists():
        raise Conflict(_("你已在这个团里"), code="already_in_group")
    address_id = address_id or default_address_id(user)
    with transaction.atomic():
        taken = Group.objects.filter(
            pk=group.pk, status=GroupStatus.OPEN, seats_taken__lt=F("size"), expires_at__gt=now
        ).update(seats_taken=F("seats_taken") + 1)
        if not taken:
            group.refresh_from_db()
            if group.status == GroupStatus.OPEN and group.expires_at and group.expires_at <= now:
                raise Conflict(_("该团已过期"), code="group_expired")
            if group.status == GroupStatus.OPEN:
                raise Conflict(_("该团已满"), code="group_full")
            raise Conflict(_("该团不可加入"), code="group_not_open")
        order = orders.place_order(
            user,
            [(group.campaign.sku_id, quantity)],
            address_id,
            {"activity": _activity(group.campaign, group, quantity, False), "coupon_ids": coupon_ids},
        )
    group.refresh_from_db()
    return group, order


def _commit_member(activity: Activity, checkout: Checkout, order: Order) -> None:
    try:
        with transaction.atomic():
            GroupMember.objects.create(
                group_id=activity.ref["group_id"],
                user=checkout.user,
                order_id=order.pk,
                is_leader=activity.ref["leader"],
            )
    except IntegrityError as exc:
        raise Conflict(_("你已在这个团里"), code="already_in_group") from exc


register_committer("group", _commit_member)


# --- reacting to orders -------------------------------------------------------------------


def member_paid(order_id: int, now: datetime | None = None) -> None:
    """``order.paid``: the seat becomes a membership; the leader's payment opens the group."""
    now = now or timezone.now()
    member = GroupMember.objects.select_related("group__campaign").filter(order_id=order_id).first()
    if member is None:
        return
    group = member.group
    with transaction.atomic():
        if not GroupMember.objects.filter(pk=member.pk, status=MemberStatus.PENDING).update(
            status=MemberStatus.PAID, paid_at=now
        ):
            return
        if member.is_leader:
            Group.objects.filter(pk=group.pk, status=GroupStatus.PENDING).update(
                status=GroupStatus.OPEN,
                expires_at=now
                + timedelta(hours=group.campaign.time_limit_hours or mkt_setting("GROUP_TIME_LIMIT_HOURS")),
            )
        Group.objects.filter(pk=group.pk).update(paid_count=F("paid_count") + 1)
        group.refresh_from_db()
        if group.status == GroupStatus.OPEN:
            if group.paid_count >= group.size:
                _complete(group, now)
            return
    # Paid into a group that failed, was cancelled or is over: the money goes straight back.
    if group.status != GroupStatus.COMPLETE:
        _refund_member(member.pk, _("拼团未成功，自动退款"))


def member_refunded(order_id: int) -> None:
    """``order.refunded`` (every unit back) while the group is still forming: the seat is empty
    again, so the group is not counted full — or completed at expiry — with a member who left."""
    with transaction.atomic():
        member = GroupMember.objects.select_related("group").filter(order_id=order_id).first()
        if member is None or member.group.status != GroupStatus.OPEN:
            return
        if not GroupMember.objects.filter(pk=member.pk, status=MemberStatus.PAID).update(status=MemberStatus.REFUNDED):
            return
        Group.objects.filter(pk=member.group_id, paid_count__gt=0).update(
            paid_count=F("paid_count") - 1, seats_taken=F("seats_taken") - 1
        )


def seat_released(order_id: int) -> None:
    """``order.closed``: an unpaid seat goes back; a leader who never paid cancels the group."""
    with transaction.atomic():
        member = GroupMember.objects.filter(order_id=order_id, status=MemberStatus.PENDING).first()
        if member is None:
            return
        if not GroupMember.objects.filter(pk=member.pk, status=MemberStatus.PENDING).update(
            status=MemberStatus.RELEASED
        ):
            return
        Group.objects.filter(pk=member.group_id, seats_taken__gt=0).update(seats_taken=F("seats_taken") - 1)
        if member.is_leader:
            Group.objects.filter(pk=member.group_id, status=GroupStatus.PENDING).update(
                status=GroupStatus.CANCELLED, failed_at=timezone.now()
            )


def _complete(group: Group, now: datetime) -> bool:
    if not Group.objects.filter(pk=group.pk, status=GroupStatus.OPEN).update(
        status=GroupStatus.COMPLETE, completed_at=now
    ):
        return False
    bonus = group.campaign.leader_bonus
    if bonus is None:
        bonus = mkt_setting("GROUP_LEADER_BONUS")
    if bonus > 0:
        ledger.transfer(
            kind="group_leader_bonus",
            key=f"group-bonus:{group.pk}",
            source=ledger.platform_account(AccountKind.PLATFORM_BUDGET, "group_buy"),
            target=ledger.user_account(group.leader_id, AccountKind.WALLET),
            amount=bonus,
            reference=f"group:{group.pk}",
            memo=str(_("拼团团长奖励")),
        )
    events.publish(
        "group.completed",
        {
            "group_id": group.pk,
            "campaign_id": group.campaign_id,
            "user_ids": list(
                GroupMember.objects.filter(group=group, status=MemberStatus.PAID).values_list("user_id", flat=True)
            ),
        },
    )
    # The group formed: its paid orders may now be shipped.
    orders.release_fulfilment_hold(
        GroupMember.objects.filter(group=group, status=MemberStatus.PAID).values_list("order_id", flat=True)
    )
    # Unpaid seats of a complete group will never be needed: their orders close.
    for order in Order.objects.filter(
        pk__in=GroupMember.objects.filter(group=group, status=MemberStatus.PENDING).values("order_id"),
        status=OrderStatus.PENDING_PAYMENT,
    ):
        orders.close_order(order, reason="group_complete")
    return True


def _refund_member(member_id: int, reason: Any) -> bool:
    with transaction.atomic():
        member = GroupMember.objects.filter(pk=member_id, status=MemberStatus.PAID).first()
        if member is None or member.order_id is None:
            return False
        order = Order.objects.get(pk=member.order_id)
        if order.status == OrderStatus.PAID:
            orders.refund_whole_order(order, str(reason))
        elif order.status not in (OrderStatus.REFUNDED, OrderStatus.REFUNDING):
            log.warning(
                "group member %s: order %s is %s, not refunded automatically", member_id, order.pk, order.status
            )
            return False
        GroupMember.objects.filter(pk=member.pk, status=MemberStatus.PAID).update(status=MemberStatus.REFUNDED)
    return True


def expire_groups(now: datetime | None = None, limit: int = 200) -> dict[str, int]:
    """Periodic: settle open groups past their deadline, then refund members of failed groups."""
    now = now or timezone.now()
    done = {"completed": 0, "failed": 0, "refunded": 0}
    for group in Group.objects.select_related("campaign").filter(status=GroupStatus.OPEN, expires_at__lte=now)[:limit]:
        with transaction.atomic():
            if group.paid_count >= required_members(group.campaign, group.size):
                done["completed"] += _complete(group, now)
                continue
            if not Group.objects.filter(pk=group.pk, status=GroupStatus.OPEN).update(
                status=GroupStatus.FAILED, failed_at=now
            ):
                continue
            done["failed"] += 1
            events.publish(
                "group.failed",
                {
                    "group_id": group.pk,
                    "campaign_id": group.campaign_id,
                    "user_ids": list(
                        GroupMember.objects.filter(
                            group=group, status__in=[MemberStatus.PAID, MemberStatus.PENDING]
                        ).values_list("user_id", flat=True)
                    ),
                },
            )
            for order in Order.objects.filter(
                pk__in=GroupMember.objects.filter(group=group, status=MemberStatus.PENDING).values("order_id"),
                status=OrderStatus.PENDING_PAYMENT,
            ):
                orders.close_order(order, reason="group_failed")
    # Refunds each in their own transaction: one stuck payment does not hold back the others,
    # and a later run retries whatever is still paid.
    owed = GroupMember.objects.filter(
        status=MemberStatus.PAID, group__status__in=[GroupStatus.FAILED, GroupStatus.CANCELLED]
    ).values_list("pk", flat=True)[:limit]
    for member_id in list(owed):
        try:
            done["refunded"] += _refund_member(member_id, _("拼团未成功，自动退款"))
        except Exception:
            log.exception("refund of group member %s failed; retried next run", member_id)
    return done


# --- reading ------------------------------------------------------------------------------


def running_campaigns(
    now: datetime | None = None, groups_per_campaign: int = 10
) -> list[tuple[GroupBuyCampaign, list[Group]]]:
    now = now or timezone.now()
    campaigns = list(
        GroupBuyCampaign.objects.filter(is_active=True, starts_at__lte=now, ends_at__gt=now).select_related(
            "sku__product"
        )
    )
    open_groups = (
        Group.objects.filter(campaign__in=campaigns, status=GroupStatus.OPEN, expires_at__gt=now)
        .filter(seats_taken__lt=F("size"))
        .select_related("leader")
        .order_by("expires_at")
    )
    by_campaign: dict[int, list[Group]] = {}
    for group in open_groups:
        bucket = by_campaign.setdefault(group.campaign_id, [])
        if len(bucket) < groups_per_campaign:
            bucket.append(group)
    return [(c, by_campaign.get(c.pk, [])) for c in campaigns]


def group_by_code(code: str) -> Group:
    group = Group.objects.select_related("campaign__sku__product", "leader").filter(share_code=code).first()
    if group is None:
        raise NotFound(code="group_not_found")
    return group


def get_group(group_id: int) -> Group:
    group = Group.objects.select_related("campaign__sku__product", "leader").filter(pk=group_id).first()
    if group is None or group.status == GroupStatus.PENDING:
        raise NotFound(code="group_not_found")
    return group


def my_groups(user: User) -> list[GroupMember]:
    return list(
        GroupMember.objects.filter(user=user)
        .exclude(status=MemberStatus.RELEASED)
        .select_related("group__campaign__sku__product")
        .order_by("-id")[:100]
    )


def paid_members(group: Group) -> list[GroupMember]:
    return list(
        group.members.filter(Q(status=MemberStatus.PAID) | Q(status=MemberStatus.REFUNDED)).select_related("user")
    )


# --- operator -----------------------------------------------------------------------------


def create_campaign(actor: Any, data: dict[str, Any]) -> GroupBuyCampaign:
    from jishi.catalog.models import Sku

    sku = Sku.objects.filter(pk=data.pop("sku_id")).first()
    if sku is None:
        raise InvalidInput(code="sku_unavailable", fields={"sku_id": [str(_("不存在"))]})
    if data["group_price"] > sku.price:
        raise InvalidInput(code="group_price_above_price", fields={"group_price": [str(sku.price)]})
    if data["ends_at"] <= data["starts_at"]:
        raise InvalidInput(code="invalid_period", fields={"ends_at": [str(_("结束时间须晚于开始时间"))]})
    data.setdefault("commission", mkt_setting("CAMPAIGN_COMMISSION"))
    data.setdefault("points", mkt_setting("CAMPAIGN_POINTS"))
    data.setdefault("time_limit_hours", mkt_setting("GROUP_TIME_LIMIT_HOURS"))
    campaign = GroupBuyCampaign.objects.create(sku=sku, **data)
    audit.record(actor, "group_campaign.create", f"group_campaign:{campaign.pk}")
    return campaign
