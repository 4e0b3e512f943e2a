"""Coupons: templates, claiming and issuing under races, best-combination pricing, use and return."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from jishi.accounts.models import User
from jishi.core import audit, ratelimit
from jishi.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from jishi.core.money import allocate, apply_rate
from jishi.core.sql import CachedQuery, insert_once
from jishi.orders.models import Order
from jishi.orders.pipeline import Checkout, LineInfo

from .conf import mkt_setting
from .models import Coupon, CouponKind, CouponScope, CouponSource, CouponStatus, CouponTemplate

# --- templates ----------------------------------------------------------------------------

TEMPLATE_FIELDS = {
    "name",
    "kind",
    "amount",
    "percent_off_bp",
    "max_discount",
    "min_spend",
    "scope",
    "category_ids",
    "product_ids",
    "valid_from",
    "valid_until",
    "valid_days",
    "claim_starts_at",
    "claim_ends_at",
    "total_quantity",
    "per_person_limit",
    "new_member_only",
    "auto_issue_new_member",
    "claimable",
    "stack_with_coupons",
    "stack_with_activity",
    "is_active",
}


def _check_template(t: CouponTemplate) -> None:
    errors: dict[str, list[str]] = {}
    if t.kind in (CouponKind.FIXED, CouponKind.THRESHOLD) and t.amount <= 0:
        errors["amount"] = [gettext("面额须大于 0")]
    if t.kind == CouponKind.THRESHOLD and t.min_spend <= t.amount:
        errors["min_spend"] = [gettext("满减门槛须大于减免金额")]
    if t.kind == CouponKind.PERCENT and not 0 < t.percent_off_bp < 10_000:
        errors["percent_off_bp"] = [gettext("折扣须在 1 到 9999 基点之间")]
    if t.scope == CouponScope.CATEGORIES and not t.category_ids:
        errors["category_ids"] = [gettext("请选择类目")]
    if t.scope == CouponScope.PRODUCTS and not t.product_ids:
        errors["product_ids"] = [gettext("请选择商品")]
    if not t.valid_days and not t.valid_until:
        errors["valid_until"] = [gettext("请设置有效期或领取后有效天数")]
    if t.valid_from and t.valid_until and t.valid_until <= t.valid_from:
        errors["valid_until"] = [gettext("失效时间须晚于生效时间")]
    if t.per_person_limit < 1:
        errors["per_person_limit"] = [gettext("至少 1 张")]
    if t.total_quantity < max(t.issued, 1):
        errors["total_quantity"] = [gettext("发行总量不能少于已发放数量")]
    if errors:
        raise InvalidInput(code="invalid_coupon_template", fields=errors)


def save_template(actor: Any, data: dict[str, Any], template_id: int | None = None) -> CouponTemplate:
    unknown = set(data) - TEMPLATE_FIELDS
    if unknown:
        raise InvalidInput(fields={name: [gettext("未知字段")] for name in sorted(unknown)})
    with transaction.atomic():
        if template_id is None:
            template = CouponTemplate(**data)
        else:
            found = CouponTemplate.objects.select_for_update().filter(pk=template_id).first()
            if found is None:
                raise NotFound()
            template = found
            for name, value in data.items():
                setattr(template, name, value)
        _check_template(template)
        template.save()
        audit.record(actor, "coupon_template.save", f"coupon_template:{template.pk}", **_jsonable(data))
    return template


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in data.items()}


# --- audiences ----------------------------------------------------------------------------

# name → rule(user_id, templates of that audience) → the ids among them the user belongs to.
AudienceRule = Callable[[int, Sequence[CouponTemplate]], set[int]]
_audiences: dict[str, AudienceRule] = {}


def register_audience(name: str, rule: AudienceRule) -> None:
    """Let a higher app restrict coupons to people it knows (community: members of a group),
    without marketing knowing what a group is. A template names its rule in ``audience``."""
    _audiences[name] = rule


def eligible_templates(user_id: int | None, templates: Iterable[CouponTemplate]) -> set[int]:
    """The ids of ``templates`` that ``user_id`` may see, claim and use: every open template, and
    each restricted one whose rule admits the user (an unregistered rule admits nobody)."""
    allowed: set[int] = set()
    restricted: dict[str, list[CouponTemplate]] = defaultdict(list)
    for template in templates:
        if not template.audience:
            allowed.add(template.pk)
        elif user_id is not None:
            restricted[template.audience].append(template)
    for name, group in restricted.items():
        rule = _audiences.get(name)
        if rule is not None:
            allowed |= rule(user_id, group) & {t.pk for t in group}  # type: ignore[arg-type]
    return allowed


class CouponNotEligible(Forbidden):
    code = "coupon_not_eligible"
    default_message = _("该优惠券仅限指定人群领取和使用")


def set_audience(actor: Any, template_id: int, audience: str) -> CouponTemplate:
    """Restrict a template to a registered audience ('' opens it to everyone again)."""
    if audience and audience not in _audiences:
        raise InvalidInput(fields={"audience": sorted(_audiences)})
    if not CouponTemplate.objects.filter(pk=template_id).update(audience=audience):
        raise NotFound(code="coupon_template_not_found")
    audit.record(actor, "coupon_template.audience", f"coupon_template:{template_id}", audience=audience)
    return CouponTemplate.objects.get(pk=template_id)


# --- issuing ------------------------------------------------------------------------------


class CouponSoldOut(Conflict):
    code = "coupon_sold_out"
    default_message = _("优惠券已领完")


class CouponLimitReached(Conflict):
    code = "coupon_limit_reached"
    default_message = _("已达到领取上限")


def is_new_member(user: User) -> bool:
    """A new member has never paid an order."""
    return not Order.objects.filter(user=user, paid_at__isnull=False).exists()


def _validity(template: CouponTemplate, now: datetime) -> tuple[datetime, datetime]:
    if template.valid_days:
        start = max(now, template.valid_from) if template.valid_from else now
        return start, start + timedelta(days=template.valid_days)
    assert template.valid_until is not None
    return template.valid_from or now, template.valid_until


def _issue(template: CouponTemplate, user: User, source: str, now: datetime) -> Coupon:
    """One coupon, or CouponSoldOut / CouponLimitReached; nothing written on failure.

    The total is a conditional update on the template's counter; the per-person limit is the
    unique (template, user, seq) row: two racing claims for the same seq insert one row.
    """
    valid_from, valid_until = _validity(template, now)
    with transaction.atomic():
        held = Coupon.objects.filter(template=template, user=user).count()
        if held >= template.per_person_limit:
            raise CouponLimitReached()
        taken = CouponTemplate.objects.filter(pk=template.pk, is_active=True, issued__lt=F("total_quantity")).update(
            issued=F("issued") + 1
        )
        if not taken:
            raise CouponSoldOut()
        coupon_id = insert_once(
            Coupon,
            {
                "template": template.pk,
                "user": user.pk,
                "seq": held + 1,
                "status": CouponStatus.UNUSED,
                "source": source,
                "valid_from": valid_from,
                "valid_until": valid_until,
                "claimed_at": now,
            },
            conflict=["template", "user", "seq"],
        )
        if coupon_id is None:  # a concurrent claim by the same buyer took this seq
            raise CouponLimitReached()
    return Coupon(
        pk=coupon_id,
        template=template,
        user=user,
        seq=held + 1,
        status=CouponStatus.UNUSED,
        source=source,
        valid_from=valid_from,
        valid_until=valid_until,
        claimed_at=now,
    )


def _claimable_now(template: CouponTemplate, now: datetime) -> str | None:
    """Why ``template`` cannot be claimed at ``now`` (an error code), or None."""
    if not template.is_active or not template.claimable:
        return "coupon_not_claimable"
    if template.claim_starts_at and now < template.claim_starts_at:
        return "coupon_claim_not_started"
    if template.claim_ends_at and now >= template.claim_ends_at:
        return "coupon_claim_ended"
    if not template.valid_days and template.valid_until and now >= template.valid_until:
        return "coupon_claim_ended"
    return None


def claim(user: User, template_id: int, now: datetime | None = None) -> Coupon:
    now = now or timezone.now()
    ratelimit.check(f"coupon-claim:{user.pk}", mkt_setting("COUPON_CLAIMS_PER_MINUTE"), 60)
    template = CouponTemplate.objects.filter(pk=template_id).first()
    if template is None or not template.is_active:
        raise NotFound(code="coupon_template_not_found")
    problem = _claimable_now(template, now)
    if problem:
        raise Conflict(_("该优惠券当前不可领取"), code=problem)
    if template.audience and template.pk not in eligible_templates(user.pk, [template]):
        raise CouponNotEligible()
    if template.new_member_only and not is_new_member(user):
        raise Conflict(_("仅限新人领取"), code="coupon_new_member_only")
    return _issue(template, user, CouponSource.CLAIM, now)


def issue_to_segment(
    actor: Any, template_id: int, user_ids: Iterable[int], now: datetime | None = None
) -> dict[str, int]:
    """Operator issue: one coupon to each buyer, within the total and each buyer's limit."""
    now = now or timezone.now()
    template = CouponTemplate.objects.filter(pk=template_id).first()
    if template is None:
        raise NotFound(code="coupon_template_not_found")
    users = list(User.objects.filter(pk__in=set(user_ids)).order_by("pk"))
    issued = skipped = 0
    sold_out = False
    for user in users:
        if sold_out or (template.audience and template.pk not in eligible_templates(user.pk, [template])):
            skipped += 1
            continue
        try:
            _issue(template, user, CouponSource.ISSUE, now)
            issued += 1
        except CouponSoldOut:
            sold_out = True
            skipped += 1
        except CouponLimitReached:
            skipped += 1
    audit.record(actor, "coupon.issue_to_segment", f"coupon_template:{template.pk}", issued=issued, skipped=skipped)
    return {"issued": issued, "skipped": skipped}


def ensure_new_member_coupons(user: User, now: datetime | None = None) -> int:
    """New-member gifts, issued lazily the first time a new member looks at coupons."""
    now = now or timezone.now()
    templates = [
        t
        for t in CouponTemplate.objects.filter(is_active=True, auto_issue_new_member=True, audience="").exclude(
            coupons__user=user
        )
        if _claimable_now_for_gift(t, now)
    ]
    if not templates or not is_new_member(user):
        return 0
    issued = 0
    for template in templates:
        try:
            _issue(template, user, CouponSource.NEW_MEMBER, now)
            issued += 1
        except (CouponSoldOut, CouponLimitReached):
            continue
    return issued


def _claimable_now_for_gift(template: CouponTemplate, now: datetime) -> bool:
    if template.claim_ends_at and now >= template.claim_ends_at:
        return False
    return not (not template.valid_days and template.valid_until and now >= template.valid_until)


# --- reading ------------------------------------------------------------------------------


@dataclass
class Offer:
    template: CouponTemplate
    held: int
    problem: str | None

    @property
    def can_claim(self) -> bool:
        return self.problem is None


def available(user: User | None, now: datetime | None = None) -> list[Offer]:
    """The coupon centre: templates claimable now, with how many the buyer holds."""
    now = now or timezone.now()
    rows = CouponTemplate.objects.filter(is_active=True, claimable=True).filter(
        Q(claim_starts_at__isnull=True) | Q(claim_starts_at__lte=now),
        Q(claim_ends_at__isnull=True) | Q(claim_ends_at__gt=now),
        Q(valid_days__gt=0) | Q(valid_until__gt=now),
    )
    held: dict[int, int] = {}
    new_member = True
    if user is not None:
        held = dict(
            Coupon.objects.filter(user=user, template__in=rows)
            .values("template_id")
            .annotate(n=Count("id"))
            .values_list("template_id", "n")
        )
        new_member = is_new_member(user)
    templates = list(rows.order_by("-id"))
    visible = eligible_templates(user.pk if user is not None else None, templates)
    offers = []
    for template in templates:
        if template.pk not in visible:
            continue  # restricted to an audience the buyer is not in: not even shown
        n = held.get(template.pk, 0)
        problem = None
        if template.issued >= template.total_quantity:
            problem = "coupon_sold_out"
        elif n >= template.per_person_limit:
            problem = "coupon_limit_reached"
        elif template.new_member_only and not new_member:
            problem = "coupon_new_member_only"
        offers.append(Offer(template, n, problem))
    return offers


def effective_status(coupon: Coupon, now: datetime) -> str:
    if coupon.status == CouponStatus.UNUSED and coupon.valid_until <= now:
        return CouponStatus.EXPIRED
    return coupon.status


def mine(user: User, status: str | None = None, now: datetime | None = None) -> list[Coupon]:
    now = now or timezone.now()
    rows = Coupon.objects.filter(user=user).select_related("template")
    if status == CouponStatus.UNUSED:
        rows = rows.filter(status=CouponStatus.UNUSED, valid_until__gt=now)
    elif status == CouponStatus.EXPIRED:
        rows = rows.filter(Q(status=CouponStatus.EXPIRED) | Q(status=CouponStatus.UNUSED, valid_until__lte=now))
    elif status == CouponStatus.USED:
        rows = rows.filter(status=CouponStatus.USED)
    return list(rows.order_by("valid_until", "id")[:200])


def describe(template: CouponTemplate) -> str:
    """A short human rule: ``满100减20``, ``8.5折 最高减50``, ``立减10``."""
    yuan = lambda fen: f"{fen / 100:g}"  # noqa: E731
    if template.kind == CouponKind.THRESHOLD:
        return gettext("满%(a)s减%(b)s") % {"a": yuan(template.min_spend), "b": yuan(template.amount)}
    if template.kind == CouponKind.PERCENT:
        text = gettext("%(d)s折") % {"d": f"{(10_000 - template.percent_off_bp) / 1000:g}"}
        if template.max_discount:
            text += " " + gettext("最高减%(m)s") % {"m": yuan(template.max_discount)}
        if template.min_spend:
            text = gettext("满%(a)s") % {"a": yuan(template.min_spend)} + " " + text
        return text
    text = gettext("立减%(b)s") % {"b": yuan(template.amount)}
    if template.min_spend:
        text = gettext("满%(a)s") % {"a": yuan(template.min_spend)} + text
    return text


# --- pricing at checkout ------------------------------------------------------------------

KIND_ORDER: dict[str, int] = {CouponKind.THRESHOLD: 0, CouponKind.FIXED: 1, CouponKind.PERCENT: 2}


@dataclass
class Use:
    coupon: Coupon
    line_indexes: list[int]
    amount: int


def _eligible(template: CouponTemplate, lines: Sequence[LineInfo]) -> list[int]:
    out = []
    for i, line in enumerate(lines):
        if line.meta.get("activity") and not template.stack_with_activity:
            continue
        if template.scope == CouponScope.CATEGORIES and line.category_id not in template.category_ids:
            continue
        if template.scope == CouponScope.PRODUCTS and line.product_id not in template.product_ids:
            continue
        out.append(i)
    return out


def simulate(lines: Sequence[LineInfo], coupons: Sequence[Coupon]) -> tuple[int, list[Use], str | None]:
    """Apply ``coupons`` in a fixed order on a copy of what each line still costs.

    Thresholds are met on what the eligible lines cost before any coupon; a percentage
    coupon works on what is left after the amount coupons. Returns (total, uses, problem).
    """
    remaining = [line.paid_amount for line in lines]
    uses: list[Use] = []
    ordered = sorted(coupons, key=lambda c: (KIND_ORDER[c.template.kind], -c.template.amount, c.pk))
    for coupon in ordered:
        t = coupon.template
        idx = _eligible(t, lines)
        if not idx:
            return 0, [], "coupon_not_applicable"
        base = sum(lines[i].paid_amount for i in idx)
        if base < t.min_spend:
            return 0, [], "coupon_threshold_not_met"
        room = sum(remaining[i] for i in idx)
        if t.kind == CouponKind.PERCENT:
            value = apply_rate(room, t.percent_off_bp)
            if t.max_discount:
                value = min(value, t.max_discount)
        else:
            value = t.amount
        amount = min(value, room)
        if amount <= 0:
            return 0, [], "coupon_not_applicable"
        for i, part in zip(idx, allocate(amount, [remaining[i] for i in idx]), strict=True):
            remaining[i] -= part
        uses.append(Use(coupon, idx, amount))
    return sum(u.amount for u in uses), uses, None


def _usable(coupon: Coupon, user: Any, now: datetime) -> str | None:
    if coupon.user_id != getattr(user, "pk", None):
        return "coupon_not_found"
    if coupon.status == CouponStatus.USED:
        return "coupon_used"
    if coupon.status == CouponStatus.EXPIRED or coupon.valid_until <= now:
        return "coupon_expired"
    if coupon.valid_from > now:
        return "coupon_not_started"
    if not coupon.template.is_active:
        return "coupon_disabled"
    return None


def best_combination(lines: Sequence[LineInfo], coupons: Sequence[Coupon]) -> list[Use]:
    """The largest discount: each non-stackable coupon alone, or a set of stackable ones.

    Only the ``COUPON_AUTO_CANDIDATES`` best coupons (by value alone) are combined, so the
    search stays small whatever a buyer holds.
    """
    one_per_template: dict[int, Coupon] = {}
    for coupon in sorted(coupons, key=lambda c: (c.valid_until, c.pk)):  # soonest to expire first
        one_per_template.setdefault(coupon.template_id, coupon)
    alone = []
    for coupon in one_per_template.values():
        total, _uses, problem = simulate(lines, [coupon])
        if problem is None:
            alone.append((total, coupon))
    alone.sort(key=lambda tc: (-tc[0], tc[1].valid_until, tc[1].pk))
    candidates = [c for _t, c in alone[: mkt_setting("COUPON_AUTO_CANDIDATES")]]
    best: tuple[int, int, list[Use]] = (0, 0, [])
    for coupon in candidates:
        if not coupon.template.stack_with_coupons:
            total, uses, _p = simulate(lines, [coupon])
            if total > best[0]:
                best = (total, -1, uses)
    stackable = [c for c in candidates if c.template.stack_with_coupons]
    for size in range(1, min(len(stackable), mkt_setting("COUPON_MAX_PER_ORDER")) + 1):
        for combo in itertools.combinations(stackable, size):
            total, uses, problem = simulate(lines, combo)
            if problem is None and (total, -size) > best[:2]:
                best = (total, -size, uses)
    return best[2]


def _invalid(problems: list[tuple[int, str]]) -> InvalidInput:
    return InvalidInput(
        _("优惠券不可用"),
        code=problems[0][1],
        fields={"coupon_ids": [f"{coupon_id}: {code}" for coupon_id, code in problems]},
    )


def chosen_coupons(checkout: Checkout, ids: list[int], now: datetime) -> list[Use]:
    """Exactly the coupons asked for, or InvalidInput naming each bad one with its code."""
    if len(set(ids)) != len(ids):
        raise _invalid([(i, "coupon_duplicate") for i in ids if ids.count(i) > 1][:1])
    found = {c.pk: c for c in Coupon.objects.filter(user=checkout.user, pk__in=ids).select_related("template")}
    allowed = eligible_templates(checkout.user.pk, [c.template for c in found.values()])
    problems = []
    for coupon_id in ids:
        coupon = found.get(coupon_id)
        problem = "coupon_not_found" if coupon is None else _usable(coupon, checkout.user, now)
        if problem is None and coupon is not None and coupon.template_id not in allowed:
            problem = "coupon_not_eligible"  # e.g. a group's coupon after leaving the group
        if problem:
            problems.append((coupon_id, problem))
    if problems:
        raise _invalid(problems)
    coupons = [found[i] for i in ids]
    if len(coupons) > 1:
        if len(coupons) > mkt_setting("COUPON_MAX_PER_ORDER"):
            raise _invalid([(c.pk, "coupon_too_many") for c in coupons])
        lonely = [(c.pk, "coupon_not_stackable") for c in coupons if not c.template.stack_with_coupons]
        if lonely:
            raise _invalid(lonely)
        templates = [c.template_id for c in coupons]
        same = [(c.pk, "coupon_same_template") for c in coupons if templates.count(c.template_id) > 1]
        if same:
            raise _invalid(same)
    for coupon in coupons:  # name the coupon that does not fit this order
        _t, _u, problem = simulate(checkout.lines, [coupon])
        if problem:
            raise _invalid([(coupon.pk, problem)])
    _total, uses, problem = simulate(checkout.lines, coupons)
    if problem:
        raise _invalid([(c.pk, problem) for c in coupons])
    return uses


# Every checkout that does not name its coupons reads these (see CachedQuery).
_HELD_COUPONS = CachedQuery(
    lambda user_id, now: Coupon.objects.filter(
        user_id=user_id,
        status=CouponStatus.UNUSED,
        valid_until__gt=now,
        valid_from__lte=now,
        template__is_active=True,
    ).select_related("template")[:200],
    user_id=int,
    now=datetime,
)


def apply_to_checkout(checkout: Checkout, now: datetime | None = None) -> None:
    now = now or timezone.now()
    ids = checkout.options.get("coupon_ids")
    if ids is not None and len(ids) == 0:
        return
    if ids is None:
        held = _HELD_COUPONS.objects(user_id=checkout.user.pk, now=now)
        if any(c.template.audience for c in held):
            allowed = eligible_templates(checkout.user.pk, [c.template for c in held])
            held = [c for c in held if c.template_id in allowed]
        uses = best_combination(checkout.lines, held) if held else []
    else:
        uses = chosen_coupons(checkout, [int(i) for i in ids], now)
    applied = []
    for use in uses:
        name = use.coupon.template.name
        given = checkout.add_discount(
            "coupons",
            gettext("优惠券：%(name)s") % {"name": name},
            use.amount,
            [checkout.lines[i] for i in use.line_indexes],
        )
        applied.append({"id": use.coupon.pk, "template_id": use.coupon.template_id, "name": name, "amount": given})
    if applied:
        checkout.meta["coupons"] = applied


def mark_used(checkout: Checkout, order: Order, now: datetime | None = None) -> None:
    """Inside the order's transaction: each coupon flips unused → used once, or the order fails."""
    applied = checkout.meta.get("coupons") or []
    if not applied:
        return
    now = now or timezone.now()
    ids = [c["id"] for c in applied]
    updated = Coupon.objects.filter(
        pk__in=ids, user=checkout.user, status=CouponStatus.UNUSED, valid_until__gt=now
    ).update(status=CouponStatus.USED, order_id=order.pk, used_at=now)
    if updated != len(ids):
        raise Conflict(
            _("优惠券已被使用，请重新下单"), code="coupon_used", fields={"coupon_ids": [str(i) for i in ids]}
        )
    for template_id in sorted({c["template_id"] for c in applied}):
        n = sum(1 for c in applied if c["template_id"] == template_id)
        CouponTemplate.objects.filter(pk=template_id).update(used=F("used") + n)


def return_order_coupons(order_id: int) -> int:
    """An unpaid order closed or a whole order refunded: its coupons go back to the buyer."""
    returned = 0
    with transaction.atomic():
        for coupon in Coupon.objects.filter(order_id=order_id, status=CouponStatus.USED).order_by("pk"):
            if Coupon.objects.filter(pk=coupon.pk, status=CouponStatus.USED, order_id=order_id).update(
                status=CouponStatus.UNUSED, order_id=None, used_at=None
            ):
                CouponTemplate.objects.filter(pk=coupon.template_id, used__gt=0).update(used=F("used") - 1)
                returned += 1
    return returned


def expire_coupons(now: datetime | None = None) -> int:
    now = now or timezone.now()
    return Coupon.objects.filter(status=CouponStatus.UNUSED, valid_until__lte=now).update(status=CouponStatus.EXPIRED)
