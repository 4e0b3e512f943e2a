"""Segments: operator rules → one SQL query over members (AND/OR of conditions, nested).

A rule set is ``{"op": "and" | "or", "conditions": [condition or rule set, ...]}``; a condition is
``{"field": ..., ...}``:

- ``level``: ``{"in": [level ids]}`` (loyalty member level)
- ``tags``: ``{"any": [tag ids]}``
- ``points``: ``{"min": n, "max": n}`` (points balance; either bound optional)
- ``last_purchase_days``: ``{"within": n}`` or ``{"not_within": n}`` (a paid order in the last n days)
- ``lifetime_spend``: ``{"min": fen, "max": fen}`` (paid minus refunded)
- ``bought_product``: ``{"any": [product ids]}``; ``bought_category``: ``{"any": [category ids]}``
- ``promoter``: ``{"is": true | false}`` (an active promoter)
- ``registered``: ``{"after": "YYYY-MM-DD", "before": "YYYY-MM-DD"}``
- ``group``: ``{"any": [community group ids]}`` (an active member of any of them)
- ``store_distance``: ``{"store": id, "within_m": n}`` (a saved address within n metres of the
  store; n defaults to the store's delivery radius). A bounding box prefilters the addresses and
  the great-circle distance is computed in SQL (Django's math functions, on SQLite too).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Exists, F, FloatField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import ASin, Coalesce, Cos, Power, Radians, Sin, Sqrt
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jishi.accounts.models import Address, Role, User, UserRole
from jishi.community.models import Membership, MemberStatus
from jishi.core import geo
from jishi.core.errors import InvalidInput
from jishi.core.models import Account, AccountKind
from jishi.distribution.models import Promoter, PromoterStatus
from jishi.loyalty.models import Member
from jishi.orders.models import Order, OrderLine
from jishi.retail.models import Store

from .models import MemberTag

FIELDS = (
    "level",
    "tags",
    "points",
    "last_purchase_days",
    "lifetime_spend",
    "bought_product",
    "bought_category",
    "promoter",
    "registered",
    "group",
    "store_distance",
)
MAX_DISTANCE_M = 100_000
MAX_DEPTH = 3
MAX_CONDITIONS = 30
MAX_IDS = 500
MAX_INT = 2**53


def members() -> QuerySet[User]:
    """Everyone a campaign may reach: active accounts that are neither staff nor operators."""
    operators = UserRole.objects.filter(user_id=OuterRef("pk"), role__in=[Role.OPERATOR, Role.ADMIN])
    return User.objects.filter(is_active=True, is_staff=False).filter(~Exists(operators))


def _bad(path: str, message: Any) -> InvalidInput:
    return InvalidInput(_("人群条件有误"), fields={f"rules.{path}": [str(message)]})


def _ids(cond: dict[str, Any], key: str, path: str) -> list[int]:
    ids = cond.get(key)
    if not isinstance(ids, list) or not ids or len(ids) > MAX_IDS:
        raise _bad(path, f"{key}: 1..{MAX_IDS} ids")
    if not all(isinstance(i, int) and not isinstance(i, bool) and 0 < i < MAX_INT for i in ids):
        raise _bad(path, f"{key}: positive integers")
    return ids


def _int(cond: dict[str, Any], key: str, path: str) -> int | None:
    value = cond.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < MAX_INT:
        raise _bad(path, f"{key}: an integer ≥ 0")
    return value


def _range(expr: Any, cond: dict[str, Any], path: str) -> Q:
    low, high = _int(cond, "min", path), _int(cond, "max", path)
    if low is None and high is None:
        raise _bad(path, "min or max")
    q = Q()
    if low is not None:
        q &= Q(**{f"{expr}__gte": low})
    if high is not None:
        q &= Q(**{f"{expr}__lte": high})
    return q


def _day(cond: dict[str, Any], key: str, path: str) -> datetime | None:
    value = cond.get(key)
    if value is None:
        return None
    try:
        day = date.fromisoformat(str(value))
    except ValueError as exc:
        raise _bad(path, f"{key}: YYYY-MM-DD") from exc
    return timezone.make_aware(datetime.combine(day, time.min))


def _condition(cond: dict[str, Any], path: str, now: datetime) -> tuple[Q, dict[str, Any]]:
    """The condition's filter, and the annotations it needs."""
    field = cond.get("field")
    if field == "level":
        return Q(pk__in=Member.objects.filter(level_id__in=_ids(cond, "in", path)).values("user_id")), {}
    if field == "tags":
        through = MemberTag.members.through
        return Q(pk__in=through.objects.filter(membertag_id__in=_ids(cond, "any", path)).values("user_id")), {}
    if field == "points":
        balance = Subquery(
            Account.objects.filter(owner_id=OuterRef("pk"), kind=AccountKind.POINTS).values("balance")[:1]
        )
        name = f"_points_{path.replace('.', '_')}"
        return _range(name, cond, path), {name: Coalesce(balance, Value(0))}
    if field == "last_purchase_days":
        within, not_within = _int(cond, "within", path), _int(cond, "not_within", path)
        days = within if within is not None else not_within
        if days is None:
            raise _bad(path, "within or not_within")
        recent = Exists(Order.objects.filter(user_id=OuterRef("pk"), paid_at__gte=now - timedelta(days=days)))
        return (Q(recent) if within is not None else ~Q(recent)), {}
    if field == "lifetime_spend":
        spend = Subquery(
            Order.objects.filter(user_id=OuterRef("pk"), paid_at__isnull=False)
            .values("user_id")
            .annotate(total=Sum(F("paid_amount") - F("refunded_amount")))
            .values("total")[:1]
        )
        name = f"_spend_{path.replace('.', '_')}"
        return _range(name, cond, path), {name: Coalesce(spend, Value(0))}
    if field in ("bought_product", "bought_category"):
        lookup = "product_id__in" if field == "bought_product" else "category_id__in"
        lines = OrderLine.objects.filter(
            order__user_id=OuterRef("pk"), order__paid_at__isnull=False, **{lookup: _ids(cond, "any", path)}
        )
        return Q(Exists(lines)), {}
    if field == "promoter":
        flag = cond.get("is")
        if not isinstance(flag, bool):
            raise _bad(path, "is: true or false")
        active = Exists(Promoter.objects.filter(user_id=OuterRef("pk"), status=PromoterStatus.ACTIVE))
        return (Q(active) if flag else ~Q(active)), {}
    if field == "registered":
        after, before = _day(cond, "after", path), _day(cond, "before", path)
        if after is None and before is None:
            raise _bad(path, "after or before")
        q = Q()
        if after is not None:
            q &= Q(date_joined__gte=after)
        if before is not None:
            q &= Q(date_joined__lt=before + timedelta(days=1))
        return q, {}
    if field == "group":
        groups = _ids(cond, "any", path)
        joined = Membership.objects.filter(group_id__in=groups, status=MemberStatus.ACTIVE)
        return Q(pk__in=joined.values("user_id")), {}
    if field == "store_distance":
        return _near_store(cond, path), {}
    raise _bad(path, f"field: one of {', '.join(FIELDS)}")


def great_circle_m(lat: float, lng: float, lat_field: str = "latitude", lng_field: str = "longitude") -> Any:
    """Haversine distance in metres from (lat, lng) to each row's point, as a SQL expression."""

    def const(value: float) -> Value:
        return Value(value, output_field=FloatField())

    p1, p2 = Radians(const(lat)), Radians(F(lat_field))
    half_dp = (p2 - p1) / const(2.0)
    half_dl = (Radians(F(lng_field)) - Radians(const(lng))) / const(2.0)
    h = Power(Sin(half_dp), 2) + Cos(p1) * Cos(p2) * Power(Sin(half_dl), 2)
    return const(2 * geo.EARTH_RADIUS_M) * ASin(Sqrt(h))


def _near_store(cond: dict[str, Any], path: str) -> Q:
    store_id = cond.get("store")
    if not isinstance(store_id, int) or isinstance(store_id, bool) or not 0 < store_id < MAX_INT:
        raise _bad(path, "store: a store id")
    store = Store.objects.filter(pk=store_id).values("latitude", "longitude", "delivery_radius_m").first()
    if store is None:
        raise _bad(path, "store: no such store")
    within = _int(cond, "within_m", path)
    radius = store["delivery_radius_m"] if within is None else within
    if not 0 < radius <= MAX_DISTANCE_M:
        raise _bad(path, f"within_m: 1..{MAX_DISTANCE_M}")
    lat, lng = store["latitude"], store["longitude"]
    near = (
        Address.objects.filter(user_id=OuterRef("pk"), latitude__isnull=False, longitude__isnull=False)
        .filter(geo.bounding_box(lat, lng, radius).q())
        .annotate(_distance=great_circle_m(lat, lng))
        # whole metres, as geo.distance_m rounds: a point exactly at the radius is inside
        .filter(_distance__lt=radius + 0.5)
    )
    return Q(Exists(near))


def _rules(rules: Any, path: str, depth: int, now: datetime, counter: list[int]) -> tuple[Q, dict[str, Any]]:
    if not isinstance(rules, dict):
        raise _bad(path, "an object")
    if "field" in rules:
        counter[0] += 1
        if counter[0] > MAX_CONDITIONS:
            raise _bad(path, f"at most {MAX_CONDITIONS} conditions")
        return _condition(rules, path, now)
    if depth > MAX_DEPTH:
        raise _bad(path, f"at most {MAX_DEPTH} levels of nesting")
    op = rules.get("op", "and")
    conditions = rules.get("conditions", [])
    if op not in ("and", "or") or not isinstance(conditions, list):
        raise _bad(path, 'op: "and" or "or", conditions: a list')
    combined = Q()
    annotations: dict[str, Any] = {}
    for index, item in enumerate(conditions):
        q, more = _rules(item, f"{path}.{index}" if path else str(index), depth + 1, now, counter)
        annotations.update(more)
        combined = (combined & q) if op == "and" else (combined | q) if combined else q
    return combined, annotations


def audience(rules: Any, now: datetime | None = None) -> QuerySet[User]:
    """Members the rules select (an empty rule set selects everyone). Raises InvalidInput."""
    q, annotations = _rules({} if rules is None else rules, "", 0, now or timezone.now(), [0])
    return members().annotate(**annotations).filter(q)


def validate(rules: Any) -> None:
    audience(rules)


def count(rules: Any) -> int:
    return audience(rules).count()
