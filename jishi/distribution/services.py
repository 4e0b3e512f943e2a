"""Every change in distribution: rules, promoters and levels, bindings, and commissions on orders.

Commission money (frozen → available → withdrawn, reversed on refund) is ``jishi.commission``'s;
this module decides who earns what on an order line.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jishi.accounts.models import Role, User
from jishi.accounts.services import grant_role
from jishi.commission import services as commission
from jishi.commission.models import CommissionSource, Withdrawal
from jishi.core import audit, local_cache
from jishi.core.errors import Conflict, InvalidInput, NotFound
from jishi.core.money import BP_DENOMINATOR, split_by_rates
from jishi.loyalty.services import award_invitation_points
from jishi.orders.models import Order, OrderStatus
from jishi.orders.pipeline import campaign_pays

from .models import (
    Binding,
    BindingHistory,
    BindingMode,
    BindingSource,
    CommissionRule,
    DistributionSettings,
    JoinMode,
    Promoter,
    PromoterLevel,
    PromoterStatus,
)

MAX_LEVELS = 3  # more than three levels is illegal multi-level marketing in China
DEFAULT_RATES_BP = [1000, 500, 200]
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
PAID_STATUSES = (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.COMPLETED, OrderStatus.REFUNDING)


# --- rules --------------------------------------------------------------------------


_cached: tuple[float, DistributionSettings] | None = None
SETTINGS_TTL_SECONDS = 5.0  # other processes see an operator's change within seconds


def get_settings(*, fresh: bool = False) -> DistributionSettings:
    """The rules, read at most every few seconds per process (every paid order asks)."""
    global _cached
    now = time.monotonic()
    if not fresh and _cached and now - _cached[0] < SETTINGS_TTL_SECONDS:
        return _cached[1]
    row, _created = DistributionSettings.objects.get_or_create(pk=1, defaults={"rates_bp": DEFAULT_RATES_BP})
    _cached = (now, row)
    return row


@local_cache.register
def forget_settings() -> None:
    global _cached
    _cached = None


def validate_settings(data: dict[str, Any]) -> dict[str, Any]:
    """The rules ``data`` would make (merged over the saved row), or InvalidInput naming the field at fault.

    A fourth level or rates above 100% are refused."""
    row = get_settings(fresh=True)
    merged = {**settings_dict(row), **{k: v for k, v in data.items() if v is not None}}
    levels = int(merged["levels"])
    rates = [int(r) for r in merged["rates_bp"]]
    if not 1 <= levels <= MAX_LEVELS:
        raise InvalidInput(_("分销层级最多 3 级"), code="levels_not_allowed", fields={"levels": ["1..3"]})
    if len(rates) < levels or any(not 0 <= r <= BP_DENOMINATOR for r in rates):
        raise InvalidInput(
            _("请为每一级设置 0–100% 的佣金比例"), code="invalid_rates", fields={"rates_bp": ["0..10000"]}
        )
    if sum(rates[:levels]) > BP_DENOMINATOR:
        raise InvalidInput(
            _("各级佣金比例之和不能超过 100%"), code="rates_exceed_total", fields={"rates_bp": [">100%"]}
        )
    if merged["binding"] not in BindingMode.values or merged["join"] not in JoinMode.values:
        raise InvalidInput(code="invalid_mode", fields={"binding": [str(merged["binding"])]})
    if int(merged["binding_days"]) < 1 or int(merged["withdrawal_min"]) < 0:
        raise InvalidInput(code="invalid_number", fields={"binding_days": [">= 1"]})
    if not 0 <= int(merged["withdrawal_fee_bp"]) < BP_DENOMINATOR:
        raise InvalidInput(code="invalid_fee", fields={"withdrawal_fee_bp": ["0..9999"]})
    return merged


def update_settings(actor: User | None, data: dict[str, Any]) -> DistributionSettings:
    """Validate and save the rules (see ``validate_settings``); audited."""
    merged = validate_settings(data)
    rates = [int(r) for r in merged["rates_bp"]]
    row = get_settings(fresh=True)
    for name, value in merged.items():
        setattr(row, name, value)
    row.rates_bp = rates[:MAX_LEVELS]
    row.save()
    forget_settings()
    audit.record(actor, "distribution.settings", "distribution:settings", **settings_dict(row))
    return row


def settings_dict(row: DistributionSettings) -> dict[str, Any]:
    return {
        "enabled": row.enabled,
        "levels": row.levels,
        "rates_bp": list(row.rates_bp),
        "freeze_days": row.freeze_days,
        "binding": row.binding,
        "binding_days": row.binding_days,
        "join": row.join,
        "join_spend": row.join_spend,
        "self_purchase": row.self_purchase,
        "withdrawal_min": row.withdrawal_min,
        "withdrawal_fee_bp": row.withdrawal_fee_bp,
    }


# --- promoters ----------------------------------------------------------------------


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))


def lifetime_spend(user_id: int) -> int:
    agg = Order.objects.filter(user_id=user_id, status__in=PAID_STATUSES).aggregate(
        paid=Sum("paid_amount"), refunded=Sum("refunded_amount")
    )
    return int((agg["paid"] or 0) - (agg["refunded"] or 0))


def _activate(promoter: Promoter) -> None:
    promoter.status = PromoterStatus.ACTIVE
    promoter.approved_at = timezone.now()
    promoter.save(update_fields=["status", "approved_at"])
    grant_role(promoter.user, Role.PROMOTER)


def _create_promoter(user: User) -> Promoter:
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return Promoter.objects.create(user=user, code=_new_code())
        except IntegrityError:
            existing = Promoter.objects.filter(user=user).first()
            if existing:
                return existing
    raise Conflict(code="code_exhausted")


def apply(user: User) -> Promoter:
    """Become a promoter per the join rule: at once, after approval, or past a spend threshold."""
    rules = get_settings()
    promoter = Promoter.objects.filter(user=user).first()
    if promoter and promoter.status in (PromoterStatus.ACTIVE, PromoterStatus.FROZEN, PromoterStatus.PENDING):
        return promoter
    if rules.join == JoinMode.SPEND and lifetime_spend(user.pk) < rules.join_spend:
        raise Conflict(
            _("累计消费未达到成为分销员的门槛"),
            code="spend_threshold_not_met",
            fields={"join_spend": [str(rules.join_spend)]},
        )
    promoter = promoter or _create_promoter(user)
    if rules.join == JoinMode.APPROVAL:
        promoter.status = PromoterStatus.PENDING
        promoter.save(update_fields=["status"])
    else:
        _activate(promoter)
    return promoter


def _get_promoter(promoter_id: int) -> Promoter:
    promoter = Promoter.objects.select_related("user").filter(pk=promoter_id).first()
    if promoter is None:
        raise NotFound()
    return promoter


def review(actor: User, promoter_id: int, action: str, note: str = "") -> Promoter:
    """Operator: approve, reject, freeze or unfreeze a promoter (audited)."""
    promoter = _get_promoter(promoter_id)
    allowed = {
        "approve": {PromoterStatus.PENDING, PromoterStatus.REJECTED},
        "reject": {PromoterStatus.PENDING},
        "freeze": {PromoterStatus.ACTIVE},
        "unfreeze": {PromoterStatus.FROZEN},
    }
    if promoter.status not in allowed[action]:
        raise Conflict(_("分销员当前状态不允许此操作"), code="invalid_transition", fields={"status": [promoter.status]})
    if action in ("approve", "unfreeze"):
        _activate(promoter)
    else:
        promoter.status = PromoterStatus.REJECTED if action == "reject" else PromoterStatus.FROZEN
        promoter.note = note[:200]
        promoter.save(update_fields=["status", "note"])
    audit.record(actor, f"promoter.{action}", f"promoter:{promoter.pk}", note=note)
    return promoter


def set_level(actor: User, promoter_id: int, level_id: int | None) -> Promoter:
    promoter = _get_promoter(promoter_id)
    promoter.level = PromoterLevel.objects.filter(pk=level_id).first() if level_id else None
    if level_id and promoter.level is None:
        raise NotFound(fields={"level_id": [str(level_id)]})
    promoter.save(update_fields=["level"])
    audit.record(actor, "promoter.level", f"promoter:{promoter.pk}", level=level_id)
    return promoter


def qualify_by_spend(user_id: int) -> Promoter | None:
    """Join mode "spend": a buyer whose lifetime spend reaches the threshold becomes a promoter."""
    rules = get_settings()
    if rules.join != JoinMode.SPEND or Promoter.objects.filter(user_id=user_id).exists():
        return None
    if lifetime_spend(user_id) < rules.join_spend:
        return None
    user = User.objects.get(pk=user_id)
    promoter = _create_promoter(user)
    _activate(promoter)
    return promoter


# --- binding ------------------------------------------------------------------------


def active_promoter_by_code(code: str) -> Promoter:
    promoter = Promoter.objects.select_related("user").filter(code=code.strip().upper()).first()
    if promoter is None or promoter.status != PromoterStatus.ACTIVE:
        raise NotFound(_("邀请码无效"), code="invalid_code", fields={"code": [code]})
    return promoter


def _is_valid(binding: Binding | None, now: datetime) -> bool:
    return binding is not None and (binding.expires_at is None or binding.expires_at > now)


def _creates_cycle(buyer_id: int, promoter_user_id: int) -> bool:
    """Would binding buyer → promoter close a loop (buyer already upline of the promoter)?"""
    current: int | None = promoter_user_id
    seen: set[int] = set()
    while current is not None and current not in seen:
        if current == buyer_id:
            return True
        seen.add(current)
        current = Binding.objects.filter(buyer_id=current).values_list("promoter_id", flat=True).first()
    return False


def bind(buyer: User, code: str, source: str = BindingSource.CODE, now: datetime | None = None) -> tuple[Binding, bool]:
    """Bind ``buyer`` to the promoter of ``code`` per the binding mode. Returns (binding, changed)."""
    now = now or timezone.now()
    promoter = active_promoter_by_code(code)
    if promoter.user_id == buyer.pk:
        raise InvalidInput(_("不能绑定自己"), code="self_binding", fields={"code": [code]})
    if _creates_cycle(buyer.pk, promoter.user_id):
        raise InvalidInput(_("不能形成循环绑定"), code="binding_cycle", fields={"code": [code]})
    rules = get_settings()
    expires = now + timedelta(days=rules.binding_days) if rules.binding == BindingMode.DAYS else None
    with transaction.atomic():
        binding = Binding.objects.select_for_update().filter(buyer=buyer).first()
        if binding is None:
            try:
                with transaction.atomic():
                    binding = Binding.objects.create(
                        buyer=buyer, promoter_id=promoter.user_id, source=source, bound_at=now, expires_at=expires
                    )
            except IntegrityError:  # a parallel request bound first; this one follows the rules below
                binding = Binding.objects.select_for_update().get(buyer=buyer)
            else:
                BindingHistory.objects.create(buyer=buyer, promoter_id=promoter.user_id, source=source, action="bound")
                if lifetime_spend(buyer.pk) == 0:  # a new buyer brought in: the inviter earns points
                    award_invitation_points(promoter.user, buyer.pk, now=now)
                return binding, True
        assert binding is not None
        keep = (rules.binding == BindingMode.PERMANENT) or (
            rules.binding == BindingMode.DAYS and _is_valid(binding, now)
        )
        if keep or (binding.promoter_id == promoter.user_id and _is_valid(binding, now)):
            return binding, False
        binding.promoter_id, binding.source, binding.bound_at, binding.expires_at = (
            promoter.user_id,
            source,
            now,
            expires,
        )
        binding.save()
        BindingHistory.objects.create(buyer=buyer, promoter_id=promoter.user_id, source=source, action="rebound")
        return binding, True


def current_promoter_user_id(buyer_id: int, now: datetime | None = None) -> int | None:
    binding = Binding.objects.filter(buyer_id=buyer_id).first()
    if binding is None or not _is_valid(binding, now or timezone.now()):
        return None
    return binding.promoter_id


def current_promoter_user_ids(buyer_ids: Iterable[int], now: datetime | None = None) -> dict[int, int]:
    """``current_promoter_user_id`` of several buyers in one query (buyers without one left out)."""
    now = now or timezone.now()
    rows = Binding.objects.filter(buyer_id__in=list(set(buyer_ids))).only("buyer_id", "promoter_id", "expires_at")
    return {b.buyer_id: b.promoter_id for b in rows if _is_valid(b, now) and b.promoter_id is not None}


def upline(buyer_id: int, rules: DistributionSettings, now: datetime | None = None) -> list[Promoter | None]:
    """Who earns at each level for ``buyer_id`` (None where nobody active does).

    One query walks up to three bindings (buyer → promoter → their promoter → ...)."""
    now = now or timezone.now()
    chain_users: list[int] = []
    if rules.self_purchase and Promoter.objects.filter(user_id=buyer_id, status=PromoterStatus.ACTIVE).exists():
        chain_users.append(buyer_id)
    hops = ["promoter", "promoter__binding__promoter", "promoter__binding__promoter__binding__promoter"]
    row = (
        Binding.objects.filter(buyer_id=buyer_id)
        .values(*(f"{h}_id" for h in hops), "expires_at", *(f"{h[: -len('promoter')]}expires_at" for h in hops[1:]))
        .first()
    )
    if row:
        expiries = [row["expires_at"], *(row[f"{h[: -len('promoter')]}expires_at"] for h in hops[1:])]
        for hop, expires in zip(hops, expiries, strict=True):
            user_id = row[f"{hop}_id"]
            if user_id is None or (expires is not None and expires <= now) or user_id in chain_users:
                break
            chain_users.append(user_id)
    chain_users = chain_users[: rules.levels]
    promoters = {p.user_id: p for p in Promoter.objects.select_related("level").filter(user_id__in=chain_users)}
    return [
        promoters[u] if u in promoters and promoters[u].status == PromoterStatus.ACTIVE else None for u in chain_users
    ]


# --- commission on an order ---------------------------------------------------------


def _rules_for(lines: Sequence[dict[str, Any]]) -> dict[tuple[str, int], CommissionRule]:
    sku_ids = [line["sku_id"] for line in lines if line.get("sku_id")]
    product_ids = [line["product_id"] for line in lines]
    rows = CommissionRule.objects.filter(Q(sku_id__in=sku_ids) | Q(product_id__in=product_ids))
    out: dict[tuple[str, int], CommissionRule] = {}
    for rule in rows:
        if rule.sku_id:
            out[("sku", rule.sku_id)] = rule
        elif rule.product_id:
            out[("product", rule.product_id)] = rule
    return out


def share_earning(promoter: Promoter, product_id: int, sku_id: int | None, price: int) -> int:
    """分享赚: what ``promoter`` earns at level 1 when a buyer they brought pays ``price`` for one
    unit (the same rule, level and shop rates as ``shares_for_order``); 0 when distribution is off."""
    rules = get_settings()
    if not rules.enabled or promoter.status != PromoterStatus.ACTIVE or price <= 0:
        return 0
    overrides = _rules_for([{"sku_id": sku_id, "product_id": product_id}])
    rule = overrides.get(("sku", sku_id or 0)) or overrides.get(("product", product_id))
    level_rates = promoter.level.rates_bp if promoter.level and promoter.level.rates_bp else None
    source = rule.values if rule else (level_rates or rules.rates_bp)
    first = int(source[0]) if source else 0
    if first <= 0:
        return 0
    if rule and rule.fixed:
        return min(first, price)
    return split_by_rates(price, [first])[0]


def shares_for_order(payload: dict[str, Any], rules: DistributionSettings) -> list[commission.Share]:
    """Per line and level: the rate (or fixed amount) × what was actually paid for the line."""
    if not rules.enabled or not campaign_pays(payload.get("meta"), "commission"):
        return []
    chain = upline(payload["user_id"], rules)
    if not any(chain):
        return []
    overrides = _rules_for(payload["lines"])
    shares: list[commission.Share] = []
    for line in payload["lines"]:
        base = int(line["paid_amount"])
        if base <= 0:
            continue
        rule = overrides.get(("sku", line.get("sku_id") or 0)) or overrides.get(("product", line["product_id"]))
        rates: list[int] = []
        for index, promoter in enumerate(chain):
            level_rates = promoter.level.rates_bp if promoter and promoter.level and promoter.level.rates_bp else None
            source = rule.values if rule else (level_rates or rules.rates_bp)
            rates.append(int(source[index]) if index < len(source) else 0)
        if rule and rule.fixed:
            amounts, budget = [], base
            for value in rates:
                amount = min(value * int(line["quantity"]), budget)
                amounts.append(amount)
                budget -= amount
            rate_values: list[int | None] = [None] * len(rates)
        else:
            amounts = split_by_rates(base, rates)
            rate_values = list(rates)
        for index, (promoter, amount) in enumerate(zip(chain, amounts, strict=True)):
            if promoter is None or amount <= 0:
                continue
            shares.append(
                commission.Share(
                    beneficiary_id=promoter.user_id,
                    level=index + 1,
                    line_id=line["line_id"],
                    product_id=line["product_id"],
                    base_amount=base,
                    amount=amount,
                    rate_bp=rate_values[index],
                )
            )
    return shares


def settle_paid_order(payload: dict[str, Any]) -> int:
    """order.paid: bind by the order's referral code if the mode allows, then grant commissions."""
    rules = get_settings()
    ref = (payload.get("meta") or {}).get("ref")
    if ref:
        buyer = User.objects.get(pk=payload["user_id"])
        try:
            with transaction.atomic():
                bind(buyer, str(ref), BindingSource.ORDER)
        except (InvalidInput, NotFound):
            pass  # a stale or self code on an order never blocks the order
    shares = shares_for_order(payload, rules)
    commission.grant(
        CommissionSource.DISTRIBUTION,
        order_id=payload["order_id"],
        order_number=payload.get("number", ""),
        buyer_id=payload["user_id"],
        shares=shares,
        freeze_days=rules.freeze_days,
    )
    return sum(s.amount for s in shares)


# --- promoter levels ----------------------------------------------------------------


def promoter_stats(user_id: int) -> dict[str, int]:
    orders = Order.objects.filter(user_id=user_id, status__in=PAID_STATUSES).count()
    return {
        "spend": lifetime_spend(user_id),
        "orders": orders,
        "team": Binding.objects.filter(promoter_id=user_id).count(),
        "commission": commission.earned_total(user_id, CommissionSource.DISTRIBUTION),
    }


def _meets(level: PromoterLevel, stats: dict[str, int]) -> bool:
    checks = [
        (level.min_spend, stats["spend"]),
        (level.min_orders, stats["orders"]),
        (level.min_team, stats["team"]),
        (level.min_commission, stats["commission"]),
    ]
    wanted = [have >= need for need, have in checks if need > 0]
    if not wanted:
        return True
    return all(wanted) if level.match_all else any(wanted)


def evaluate_levels(user_ids: Sequence[int] | None = None) -> int:
    """Upgrade promoters to the highest level they qualify for (never downgrades)."""
    levels = list(PromoterLevel.objects.order_by("-rank"))
    if not levels:
        return 0
    rows = Promoter.objects.select_related("level").filter(status=PromoterStatus.ACTIVE)
    if user_ids is not None:
        rows = rows.filter(user_id__in=list(user_ids))
    upgraded = 0
    for promoter in rows:
        stats = promoter_stats(promoter.user_id)
        current_rank = promoter.level.rank if promoter.level else -1
        for level in levels:
            if level.rank <= current_rank:
                break
            if _meets(level, stats):
                Promoter.objects.filter(pk=promoter.pk).update(level=level)
                upgraded += 1
                break
    return upgraded


# --- promoter centre ----------------------------------------------------------------


def team_counts(user_id: int, levels: int = MAX_LEVELS) -> dict[str, int]:
    counts: dict[str, int] = {}
    current = [user_id]
    for level in range(1, levels + 1):
        members = list(Binding.objects.filter(promoter_id__in=current).values_list("buyer_id", flat=True))
        counts[str(level)] = len(members)
        current = members
    return counts


def team_members(user_id: int, level: int, limit: int = 50, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """Members at ``level`` below me: nickname, masked phone, join date — nothing private."""
    current = [user_id]
    for _level in range(level - 1):
        current = list(Binding.objects.filter(promoter_id__in=current).values_list("buyer_id", flat=True))
    rows = Binding.objects.filter(promoter_id__in=current).select_related("buyer").order_by("-bound_at")
    total = rows.count()
    return [
        {"nickname": b.buyer.nickname, "phone": commission.mask_phone(b.buyer.phone or ""), "bound_at": b.bound_at}
        for b in rows[offset : offset + limit]
    ], total


def centre(user: User) -> dict[str, Any]:
    promoter = Promoter.objects.select_related("level").filter(user=user).first()
    money = commission.totals(user.pk)
    return {
        "code": promoter.code if promoter else "",
        "status": promoter.status if promoter else "none",
        "level": promoter.level.name if promoter and promoter.level else "",
        "frozen": money["frozen"],
        "available": money["available"],
        "withdrawn": money["withdrawn"],
        "withdrawing": money["withdrawing"],
        "debt": money["debt"],
        "team": team_counts(user.pk, get_settings().levels),
    }


def request_withdrawal(user: User, amount: int, channel: str, account: str = "") -> Withdrawal:
    if not Promoter.objects.filter(user=user).exists():
        raise NotFound(_("还不是分销员"), code="not_promoter")
    rules = get_settings()
    return commission.request_withdrawal(
        user, amount, channel, account, minimum=rules.withdrawal_min, fee_bp=rules.withdrawal_fee_bp
    )


def leaderboard(days: int = 30, limit: int = 20) -> list[dict[str, Any]]:
    since = timezone.now() - timedelta(days=days) if days else None
    return commission.leaderboard(CommissionSource.DISTRIBUTION, since, limit)


def binding_lookup(phone: str) -> dict[str, Any]:
    user = User.objects.filter(phone=phone).first()
    if user is None:
        raise NotFound(fields={"phone": [phone]})
    binding = Binding.objects.select_related("promoter").filter(buyer=user).first()
    history = BindingHistory.objects.filter(buyer=user).select_related("promoter").order_by("-id")[:50]
    return {
        "buyer": user.phone,
        "promoter": binding.promoter.phone if binding else None,
        "bound_at": binding.bound_at if binding else None,
        "expires_at": binding.expires_at if binding else None,
        "history": [
            {"promoter": h.promoter.phone, "source": h.source, "action": h.action, "at": h.created_at} for h in history
        ],
        "team": team_counts(user.pk),
    }
