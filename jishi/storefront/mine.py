"""The signed-in buyer's own pages: orders (list, detail, cancel, confirm), after-sales and addresses.

Rows are always looked up through the buyer (``queries.my_order``, the services'
``get_order``): another buyer's order id is a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jishi.accounts import services as accounts
from jishi.accounts.models import Address
from jishi.core.errors import DomainError, InvalidInput
from jishi.core.money import format_yuan
from jishi.engagement import services as engagement
from jishi.orders import services as orders
from jishi.orders.models import AfterSaleKind, OrderStatus

from . import queries
from .forms import AFTER_SALE_REASONS, AddressForm, AfterSaleForm, error_message
from .pages import buyer, is_htmx, problem, safe_next


@login_required
@require_GET
def order_list(request: HttpRequest) -> HttpResponse:
    tab = queries.order_tab(request.GET.get("status"))
    page = queries.my_orders(buyer(request), tab, queries.page_number(request.GET.get("page")))
    context = {"tab": "me", "tabs": queries.ORDER_TABS, "current": tab, "orders": page}
    if is_htmx(request):
        response = render(request, "storefront/partials/order_cards_more.html", context)
    else:
        response = render(request, "storefront/orders.html", context)
    response["Vary"] = "HX-Request"
    return response


MAX_PHOTO_BYTES = 8 * 1024 * 1024


def _render_order(request: HttpRequest, order_id: int, *, error: str = "", status: int = 200) -> HttpResponse:
    order = queries.my_order(buyer(request), order_id)
    cases = list(order.after_sales.all())
    photos = engagement.photos_of([c.pk for c in cases])
    for case in cases:
        case.photos = photos.get(case.pk, [])  # type: ignore[attr-defined]
    context = {
        "order": order,
        "actions": queries.order_actions(order),
        "payment_method": queries.payment_method_label(order.payment_method) if order.payment_method else "",
        "cases": cases,
        "error": error,
    }
    return render(request, "storefront/order.html", context, status=status)


@login_required
@require_GET
def order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    return _render_order(request, order_id)


def _order_action(request: HttpRequest, order_id: int, action: str) -> HttpResponse:
    queries.my_order(buyer(request), order_id)  # 404 before anything else for someone else's order
    try:
        if action == "cancel":
            orders.cancel_order(buyer(request), order_id)
            messages.success(request, _("订单已取消"))
        else:
            orders.confirm_receipt(buyer(request), order_id)
            messages.success(request, _("已确认收货"))
    except DomainError as exc:
        return _render_order(request, order_id, error=error_message(exc), status=exc.status)
    return HttpResponseRedirect(safe_next(request) or reverse("storefront:order", args=[order_id]))


@login_required
@require_POST
def order_cancel(request: HttpRequest, order_id: int) -> HttpResponse:
    return _order_action(request, order_id, "cancel")


@login_required
@require_POST
def order_confirm(request: HttpRequest, order_id: int) -> HttpResponse:
    return _order_action(request, order_id, "confirm")


@login_required
@require_POST
def order_remind(request: HttpRequest, order_id: int) -> HttpResponse:
    """提醒发货: the shop hears it once; a second tap says it was already done."""
    user = buyer(request)
    queries.my_order(user, order_id)
    try:
        first = engagement.remind_shipment(user, order_id)
    except DomainError as exc:
        return _render_order(request, order_id, error=error_message(exc), status=exc.status)
    messages.success(request, _("已提醒商家尽快发货") if first else _("已经提醒过了，商家会尽快发货"))
    return HttpResponseRedirect(safe_next(request) or reverse("storefront:order", args=[order_id]))


@login_required
@require_POST
def order_rebuy(request: HttpRequest, order_id: int) -> HttpResponse:
    """再来一单: the order's SKUs back into the cart (those still on sale), then the cart."""
    user = buyer(request)
    order = queries.my_order(user, order_id)
    added, missed = 0, []
    for line in order.lines.all():
        if line.sku_id is None:
            missed.append(line.product_name)
            continue
        try:
            orders.add_to_cart(user, line.sku_id, line.quantity)
            added += 1
        except DomainError:
            missed.append(line.product_name)
    if missed:
        messages.warning(request, _("部分商品已下架或库存不足：%(names)s") % {"names": "、".join(missed)})
    if added:
        messages.success(request, _("已加入购物车"))
    return HttpResponseRedirect(reverse("storefront:cart"))


# --- after-sales ----------------------------------------------------------------------


def _picked(data: QueryDict, remaining: dict[int, int]) -> dict[int, int]:
    """{line id: quantity} as ticked in ``data`` (bad numbers fall back to all that is left)."""
    picked = {}
    for raw in data.getlist("line"):
        line_id = int(raw) if raw.isdigit() and len(raw) < 19 else 0
        if line_id in remaining:
            qty = data.get(f"qty_{line_id}", "")
            quantity = int(qty) if qty.isdigit() and len(qty) < 10 else remaining[line_id]
            picked[line_id] = min(max(quantity, 1), remaining[line_id])
    return picked


@login_required
@require_http_methods(["GET", "POST"])
def after_sale_new(request: HttpRequest, order_id: int) -> HttpResponse:
    """Pick lines and quantities, the amount (the most refundable by default), reason and kind.

    A GET carrying ``line`` values (sent by htmx when the ticks change) recomputes the most
    refundable for that choice.
    """
    user = buyer(request)
    order = queries.my_order(user, order_id)
    detail = reverse("storefront:order", args=[order.pk])
    if not queries.after_sale_open(order):
        if order.status == OrderStatus.REFUNDING:
            message = _("已有进行中的售后")
        else:
            message = _("当前订单状态不能申请售后")
        return problem(request, message, status=409, back=detail, back_label=_("返回订单"))
    lines = queries.refundable_lines(order)
    remaining = {r.line.pk: r.remaining for r in lines}
    data = request.POST if request.method == "POST" else request.GET
    picked = _picked(data, remaining) if "line" in data else ({} if request.method == "POST" else dict(remaining))
    form = AfterSaleForm(request.POST or None, remaining=remaining)
    most = queries.refund_room(order, picked)
    error, status = "", 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            wanted = form.wanted()
            amount = form.amount_fen()
            try:
                uploads = request.FILES.getlist("photos")
                if any((u.size or 0) > MAX_PHOTO_BYTES for u in uploads):
                    raise InvalidInput(_("图片不能超过 8 MB"), code="image_too_large")
                photos = engagement.prepare_photos([u.read() for u in uploads])
                case = orders.request_after_sale(
                    user,
                    order.pk,
                    list(wanted.items()),
                    most if amount is None else amount,
                    form.cleaned_data["reason"],
                    form.cleaned_data["kind"],
                )
                engagement.attach_after_sale_photos(user, case.pk, photos)
            except DomainError as exc:
                error, status = error_message(exc), exc.status
                if exc.code == "amount_exceeds_refundable":
                    error = _("退款金额须大于 0 且不超过 %(max)s") % {"max": format_yuan(most)}
            else:
                messages.success(request, _("售后申请已提交"))
                return HttpResponseRedirect(detail)
    rows = [
        {"refundable": r, "picked": r.line.pk in picked, "quantity": picked.get(r.line.pk, r.remaining)} for r in lines
    ]
    context = {
        "order": order,
        "rows": rows,
        "form": form,
        "most": most,
        "kinds": AfterSaleKind.choices,
        "reasons": [str(r) for r in AFTER_SALE_REASONS],
        "return_allowed": order.status != OrderStatus.PAID,
        "error": error,
    }
    return render(request, "storefront/after_sale.html", context, status=status)


@login_required
@require_POST
def after_sale_cancel(request: HttpRequest, case_id: int) -> HttpResponse:
    """The buyer withdraws a pending case; the order goes back to where it was."""
    user = buyer(request)
    try:
        case = orders.cancel_after_sale(user, case_id)
    except DomainError as exc:
        return problem(request, error_message(exc), status=exc.status, back=reverse("storefront:orders"))
    messages.success(request, _("售后申请已撤销"))
    return HttpResponseRedirect(reverse("storefront:order", args=[case.order_id]))


# --- addresses ------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def addresses(request: HttpRequest) -> HttpResponse:
    user = buyer(request)
    form = AddressForm(request.POST or None)
    status = 200
    # A campaign's "buy now" sends a buyer without an address here and wants them back after.
    back_to = safe_next(request)
    if request.method == "POST":
        if form.is_valid():
            accounts.save_address(user, form.cleaned_data)
            messages.success(request, _("地址已保存"))
            return HttpResponseRedirect(back_to or reverse("storefront:addresses"))
        status = 400
    context = {
        "tab": "me",
        "addresses": list(Address.objects.filter(user=user)),
        "address_form": form,
        "next": back_to,
    }
    return render(request, "storefront/addresses.html", context, status=status)


@login_required
@require_POST
def address_default(request: HttpRequest, address_id: int) -> HttpResponse:
    try:
        accounts.save_address(buyer(request), {"is_default": True}, address_id)
    except DomainError as exc:
        return problem(request, error_message(exc), status=exc.status, back=reverse("storefront:addresses"))
    return HttpResponseRedirect(reverse("storefront:addresses"))


@login_required
@require_POST
def address_delete(request: HttpRequest, address_id: int) -> HttpResponse:
    try:
        accounts.delete_address(buyer(request), address_id)
    except DomainError as exc:
        return problem(request, error_message(exc), status=exc.status, back=reverse("storefront:addresses"))
    return HttpResponseRedirect(reverse("storefront:addresses"))
