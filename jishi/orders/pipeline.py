"""The checkout pipeline: small registered steps turn cart lines into a payable amount.

Each app that changes a price registers its own step (marketing: activity price and
coupons; loyalty: member discount and points), so ``orders`` never imports them. Steps
run in position order; ``apply`` prices, ``commit`` runs inside the order's transaction
(to mark a coupon used, spend points...) and may raise to abort the whole placement.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from jishi.core.money import allocate

if TYPE_CHECKING:
    from .models import Order

ITEM_PRICE, ACTIVITY_PRICE, MEMBER_DISCOUNT, COUPONS, POINTS, SHIPPING = 100, 200, 300, 400, 500, 600


@dataclass
class LineInfo:
    sku_id: int
    product_id: int
    category_id: int
    product_name: str
    specs: dict[str, str]
    image: str
    list_price: int
    quantity: int
    unit_price: int = 0
    discount: int = 0
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def line_total(self) -> int:
        return self.unit_price * self.quantity

    @property
    def paid_amount(self) -> int:
        return self.line_total - self.discount


@dataclass
class Adjustment:
    step: str
    label: str
    amount: int  # negative lowers the payable amount, positive raises it (shipping)
    per_line: list[int] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"step": self.step, "label": self.label, "amount": self.amount, "per_line": self.per_line}


@dataclass
class Checkout:
    """What one checkout is made of, loaded once and passed through the steps.

    The typed fields are what ``orders`` itself acts on (steps set them); ``meta`` is what is
    stored on the order for others to read later (campaign flags, stock mode, holds)."""

    user: Any
    lines: list[LineInfo]
    address: dict[str, Any] | None = None
    options: dict[str, Any] = field(default_factory=dict)
    adjustments: list[Adjustment] = field(default_factory=list)
    shipping_fee: int = 0
    meta: dict[str, Any] = field(default_factory=dict)
    from_cart: bool = False  # the lines are the cart's selected lines: remove them once ordered
    needs_address: bool = True  # False for modes that deliver nothing (in-store pickup, POS)
    location_id: int | None = None  # the stock location to reserve from (default: the warehouse)
    pay_minutes: int | None = None  # how long the order waits for payment (default: ORDER_PAY_MINUTES)
    free_shipping: bool = False  # a step waived shipping (member level, mall item)
    shipping_override: int | None = None  # a fulfilment mode's own fee (pickup: 0), before the flat fee

    @property
    def goods_amount(self) -> int:
        return sum(line.line_total for line in self.lines)

    @property
    def discount_amount(self) -> int:
        return sum(line.discount for line in self.lines)

    @property
    def payable(self) -> int:
        return self.goods_amount - self.discount_amount + self.shipping_fee

    def add_discount(self, step: str, label: str, amount: int, lines: list[LineInfo] | None = None) -> int:
        """Take ``amount`` off ``lines`` (default all), split by what each still costs.

        Never more than the lines still cost; returns the discount actually given.
        """
        targets = lines if lines is not None else self.lines
        room = [line.paid_amount for line in targets]
        amount = min(amount, sum(room))
        if amount <= 0:
            return 0
        parts = allocate(amount, room)
        for line, part in zip(targets, parts, strict=True):
            line.discount += part
        per_line = [0] * len(self.lines)
        for line, part in zip(targets, parts, strict=True):
            per_line[self.lines.index(line)] = part
        self.adjustments.append(Adjustment(step, label, -amount, per_line))
        return amount

    def set_shipping(self, step: str, label: str, fee: int) -> None:
        self.shipping_fee = fee
        self.adjustments.append(Adjustment(step, label, fee))


class Step(Protocol):
    code: str
    position: int

    def apply(self, checkout: Checkout) -> None: ...

    def commit(self, checkout: Checkout, order: Order) -> None: ...


class BaseStep:
    code = "base"
    position = 0

    def apply(self, checkout: Checkout) -> None:
        return None

    def commit(self, checkout: Checkout, order: Order) -> None:
        return None


_steps: dict[str, Step] = {}


def register_step(step: Step) -> Step:
    _steps[step.code] = step
    return step


def unregister_step(code: str) -> None:
    _steps.pop(code, None)


def steps() -> list[Step]:
    return sorted(_steps.values(), key=lambda s: (s.position, s.code))


def price(checkout: Checkout) -> Checkout:
    for step in steps():
        step.apply(checkout)
    return checkout


def commit(checkout: Checkout, order: Order) -> None:
    for step in steps():
        step.commit(checkout, order)


# What an order earns when a campaign sold it (flash, 拼团, bargain, points mall): the campaign
# writes ``meta["campaign"]`` with these flags; an order without a campaign earns everything.
CAMPAIGN_BENEFIT_DEFAULTS = {"commission": False, "points": True}


def campaign_pays(meta: dict[str, Any] | None, benefit: str) -> bool:
    """May an order with this ``meta`` earn ``benefit`` ("commission" or "points")?"""
    campaign = (meta or {}).get("campaign")
    if not campaign:
        return True
    return bool(campaign.get(benefit, CAMPAIGN_BENEFIT_DEFAULTS[benefit]))
