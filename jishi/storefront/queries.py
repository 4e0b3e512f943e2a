"""Read helpers for the storefront pages: browsing, the cart, my orders and payments.

Product lists go through ``jishi.catalog.api.product_page`` and details through
``jishi.catalog.api.detail``, so the pages show exactly what the REST API shows. The
buyer's own rows (cart, orders, payments) are always filtered by the buyer: another
buyer's id is a 404, never a leak.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, OuterRef, Prefetch, Subquery, prefetch_related_objects
from django.http import Http404
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from jishi.accounts.models import User
from jishi.catalog import api as catalog_api
from jishi.catalog import services as catalog
from jishi.catalog.availability import sellable
from jishi.catalog.models import Category, ProductImage, ProductStatus, Sku
from jishi.core.errors import NotFound
from jishi.orders import services as order_services
from jishi.orders.models import AfterSale, AfterSaleLine, CartLine, Order, OrderLine, OrderStatus
from jishi.payments.models import Payment, PaymentMethod
from jishi.payments.providers import available_providers

PAGE_SIZE = 20
MAX_PAGE = 10_000
QUERY_MAX_LENGTH = 64


@dataclass(frozen=True)
class GridPage:
    """One page of product cards (dicts shaped like ``catalog.api.card``)."""

    items: list[dict[str, Any]]
    count: int
    number: int
    page_size: int = PAGE_SIZE
    params: dict[str, str] = field(default_factory=dict)

    @property
    def has_next(self) -> bool:
        return self.number * self.page_size < self.count

    @property
    def next_query(self) -> str:
        """The query string of the next page, keeping the search words."""
        return urlencode({**self.params, "page": str(self.number + 1)})


def page_number(raw: str | None) -> int:
    """A page number from the query string; anything odd means the first page."""
    try:
        number = int(raw or 1)
    except ValueError:
        return 1
    return min(max(number, 1), MAX_PAGE)


def clean_query(raw: str | None) -> str:
    return (raw or "").strip()[:QUERY_MAX_LENGTH]


def product_grid(*, number: int = 1, category_id: int | None = None, q: str | None = None) -> GridPage:
    """Published products, newest/sorted first, or best match first when ``q`` is given."""
    offset = (number - 1) * PAGE_SIZE
    page = catalog_api.product_page(q or None, category_id, PAGE_SIZE, offset)
    params = {"q": q} if q else {}
    return GridPage(
        items=page["items"],
        count=page["count"],
        number=number,
        page_size=PAGE_SIZE,
        params=params,
    )


def top_categories() -> list[Category]:
    return list(Category.objects.filter(is_active=True, parent__isnull=True))


def category_tree() -> list[Category]:
    """Active top-level categories, each with its active children prefetched as ``subs``."""
    subs = Prefetch("children", queryset=Category.objects.filter(is_active=True), to_attr="subs")
    return list(Category.objects.filter(is_active=True, parent__isnull=True).prefetch_related(subs))


def active_category(category_id: int) -> Category:
    category = Category.objects.select_related("parent").filter(pk=category_id, is_active=True).first()
    if category is None:
        raise Http404
    return category


def subcategories(category: Category) -> list[Category]:
    return list(category.children.filter(is_active=True))


def product_detail(product_id: int) -> dict[str, Any]:
    """The API detail of a published product, with each SKU's spec text; 404 otherwise."""
    try:
        product = catalog.get_product(product_id, published_only=True)
    except NotFound as exc:
        raise Http404 from exc
    prefetch_related_objects(
        [product], "skus", Prefetch("images", queryset=ProductImage.objects.order_by("sort", "id"))
    )
    data = catalog_api.detail(product)
    for sku in data["skus"]:
        sku["label"] = " / ".join(str(v) for v in sku["specs"].values())
    data["stock"] = sum(max(sku["stock"], 0) for sku in data["skus"])
    data["category_name"] = product.category.name
    data["description_html"] = product.description_html  # sanitised rich text, or plain text's line breaks
    return data


# --- the cart -----------------------------------------------------------------------


def first_image_name() -> Subquery:
    """The storage name of a product's first image, for ``annotate`` on rows with a ``sku``."""
    images = ProductImage.objects.filter(product=OuterRef("sku__product_id")).order_by("sort", "id")
    return Subquery(images.values("image")[:1])


def spec_text(specs: dict[str, Any] | None) -> str:
    return " / ".join(str(v) for v in (specs or {}).values())


@dataclass(frozen=True)
class CartRow:
    sku_id: int
    product_id: int
    name: str
    specs: str
    image: str
    price: int
    quantity: int
    selected: bool
    stock: int
    problem: str  # why the line cannot be bought now; "" when it can

    @property
    def total(self) -> int:
        return self.price * self.quantity

    @property
    def available(self) -> bool:
        return not self.problem


@dataclass(frozen=True)
class CartView:
    rows: list[CartRow]

    @property
    def selected_rows(self) -> list[CartRow]:
        return [row for row in self.rows if row.selected]

    @property
    def selected_amount(self) -> int:
        return sum(row.total for row in self.selected_rows)

    @property
    def selected_count(self) -> int:
        return sum(row.quantity for row in self.selected_rows)

    @property
    def blocked(self) -> bool:
        """A selected line cannot be bought: checkout would refuse the whole cart."""
        return any(not row.available for row in self.selected_rows)


def _cart_problem(line: CartLine, stock: int) -> str:
    if not line.sku.is_active or line.sku.product.status != ProductStatus.PUBLISHED:
        return str(_("已下架"))
    if stock <= 0:
        return str(_("已售罄"))
    if stock < line.quantity:
        return str(_("库存仅剩 %(n)s 件") % {"n": stock})
    return ""


def cart_view(user: User) -> CartView:
    """The buyer's cart lines with image, spec text, current price and stock: two queries."""
    lines = list(
        CartLine.objects.filter(user=user).select_related("sku__product").annotate(first_image=first_image_name())
    )
    stock = sellable(line.sku_id for line in lines)
    rows = [
        CartRow(
            sku_id=line.sku_id,
            product_id=line.sku.product_id,
            name=line.sku.product.name,
            specs=spec_text(line.sku.specs),
            image=getattr(line, "first_image", None) or "",
            price=line.sku.price,
            quantity=line.quantity,
            selected=line.selected,
            stock=stock[line.sku_id],
            problem=_cart_problem(line, stock[line.sku_id]),
        )
        for line in lines
    ]
    return CartView(rows)


def sku_product_id(sku_id: int | None) -> int | None:
    """The product a SKU belongs to (published or not), to send the buyer back to its page."""
    if not sku_id:
        return None
    return Sku.objects.filter(pk=sku_id).values_list("product_id", flat=True).first()


# --- my orders ----------------------------------------------------------------------

ORDERS_PAGE_SIZE = 10

# (query value, label, statuses); "" is every order.
ORDER_TABS: tuple[tuple[str, Any, tuple[str, ...]], ...] = (
    ("", _("全部"), ()),
    ("pending_payment", _("待付款"), (OrderStatus.PENDING_PAYMENT,)),
    ("paid", _("待发货"), (OrderStatus.PAID,)),
    ("shipped", _("已发货"), (OrderStatus.SHIPPED,)),
    ("completed", _("已完成"), (OrderStatus.COMPLETED,)),
    ("after_sale", _("售后"), (OrderStatus.REFUNDING, OrderStatus.REFUNDED)),
)


def order_tab(raw: str | None) -> str:
    return raw if raw in {key for key, _label, _statuses in ORDER_TABS} else ""


@dataclass(frozen=True)
class OrderListPage:
    items: list[Order]
    count: int
    number: int
    tab: str
    page_size: int = ORDERS_PAGE_SIZE

    @property
    def has_next(self) -> bool:
        return self.number * self.page_size < self.count

    @property
    def next_query(self) -> str:
        params = {"status": self.tab} if self.tab else {}
        return urlencode({**params, "page": str(self.number + 1)})


def _lines_prefetch() -> Prefetch:
    return Prefetch("lines", queryset=OrderLine.objects.order_by("id"))


def my_orders(user: User, tab: str, number: int = 1) -> OrderListPage:
    """One page of the buyer's orders in a tab, newest first, lines prefetched (three queries)."""
    statuses = dict((key, s) for key, _label, s in ORDER_TABS)[tab]
    rows = Order.objects.filter(user=user)
    if statuses:
        rows = rows.filter(status__in=statuses)
    offset = (number - 1) * ORDERS_PAGE_SIZE
    items = list(rows.prefetch_related(_lines_prefetch())[offset : offset + ORDERS_PAGE_SIZE])
    return OrderListPage(items=items, count=rows.count(), number=number, tab=tab, page_size=ORDERS_PAGE_SIZE)


def order_counts(user: User) -> dict[str, int]:
    """How many of the buyer's orders sit in each tab (one query), for badges on "me"."""
    # order_by() drops Meta.ordering, which would otherwise split the groups by id.
    rows = Order.objects.filter(user=user).order_by().values("status").annotate(n=Count("id"))
    by_status = {row["status"]: row["n"] for row in rows}
    return {key: sum(by_status.get(s, 0) for s in statuses) for key, _label, statuses in ORDER_TABS if statuses}


def my_order(user: User, order_id: int) -> Order:
    """The buyer's own order with lines and after-sales cases; anyone else's is a 404."""
    cases = Prefetch(
        "after_sales",
        queryset=AfterSale.objects.order_by("-id").prefetch_related(
            Prefetch("lines", queryset=AfterSaleLine.objects.order_by("id"))
        ),
    )
    order = Order.objects.filter(user=user, pk=order_id).prefetch_related(_lines_prefetch(), cases).first()
    if order is None:
        raise Http404
    return order


def after_sale_open(order: Order, now: datetime | None = None) -> bool:
    """May the buyer ask for a refund now: right status, within the window, something left."""
    if order.status not in (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.COMPLETED):
        return False
    if not order_services.within_after_sale_window(order, now):
        return False
    # Something paid is left, or (a points-only order) units cost no money and can still go back.
    return order.refunded_amount < order.paid_amount or order.paid_amount == 0


@dataclass(frozen=True)
class OrderActions:
    pay: bool
    cancel: bool
    confirm: bool
    after_sale: bool
    remind: bool = False  # 提醒发货: paid, not shipped yet
    track: bool = False  # 查看物流: shipped with a tracking number
    rebuy: bool = False  # 再来一单: any order that was placed and paid
    review: bool = False  # 评价: completed

    @property
    def any(self) -> bool:
        return any((self.pay, self.cancel, self.confirm, self.after_sale, self.remind, self.track, self.rebuy))


def order_actions(order: Order, now: datetime | None = None) -> OrderActions:
    now = now or timezone.now()
    pending = order.status == OrderStatus.PENDING_PAYMENT
    return OrderActions(
        pay=pending and (order.pay_deadline is None or order.pay_deadline > now),
        cancel=pending,
        confirm=order.status == OrderStatus.SHIPPED,
        after_sale=after_sale_open(order, now),
        remind=order.status == OrderStatus.PAID,
        track=bool(order.tracking_number) and order.status in (OrderStatus.SHIPPED, OrderStatus.COMPLETED),
        rebuy=order.status not in (OrderStatus.PENDING_PAYMENT,) and not order.meta.get("campaign"),
        review=order.status == OrderStatus.COMPLETED,
    )


def payment_method_label(method: str) -> str:
    return str(dict(PaymentMethod.choices).get(method, method))


# --- after-sales --------------------------------------------------------------------


@dataclass(frozen=True)
class RefundableLine:
    line: OrderLine
    remaining: int  # units not yet refunded
    room: int  # what refunding all of them may return


def refundable_lines(order: Order) -> list[RefundableLine]:
    out = []
    for line in order.lines.all():
        remaining = line.quantity - line.refunded_quantity
        if remaining > 0:
            out.append(RefundableLine(line, remaining, line.paid_amount - line.refunded_amount))
    return out


def refund_room(order: Order, wanted: dict[int, int]) -> int:
    """The most a case over ``wanted`` ({line_id: quantity}) may refund, by the orders rule."""
    return order_services.max_refundable(order, wanted)


# --- payments -----------------------------------------------------------------------


def my_sandbox_payment(user: User, payment_no: str) -> Payment:
    payment = (
        Payment.objects.select_related("order")
        .filter(payment_no=payment_no, user=user, method=PaymentMethod.SANDBOX)
        .first()
    )
    if payment is None:
        raise Http404
    return payment


def payment_choices() -> list[str]:
    """What the pay page offers: the wallet, then the sandbox when it is switched on."""
    methods = [PaymentMethod.WALLET.value]
    if PaymentMethod.SANDBOX.value in available_providers():
        methods.append(PaymentMethod.SANDBOX.value)
    return methods
