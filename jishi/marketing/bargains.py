"""Bargain (砍价): a buyer starts one, different helpers each cut once, the starter buys at the price reached.

The cuts are drawn so the floor is reached exactly by the Nth helper: every helper but the
last leaves at least one fen for each helper still to come, and the last takes what remains.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jishi.accounts.models import User
from jishi.core import audit, events
from jishi.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from jishi.orders import services as orders
from jishi.orders.models import Order
from jishi.orders.pipeline import Checkout

from .conf import mkt_setting
from .flash import default_address_id
from .models import Bargain, BargainCampaign, BargainHelp, BargainStatus
from .steps import Activity, register_committer

_rng = random.SystemRandom()


def next_cut(remaining: int, helpers_left: int, rng: random.Random | None = None, allow_early: bool = False) -> int:
    """How much the next helper cuts off ``remaining`` (current − floor) with ``helpers_left`` to come.

    The draw is uniform on [1, 2 × the even share], so early helpers cut about as much as
    later ones; it leaves one fen per later helper unless ``allow_early`` lets the floor
    come sooner. The last helper takes exactly what remains.
    """
    if remaining <= 0:
        return 0
    if helpers_left <= 1:
        return remaining
    rng = rng or _rng
    reserve = 0 if allow_early else helpers_left - 1
    upper = min(remaining - reserve, max(1, 2 * remaining // helpers_left))
    if upper <= 1:
        return 1 if remaining - 1 >= reserve else 0
    return rng.randint(1, upper)


def live_campaign(campaign_id: int, now: datetime) -> BargainCampaign:
    campaign = BargainCampaign.objects.select_related("sku").filter(pk=campaign_id, is_active=True).first()
    if campaign is None:
        raise NotFound(code="bargain_campaign_not_found")
    if not campaign.starts_at <= now < campaign.ends_at:
        raise Conflict(_("砍价活动未在进行中"), code="bargain_campaign_not_running")
    return campaign


def start(user: User, campaign_id: int, now: datetime | None = None) -> Bargain:
    """The buyer's running bargain of this campaign, started now if there is none."""
    now = now or timezone.now()
    campaign = live_campaign(campaign_id, now)
    running = Bargain.objects.filter(
        campaign=campaign, user=user, status__in=[BargainStatus.ACTIVE, BargainStatus.FLOOR]
    ).first()
    if running is not None:
        return running
    original = campaign.sku.price
    if original - campaign.floor_price < campaign.helpers_needed:
        raise Conflict(_("当前价格已低于可砍范围"), code="bargain_price_too_low")
    try:
        with transaction.atomic():
            return Bargain.objects.create(
                campaign=campaign,
                user=user,
                original_price=original,
                floor_price=campaign.floor_price,
                current_price=original,
                helpers_needed=campaign.helpers_needed,
                created_at=now,
                expires_at=now + timedelta(hours=campaign.time_limit_hours or mkt_setting("BARGAIN_TIME_LIMIT_HOURS")),
            )
    except IntegrityError:  # a double tap started it a moment ago
        return Bargain.objects.get(campaign=campaign, user=user, status__in=[BargainStatus.ACTIVE, BargainStatus.FLOOR])


def help_cut(
    helper: User, bargain_id: int, now: datetime | None = None, rng: random.Random | None = None
) -> BargainHelp:
    """One helper's cut, once per bargain (a unique constraint), under the bargain's row lock."""
    now = now or timezone.now()
    with transaction.atomic():
        bargain = Bargain.objects.select_for_update().select_related("campaign").filter(pk=bargain_id).first()
        if bargain is None:
            raise NotFound(code="bargain_not_found")
        if bargain.user_id == helper.pk:
            raise Forbidden(_("不能给自己砍价"), code="own_bargain")
        if bargain.status == BargainStatus.FLOOR or (
            bargain.status == BargainStatus.ACTIVE and bargain.current_price <= bargain.floor_price
        ):
            raise Conflict(_("已砍到底价"), code="bargain_floor_reached")
        if bargain.status != BargainStatus.ACTIVE or bargain.expires_at <= now:
            raise Conflict(_("砍价已结束"), code="bargain_closed")
        cut = next_cut(
            bargain.current_price - bargain.floor_price,
            bargain.helpers_needed - bargain.helper_count,
            rng,
            bargain.campaign.allow_early_floor,
        )
        try:
            with transaction.atomic():
                help_row = BargainHelp.objects.create(bargain=bargain, helper=helper, amount=cut)
        except IntegrityError as exc:
            raise Conflict(_("你已经帮砍过了"), code="already_helped") from exc
        price = bargain.current_price - cut
        fields: dict[str, Any] = {"current_price": price, "helper_count": bargain.helper_count + 1}
        if price == bargain.floor_price:
            fields.update(status=BargainStatus.FLOOR, floor_reached_at=now)
            events.publish(
                "bargain.floor_reached",
                {
                    "bargain_id": bargain.pk,
                    "user_id": bargain.user_id,
                    "campaign_id": bargain.campaign_id,
                    "floor_price": bargain.floor_price,
                },
            )
        Bargain.objects.filter(pk=bargain.pk).update(**fields)
    return help_row


def buy(
    user: User,
    bargain_id: int,
    address_id: int | None = None,
    coupon_ids: list[int] | None = None,
    now: datetime | None = None,
) -> Order:
    """The starter buys one unit at the price reached (at the floor only, unless the setting allows)."""
    now = now or timezone.now()
    bargain = Bargain.objects.select_related("campaign").filter(pk=bargain_id, user=user).first()
    if bargain is None:
        raise NotFound(code="bargain_not_found")
    if bargain.status == BargainStatus.BOUGHT:
        raise Conflict(_("已下单"), code="bargain_ordered")
    if bargain.status == BargainStatus.EXPIRED or bargain.expires_at <= now:
        raise Conflict(_("砍价已结束"), code="bargain_closed")
    if bargain.status != BargainStatus.FLOOR and not mkt_setting("BARGAIN_BUY_BEFORE_FLOOR"):
        raise Conflict(_("还没砍到底价"), code="bargain_floor_not_reached")
    campaign = bargain.campaign
    activity = Activity(
        kind="bargain",
        campaign_id=campaign.pk,
        sku_id=campaign.sku_id,
        quantity=1,
        unit_price=bargain.current_price,
        commission=campaign.commission,
        points=campaign.points,
        pay_minutes=mkt_setting("BARGAIN_PAY_MINUTES"),
        ref={"bargain_id": bargain.pk},
    )
    return orders.place_order(
        user,
        [(campaign.sku_id, 1)],
        address_id or default_address_id(user),
        {"activity": activity, "coupon_ids": coupon_ids},
    )


def _commit_order(activity: Activity, checkout: Checkout, order: Order) -> None:
    updated = Bargain.objects.filter(
        pk=activity.ref["bargain_id"],
        order_id__isnull=True,
        status__in=[BargainStatus.ACTIVE, BargainStatus.FLOOR],
        current_price=activity.unit_price,
    ).update(order_id=order.pk, status=BargainStatus.BOUGHT)
    if not updated:
        raise Conflict(_("砍价状态已变化，请刷新"), code="bargain_changed")


register_committer("bargain", _commit_order)


def order_closed(order_id: int, now: datetime | None = None) -> None:
    """An unpaid bargain order closed: the bargain runs on (or ends, if its time is up)."""
    now = now or timezone.now()
    bargain = Bargain.objects.filter(order_id=order_id, status=BargainStatus.BOUGHT).first()
    if bargain is None:
        return
    status = BargainStatus.FLOOR if bargain.current_price == bargain.floor_price else BargainStatus.ACTIVE
    if bargain.expires_at <= now:
        status = BargainStatus.EXPIRED
    try:
        with transaction.atomic():
            Bargain.objects.filter(pk=bargain.pk, status=BargainStatus.BOUGHT).update(status=status, order_id=None)
    except IntegrityError:  # the buyer started a new one meanwhile: this one ends
        Bargain.objects.filter(pk=bargain.pk, status=BargainStatus.BOUGHT).update(
            status=BargainStatus.EXPIRED, order_id=None
        )


def expire_bargains(now: datetime | None = None) -> int:
    now = now or timezone.now()
    return Bargain.objects.filter(status__in=[BargainStatus.ACTIVE, BargainStatus.FLOOR], expires_at__lte=now).update(
        status=BargainStatus.EXPIRED
    )


def get_bargain(bargain_id: int) -> Bargain:
    """Any buyer may see a bargain (helpers open it from a share link)."""
    bargain = Bargain.objects.select_related("campaign__sku__product", "user").filter(pk=bargain_id).first()
    if bargain is None:
        raise NotFound(code="bargain_not_found")
    return bargain


def create_campaign(actor: Any, data: dict[str, Any]) -> BargainCampaign:
    from jishi.catalog.models import Sku

    sku = Sku.objects.filter(pk=data.pop("sku_id")).first()
    if sku is None:
        raise InvalidInput(code="sku_unavailable", fields={"sku_id": [str(_("不存在"))]})
    if sku.price - data["floor_price"] < data["helpers_needed"]:
        raise InvalidInput(
            _("原价与底价之差须不少于帮砍人数（每人至少砍 1 分）"),
            code="bargain_range_too_small",
            fields={"floor_price": [str(sku.price - data["helpers_needed"])]},
        )
    if data["ends_at"] <= data["starts_at"]:
        raise InvalidInput(code="invalid_period", fields={"ends_at": [str(_("结束时间须晚于开始时间"))]})
    data.setdefault("commission", mkt_setting("CAMPAIGN_COMMISSION"))
    data.setdefault("points", mkt_setting("CAMPAIGN_POINTS"))
    data.setdefault("time_limit_hours", mkt_setting("BARGAIN_TIME_LIMIT_HOURS"))
    campaign = BargainCampaign.objects.create(sku=sku, **data)
    audit.record(actor, "bargain_campaign.create", f"bargain_campaign:{campaign.pk}")
    return campaign
