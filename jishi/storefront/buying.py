"""Buying pages: add to cart, the cart, checkout, choosing how to pay, and the sandbox cashier.

Every page calls the orders and payments services directly; a service's refusal
(``DomainError``) becomes a message on the page with the error's 4xx status, never a 500.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jishi.accounts import services as accounts
from jishi.accounts.models import Address, User
from jishi.catalog.models import Sku
from jishi.core.errors import DomainError, InvalidInput
from jishi.inventory.services import OutOfStock
from jishi.orders import services as orders
from jishi.orders.models import OrderStatus
from jishi.orders.pipeline import Checkout
from jishi.payments import services as payments
from jishi.payments.models import PaymentMethod, PaymentStatus
from jishi.retail import checkout as store_checkout

from . import checkout_options, queries
from .forms import (
    AddressForm,
    CartAddForm,
    CartLineForm,
    CheckoutForm,
    PayForm,
    error_message,
    form_error_message,
)
from .pages import buyer, is_htmx, problem
from .promoter_views import REFERRAL_SESSION_KEY

# --- add to cart ----------------------------------------------------------------------


def _product_with_error(request: HttpRequest, product_id: int | None, message: str, status: int) -> HttpResponse:
    """Back to the product page with the refusal shown above the buy form."""
    try:
        product = queries.product_detail(product_id) if product_id else None
    except Http404:
        product = None
    if product is None:
        return problem(request, message, status=status)
    return render(request, "storefront/product.html", {"product": product, "buy_error": message}, status=status)


def _int_or_none(raw: Any) -> int | None:
    return int(raw) if isinstance(raw, str) and raw.isdigit() and len(raw) < 19 else None


@require_POST
def cart_add(request: HttpRequest) -> HttpResponse:
    """The product page's "加入购物车" (into the cart) and "立即购买" (straight to checkout)."""
    form = CartAddForm(request.POST)
    product_id = queries.sku_product_id(_int_or_none(form.data.get("sku_id"))) or _int_or_none(
        form.data.get("product_id")
    )
    if not request.user.is_authenticated:
        back = reverse("storefront:product", args=[product_id]) if product_id else reverse("storefront:cart")
        return redirect_to_login(back)
    if not form.is_valid():
        return _product_with_error(request, product_id, form_error_message(form), 400)
    data = form.cleaned_data
    if data.get("then") == "checkout":
        # "Buy now" buys just this SKU; the cart is left as it was.
        query = urlencode({"sku": data["sku_id"], "qty": data["quantity"]})
        return HttpResponseRedirect(f"{reverse('storefront:checkout')}?{query}")
    try:
        orders.add_to_cart(buyer(request), data["sku_id"], data["quantity"])
    except DomainError as exc:
        return _product_with_error(request, product_id, error_message(exc), exc.status)
    messages.success(request, _("已加入购物车"))
    return HttpResponseRedirect(reverse("storefront:product", args=[product_id]))


# --- the cart -------------------------------------------------------------------------


def _cart_response(request: HttpRequest, *, error: str = "", status: int = 200) -> HttpResponse:
    context = {"tab": "cart", "cart": queries.cart_view(buyer(request)), "error": error}
    if is_htmx(request):
        # htmx swaps 2xx only: a refusal travels as a 200 fragment that shows it.
        return render(request, "storefront/partials/cart_body.html", context)
    return render(request, "storefront/cart.html", context, status=status)


@login_required
@require_GET
def cart(request: HttpRequest) -> HttpResponse:
    return _cart_response(request)


@login_required
@require_POST
def cart_line(request: HttpRequest, sku_id: int) -> HttpResponse:
    """Change one line (htmx answers with the new cart body; plain posts go back to the cart)."""
    form = CartLineForm(request.POST)
    user = buyer(request)
    try:
        if not form.is_valid():
            raise InvalidInput(form_error_message(form))
        action = form.cleaned_data["action"]
        if action == "remove":
            orders.remove_cart_line(user, sku_id)
        elif action == "select":
            orders.update_cart_line(user, sku_id, None, form.cleaned_data["selected"])
        else:
            orders.update_cart_line(user, sku_id, form.new_quantity, None)
    except DomainError as exc:
        return _cart_response(request, error=error_message(exc), status=exc.status)
    if is_htmx(request):
        return _cart_response(request)
    return HttpResponseRedirect(reverse("storefront:cart"))


# --- checkout -------------------------------------------------------------------------


def _describe_refusal(exc: DomainError) -> str:
    """Name the products that ran out, so the buyer knows what to change."""
    message = error_message(exc)
    if isinstance(exc, OutOfStock):
        names = list(Sku.objects.filter(pk__in=exc.sku_ids).order_by("pk").values_list("product__name", flat=True))
        if names:
            return _("%(message)s：%(names)s") % {"message": message, "names": "、".join(names)}
    return message


def _checkout_url(params: dict[str, Any]) -> str:
    query = urlencode({k: v for k, v in params.items() if v})
    return reverse("storefront:checkout") + (f"?{query}" if query else "")


def _fulfilment(request: HttpRequest) -> tuple[str, int | None]:
    """快递 / 同城配送 / 到店自提, from ``mode`` and ``store_id`` (anything else: express)."""
    data = request.POST if request.method == "POST" else request.GET
    mode = data.get("mode") or store_checkout.EXPRESS
    store_id = _int_or_none(data.get("store_id"))
    if mode not in ("delivery", "pickup") or store_id is None or not 1 <= store_id <= 2**62:
        return store_checkout.EXPRESS, None
    return mode, store_id


def _priced(
    user: User,
    form: CheckoutForm,
    address_id: int | None,
    mode: str = store_checkout.EXPRESS,
    store_id: int | None = None,
) -> tuple[Checkout, checkout_options.PointsOffer, dict[str, Any]]:
    """The order priced with the buyer's fulfilment, coupon choice and, when asked, the most
    points it may use."""
    options: dict[str, Any] = {"coupon_ids": form.coupon_ids()}

    def price() -> Checkout:
        return store_checkout.preview(user, form.lines(), address_id, options, mode=mode, store_id=store_id)

    checkout = price()
    offer = checkout_options.points_offer(checkout)
    if form.cleaned_data.get("points") and offer.usable:
        options["use_points"] = offer.usable
        checkout = price()
    return checkout, offer, options


def _render_checkout(
    request: HttpRequest,
    form: CheckoutForm,
    *,
    error: str = "",
    status: int = 200,
    address_form: AddressForm | None = None,
) -> HttpResponse:
    user = buyer(request)
    addresses = list(Address.objects.filter(user=user))
    wanted = form.cleaned_data.get("address_id")
    chosen = next((a for a in addresses if a.pk == wanted), None) or next(iter(addresses), None)
    back = reverse("storefront:cart")
    mode, store_id = _fulfilment(request)
    address_id = chosen.pk if chosen else None
    try:
        checkout, offer, _options = _priced(user, form, address_id, mode, store_id)
    except DomainError as exc:
        if mode == store_checkout.EXPRESS:
            return problem(request, error_message(exc), status=exc.status, back=back, back_label=_("返回购物车"))
        # The chosen store cannot take it: say why, and price it by express instead.
        error, status, mode, store_id = error or error_message(exc), exc.status, store_checkout.EXPRESS, None
        try:
            checkout, offer, _options = _priced(user, form, address_id)
        except DomainError as again:
            return problem(request, error_message(again), status=again.status, back=back, back_label=_("返回购物车"))
    store_options = store_checkout.fulfilment_options(user, form.lines(), address_id)
    applied = checkout.meta.get("coupons") or []
    context = {
        "checkout": checkout,
        "discounts": [a for a in checkout.adjustments if a.step != "shipping"],
        "addresses": addresses,
        "chosen": chosen,
        "coupons": checkout_options.coupon_choices(checkout),
        "coupon_choice": form.cleaned_data.get("coupon") or "",
        "coupons_applied": applied,
        "coupon_saving": sum(c["amount"] for c in applied),
        "points": offer,
        "points_on": bool(form.cleaned_data.get("points")) and offer.usable > 0,
        "buy_params": form.buy_params(),
        "mode": mode,
        "store_id": store_id,
        "store_options": store_options,
        "fulfil_params": {**form.line_params(), "address_id": address_id or ""},
        "line_params": form.line_params(),
        "remark": form.cleaned_data.get("remark") or "",
        "error": error,
        "address_form": address_form or AddressForm(),
        "address_open": address_form is not None or not addresses,
    }
    return render(request, "storefront/checkout.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def checkout(request: HttpRequest) -> HttpResponse:
    """GET previews the order line by line; POST places it and goes on to payment."""
    form = CheckoutForm(request.POST if request.method == "POST" else request.GET)
    if not form.is_valid():
        return problem(request, form_error_message(form), status=400, back=reverse("storefront:cart"))
    if request.method == "GET":
        return _render_checkout(request, form)
    user = buyer(request)
    address_id = form.cleaned_data.get("address_id")
    mode, store_id = _fulfilment(request)
    try:
        _checkout, _offer, options = _priced(user, form, address_id, mode, store_id)
        [order, *_rest] = store_checkout.place(
            user,
            form.lines(),
            address_id,
            {**options, "ref": request.session.get(REFERRAL_SESSION_KEY)},
            mode=mode,
            store_id=store_id,
            remark=form.cleaned_data.get("remark") or "",
        )
    except DomainError as exc:
        return _render_checkout(request, form, error=_describe_refusal(exc), status=exc.status)
    return HttpResponseRedirect(reverse("storefront:pay", args=[order.pk]))


@login_required
@require_POST
def checkout_address(request: HttpRequest) -> HttpResponse:
    """The checkout page's "新增地址": save it, then back to checkout with it chosen."""
    form = CheckoutForm(request.POST)
    if not form.is_valid():
        return problem(request, form_error_message(form), status=400, back=reverse("storefront:cart"))
    address_form = AddressForm(request.POST)
    if not address_form.is_valid():
        return _render_checkout(request, form, address_form=address_form, status=400)
    address = accounts.save_address(buyer(request), address_form.cleaned_data)
    return HttpResponseRedirect(_checkout_url({**form.line_params(), "address_id": address.pk}))


# --- paying ---------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def pay(request: HttpRequest, order_id: int) -> HttpResponse:
    """Choose 余额 (wallet, pays at once) or 沙箱支付 (off to the provider's cashier)."""
    user = buyer(request)
    order = queries.my_order(user, order_id)
    detail = reverse("storefront:order", args=[order.pk])
    if order.status != OrderStatus.PENDING_PAYMENT:
        return HttpResponseRedirect(detail)
    form = PayForm(request.POST or None)
    error, status = "", 200
    if request.method == "POST":
        try:
            if not form.is_valid():
                raise InvalidInput(form_error_message(form))
            if form.cleaned_data["method"] == PaymentMethod.WALLET:
                payments.pay_with_wallet(user, order.pk)
                messages.success(request, _("支付成功"))
                return HttpResponseRedirect(detail)
            started = payments.start_payment(user, order.pk, form.cleaned_data["method"])
            return HttpResponseRedirect(started["pay_url"])
        except DomainError as exc:
            error, status = error_message(exc), exc.status
    balance = payments.wallet(user, limit=0)["balance"]
    context = {
        "order": order,
        "balance": balance,
        "methods": queries.payment_choices(),
        "chosen": form.data.get("method") or (PaymentMethod.WALLET if balance >= order.payable else ""),
        "actions": queries.order_actions(order),
        "error": error,
    }
    return render(request, "storefront/pay.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def sandbox_cashier(request: HttpRequest, payment_no: str) -> HttpResponse:
    """The sandbox provider's cashier: the buyer confirms, the signed notify follows."""
    user = buyer(request)
    payment = queries.my_sandbox_payment(user, payment_no)
    if payment.status == PaymentStatus.PAID:
        return HttpResponseRedirect(reverse("storefront:order", args=[payment.order_id]))
    if request.method == "POST":
        if payment.status == PaymentStatus.PENDING and "sandbox" not in payment.meta:
            try:
                payments.approve_sandbox_payment(user, payment.pk)
            except DomainError as exc:
                return problem(request, error_message(exc), status=exc.status, back=request.path)
        # Approved: the processing page takes over (or the order page if the notify was quick).
        return HttpResponseRedirect(request.path)
    context = {"payment": payment, "approved": "sandbox" in payment.meta}
    return render(request, "storefront/sandbox_cashier.html", context)


@login_required
@require_GET
def sandbox_status(request: HttpRequest, payment_no: str) -> HttpResponse:
    """Polled every second by the processing page; paid → off to the order."""
    payment = queries.my_sandbox_payment(buyer(request), payment_no)
    if payment.status == PaymentStatus.PAID:
        target = reverse("storefront:order", args=[payment.order_id])
        if is_htmx(request):
            return HttpResponse(status=200, headers={"HX-Redirect": target})
        return HttpResponseRedirect(target)
    return render(request, "storefront/partials/sandbox_status.html", {"payment": payment})
