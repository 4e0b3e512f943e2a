"""Leaders (团长): applications, review, suspension, levels and commission rates, the nearest-leader
search and the member ↔ leader binding."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jishi.accounts.models import Role, User
from jishi.accounts.services import grant_role, revoke_role
from jishi.core import audit, geo
from jishi.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from jishi.core.money import BP_DENOMINATOR

from .conf import gb_setting
from .models import (
    BindingSource,
    Leader,
    LeaderLevel,
    LeaderStatus,
    MemberBinding,
    PickupPoint,
    PointType,
    ProductRate,
)

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
ID_NUMBER_CHARS = set("0123456789X")


class NotLeader(Forbidden):
    code = "not_leader"
    default_message = _("你还不是团长")


def _check_application(data: dict[str, Any]) -> None:
    fields: dict[str, list[str]] = {}
    id_number = str(data.get("id_number") or "").upper()
    if len(id_number) != 18 or not set(id_number) <= ID_NUMBER_CHARS:
        fields["id_number"] = [str(_("请填写 18 位身份证号"))]
    point = data["pickup_point"]
    if point["type"] not in PointType.values:
        fields["pickup_point.type"] = [str(point["type"])]
    if not -90 <= point["latitude"] <= 90 or not -180 <= point["longitude"] <= 180:
        fields["pickup_point.latitude"] = ["-90..90, -180..180"]
    if fields:
        raise InvalidInput(fields=fields)


def _point_fields(point: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": point["name"],
        "type": point["type"],
        "address": point["address"],
        "latitude": float(point["latitude"]),
        "longitude": float(point["longitude"]),
        "hours": point.get("hours") or "",
        "daily_capacity": int(point.get("daily_capacity") or 200),
        "photos": list(point.get("photos") or [])[:9],
    }


def apply(user: User, data: dict[str, Any]) -> Leader:
    """A buyer applies to lead a pickup point; a rejected applicant may apply again."""
    _check_application(data)
    with transaction.atomic():
        leader = Leader.objects.select_for_update().filter(user=user).first()
        if leader is not None and leader.status != LeaderStatus.REJECTED:
            raise Conflict(_("你已提交过团长申请"), code="already_applied", fields={"status": [leader.status]})
        values = {
            "name": data["name"],
            "phone": data["phone"],
            "id_number": str(data["id_number"]).upper(),
            "status": LeaderStatus.PENDING,
            "reason": "",
            "reviewed_at": None,
        }
        if leader is None:
            try:
                with transaction.atomic():
                    leader = Leader.objects.create(user=user, share_code=_new_code(), **values)
            except IntegrityError as exc:  # a parallel application won
                raise Conflict(_("你已提交过团长申请"), code="already_applied") from exc
        else:
            for name, value in values.items():
                setattr(leader, name, value)
            leader.save()
        PickupPoint.objects.update_or_create(leader=leader, defaults=_point_fields(data["pickup_point"]))
    return leader


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))


def _get(leader_id: int, *, for_update: bool = False) -> Leader:
    rows = Leader.objects.select_related("user", "point", "level")
    if for_update:
        rows = rows.select_for_update(of=("self",))
    leader = rows.filter(pk=leader_id).first()
    if leader is None:
        raise NotFound()
    return leader


_REVIEW: dict[str, tuple[set[str], str]] = {
    "approve": ({LeaderStatus.PENDING}, LeaderStatus.APPROVED),
    "reject": ({LeaderStatus.PENDING}, LeaderStatus.REJECTED),
    "suspend": ({LeaderStatus.APPROVED}, LeaderStatus.SUSPENDED),
    "reinstate": ({LeaderStatus.SUSPENDED}, LeaderStatus.APPROVED),
}


def review(actor: User | None, leader_id: int, action: str, reason: str = "") -> Leader:
    """Operator: approve, reject (a reason is required), suspend or reinstate a leader (audited)."""
    allowed, to = _REVIEW[action]
    if action in ("reject", "suspend") and not reason.strip():
        raise InvalidInput(_("请填写原因"), code="reason_required", fields={"reason": ["required"]})
    with transaction.atomic():
        leader = _get(leader_id, for_update=True)
        if leader.status not in allowed:
            raise Conflict(_("团长当前状态不允许此操作"), code="invalid_transition", fields={"status": [leader.status]})
        leader.status, leader.reason, leader.reviewed_at = to, reason.strip()[:200], timezone.now()
        leader.save(update_fields=["status", "reason", "reviewed_at"])
        if to == LeaderStatus.APPROVED:
            grant_role(leader.user, Role.LEADER)
        else:
            revoke_role(leader.user, Role.LEADER)
        audit.record(actor, f"gb_leader.{action}", f"gb_leader:{leader.pk}", reason=reason)
    return leader


def approved_leader_of(user: User) -> Leader:
    """The caller's own approved leader record (the leader app's endpoints run for it)."""
    leader = Leader.objects.select_related("point", "level").filter(user=user).first()
    if leader is None or leader.status != LeaderStatus.APPROVED:
        raise NotLeader()
    return leader


# --- levels and rates ---------------------------------------------------------------


def rate_for(leader: Leader, product_id: int, product_rates: dict[int, int] | None = None) -> int:
    """The leader's commission rate on a product: product override, else level, else the default."""
    rates = product_rates if product_rates is not None else product_rates_for([product_id])
    if product_id in rates:
        return rates[product_id]
    if leader.level is not None:
        return leader.level.rate_bp
    return int(gb_setting("LEADER_RATE_BP"))


def product_rates_for(product_ids: list[int]) -> dict[int, int]:
    return dict(ProductRate.objects.filter(product_id__in=product_ids).values_list("product_id", "rate_bp"))


def promoter_rate_bp(product_id: int) -> int:
    """What distribution can pay on a product at most (all its levels, as a rate)."""
    from jishi.distribution.models import CommissionRule
    from jishi.distribution.services import get_settings

    rules = get_settings()
    if not rules.enabled:
        return 0
    rule = CommissionRule.objects.filter(product_id=product_id, sku_id__isnull=True).first()
    values = rule.values if rule and not rule.fixed else rules.rates_bp
    return sum(int(v) for v in list(values)[: rules.levels])


def _check_cap(rate_bp: int, product_ids: list[int]) -> None:
    cap = int(gb_setting("COMMISSION_CAP_BP"))
    if not 0 <= rate_bp <= BP_DENOMINATOR:
        raise InvalidInput(code="invalid_rate", fields={"rate_bp": ["0..10000"]})
    over = [str(p) for p in product_ids if rate_bp + promoter_rate_bp(p) > cap]
    if over or rate_bp > cap:
        raise InvalidInput(
            _("团长佣金与分销佣金之和不能超过 %(cap)s%%") % {"cap": cap / 100},
            code="commission_above_cap",
            fields={"rate_bp": over or [str(rate_bp)]},
        )


def set_product_rate(actor: User | None, product_id: int, rate_bp: int | None) -> ProductRate | None:
    """Override (or, with None, clear) the leader rate of one product; refused above the cap."""
    if rate_bp is None:
        ProductRate.objects.filter(product_id=product_id).delete()
        audit.record(actor, "gb_rate.clear", f"product:{product_id}")
        return None
    _check_cap(rate_bp, [product_id])
    row, _created = ProductRate.objects.update_or_create(product_id=product_id, defaults={"rate_bp": rate_bp})
    audit.record(actor, "gb_rate.set", f"product:{product_id}", rate_bp=rate_bp)
    return row


def save_level(actor: User | None, data: dict[str, Any], level_id: int | None = None) -> LeaderLevel:
    _check_cap(int(data["rate_bp"]), [])
    try:
        with transaction.atomic():
            if level_id is None:
                level = LeaderLevel.objects.create(**data)
            elif not LeaderLevel.objects.filter(pk=level_id).update(**data):
                raise NotFound()
            else:
                level = LeaderLevel.objects.get(pk=level_id)
    except IntegrityError as exc:
        raise Conflict(_("该排序已被其他等级使用"), code="rank_taken", fields={"rank": [str(data["rank"])]}) from exc
    audit.record(actor, "gb_level.save", f"gb_level:{level.pk}", **data)
    return level


def set_level(actor: User | None, leader_id: int, level_id: int | None) -> Leader:
    leader = _get(leader_id)
    level = LeaderLevel.objects.filter(pk=level_id).first() if level_id else None
    if level_id and level is None:
        raise NotFound(fields={"level_id": [str(level_id)]})
    Leader.objects.filter(pk=leader.pk).update(level=level)
    leader.level = level
    audit.record(actor, "gb_leader.level", f"gb_leader:{leader.pk}", level=level_id)
    return leader


# --- nearest leaders ----------------------------------------------------------------


@dataclass(frozen=True)
class Nearby:
    leader: Leader
    distance_m: int


def nearest(lat: float, lng: float, radius_m: int | None = None, limit: int | None = None) -> list[Nearby]:
    """Approved leaders within the radius of (lat, lng), nearest first, in one query."""
    if not -90 <= lat <= 90 or not -180 <= lng <= 180:
        raise InvalidInput(fields={"lat": ["-90..90"], "lng": ["-180..180"]})
    radius = radius_m if radius_m is not None else int(gb_setting("RADIUS_M"))
    points = geo.within(
        PickupPoint.objects.filter(leader__status=LeaderStatus.APPROVED).select_related("leader"), lat, lng, radius
    )[: limit or int(gb_setting("NEAREST_LIMIT"))]
    return [Nearby(p.leader, round(p.distance_m)) for p in points]


def distance_to(leader: Leader, lat: float, lng: float) -> int:
    return geo.distance_m(lat, lng, leader.point.latitude, leader.point.longitude)


# --- member ↔ leader ----------------------------------------------------------------


def bind(
    member: User, leader_id: int, source: str = BindingSource.CHOSEN, now: datetime | None = None
) -> tuple[MemberBinding, bool]:
    """Choose a leader (or follow a share link): remembered, changeable after the cool-down.

    Returns (binding, changed). Binding again to the same leader changes nothing."""
    now = now or timezone.now()
    leader = Leader.objects.filter(pk=leader_id, status=LeaderStatus.APPROVED).first()
    if leader is None:
        raise NotFound(_("团长不存在或已暂停"), code="leader_unavailable", fields={"leader_id": [str(leader_id)]})
    with transaction.atomic():
        binding = MemberBinding.objects.select_for_update().filter(member=member).first()
        if binding is None:
            try:
                with transaction.atomic():
                    return MemberBinding.objects.create(member=member, leader=leader, source=source, bound_at=now), True
            except IntegrityError:  # a parallel choice landed first; the cool-down below applies
                binding = MemberBinding.objects.select_for_update().get(member=member)
        if binding.leader_id == leader.pk:
            return binding, False
        free_at = binding.bound_at + timedelta(days=int(gb_setting("REBIND_COOL_DOWN_DAYS")))
        if now < free_at:
            raise Conflict(
                _("更换团长需在 %(date)s 之后") % {"date": timezone.localtime(free_at).strftime("%Y-%m-%d %H:%M")},
                code="rebind_cool_down",
                fields={"leader_id": [free_at.isoformat()]},
            )
        binding.leader, binding.source, binding.bound_at = leader, source, now
        binding.save(update_fields=["leader", "source", "bound_at"])
    return binding, True


def bind_by_share_code(member: User, code: str, now: datetime | None = None) -> tuple[MemberBinding, bool]:
    leader = Leader.objects.filter(share_code=code.strip().upper(), status=LeaderStatus.APPROVED).first()
    if leader is None:
        raise NotFound(_("分享链接无效"), code="invalid_share_code", fields={"code": [code]})
    return bind(member, leader.pk, BindingSource.SHARE, now)


def binding_of(member: User) -> MemberBinding | None:
    return MemberBinding.objects.select_related("leader__point").filter(member=member).first()
