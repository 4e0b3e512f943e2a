"""Group-exclusive offers (群专享): a members-only SKU price and members-only coupons.

The only writer of ``GroupPrice`` and ``GroupCoupon``. The price step prices lines still at their
list price (it never stacks with flash, 拼团, bargain or points-mall prices) at the lowest price of
any group the buyer is an active member of. A group coupon is one of marketing's templates whose
``audience`` names this app's rule (``member_templates``): marketing's coupon centre, claim and
checkout step ask the rule, so only active members see, claim or use it, and leaving a group ends
its coupons for every new order (an order placed before keeps its discount).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.db.models import Min
from django.utils.translation import gettext as _

from jishi.accounts.models import Role as AccountRole
from jishi.accounts.models import User
from jishi.accounts.services import has_role
from jishi.core import audit, local_cache
from jishi.core.errors import Forbidden, InvalidInput
from jishi.orders.pipeline import ACTIVITY_PRICE, BaseStep, Checkout

from . import groups
from .models import GroupCoupon, GroupPrice, MemberStatus

if TYPE_CHECKING:
    from jishi.marketing.models import CouponTemplate
    from jishi.orders.models import Order

GROUP_AUDIENCE = "community_group"

ANY_PRICES_TTL_SECONDS = 10.0  # other processes see a new group price within seconds
_any: tuple[float, bool] | None = None


@local_cache.register
def forget_prices() -> None:
    global _any
    _any = None


def _any_active_prices() -> bool:
    """Whether any group price is on (cached briefly): checkouts pay no query while none is."""
    global _any
    now = time.monotonic()
    if _any is None or now - _any[0] >= ANY_PRICES_TTL_SECONDS:
        _any = (now, GroupPrice.objects.filter(is_active=True).exists())
    return _any[1]


def set_price(actor: User, group_id: int, sku_id: int, price: int, is_active: bool = True) -> GroupPrice:
    from jishi.catalog.models import Sku

    if not has_role(actor, AccountRole.OPERATOR):
        raise Forbidden()
    groups.get_group(group_id)
    sku = Sku.objects.filter(pk=sku_id).first()
    if sku is None:
        raise InvalidInput(fields={"sku_id": [_("规格不存在")]})
    if not 1 <= price <= sku.price:
        raise InvalidInput(fields={"price": [_("须在 0.01 元与原价之间")]})
    row, _created = GroupPrice.objects.update_or_create(
        group_id=group_id, sku_id=sku_id, defaults={"price": price, "is_active": is_active}
    )
    audit.record(actor, "community.price.set", f"community_group:{group_id}", sku=sku_id, price=price)
    forget_prices()
    return row


def prices_of(group_id: int) -> list[GroupPrice]:
    return list(
        GroupPrice.objects.filter(group_id=group_id, is_active=True).select_related("sku__product").order_by("id")
    )


def member_prices(user_id: int, sku_ids: list[int]) -> dict[int, int]:
    """The lowest active group price per SKU over the groups ``user_id`` is an active member of."""
    rows = (
        GroupPrice.objects.filter(
            sku_id__in=sku_ids,
            is_active=True,
            group__is_active=True,
            group__memberships__user_id=user_id,
            group__memberships__status=MemberStatus.ACTIVE,
        )
        .values("sku_id")
        .annotate(best=Min("price"))
    )
    return {row["sku_id"]: row["best"] for row in rows}


class GroupPriceStep(BaseStep):
    """Members-only prices, after campaign prices and before member-level discounts."""

    code = "community_price"
    position = ACTIVITY_PRICE + 60

    def apply(self, checkout: Checkout) -> None:
        if checkout.user is None or checkout.options.get("activity") or checkout.options.get("points_mall"):
            return
        if not _any_active_prices():
            return
        at_list = [line for line in checkout.lines if line.unit_price == line.list_price]
        if not at_list:
            return
        best = member_prices(checkout.user.pk, [line.sku_id for line in at_list])
        priced: list[dict[str, Any]] = []
        for line in at_list:
            price = best.get(line.sku_id)
            if price is not None and price < line.unit_price:
                line.unit_price = price
                line.meta["community_price"] = price
                priced.append({"sku_id": line.sku_id, "price": price})
        if priced:
            checkout.meta["community_prices"] = priced

    def commit(self, checkout: Checkout, order: Order) -> None:
        return None


# --- members-only coupons (群专享券) -------------------------------------------------------------


def member_templates(user_id: int, templates: Sequence[CouponTemplate]) -> set[int]:
    """Marketing's audience rule: which of ``templates`` belong to a group ``user_id`` is in now."""
    rows = GroupCoupon.objects.filter(
        template_id__in=[t.pk for t in templates],
        group__is_active=True,
        group__memberships__user_id=user_id,
        group__memberships__status=MemberStatus.ACTIVE,
    )
    return set(rows.values_list("template_id", flat=True))


def check_coupon(group_id: int, template_id: int) -> None:
    """Whether the template may become this group's own coupon; raises InvalidInput (the console's
    form asks before it saves, ``set_coupon`` before it writes)."""
    from jishi.marketing.models import CouponTemplate

    groups.get_group(group_id)
    template = CouponTemplate.objects.filter(pk=template_id).first()
    if template is None:
        raise InvalidInput(fields={"template_id": [_("优惠券模板不存在")]})
    linked = GroupCoupon.objects.filter(template_id=template_id).first()
    if linked is not None and linked.group_id != group_id:
        raise InvalidInput(fields={"template_id": [_("该券已是其他社群的专享券")]})
    if linked is None and template.issued:
        raise InvalidInput(fields={"template_id": [_("该券已有人领取，请新建一张券作为群专享券")]})


def set_coupon(actor: User, group_id: int, template_id: int) -> GroupCoupon:
    """Make one of marketing's coupon templates this group's own (operators; audited).

    A template already open to everyone or another group's is refused: moving a coupon that
    buyers may hold would silently take it from them."""
    from jishi.marketing import coupons

    if not has_role(actor, AccountRole.OPERATOR):
        raise Forbidden()
    check_coupon(group_id, template_id)
    row, _created = GroupCoupon.objects.get_or_create(group_id=group_id, template_id=template_id)
    coupons.set_audience(actor, template_id, GROUP_AUDIENCE)
    audit.record(actor, "community.coupon.set", f"community_group:{group_id}", template=template_id)
    return row


def coupons_of(group_id: int) -> list[CouponTemplate]:
    """The group's live coupon templates, newest first."""
    from jishi.marketing.models import CouponTemplate

    return list(
        CouponTemplate.objects.filter(pk__in=GroupCoupon.objects.filter(group_id=group_id).values("template_id"))
        .filter(is_active=True)
        .order_by("-id")
    )
