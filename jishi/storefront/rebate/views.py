"""Storefront rebate pages: the goods feed (coupon badges, 省/赚, network tabs, search), a goods
page with 领券购买, my rebate orders and my rebate balance with withdrawal.

Reads go through ``jishi.rebate``; the two writes (a tracked link, a withdrawal) are service calls.
Every order and balance shown is the signed-in buyer's own.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jishi.commission import services as commission
from jishi.core.errors import DomainError
from jishi.core.money import format_yuan
from jishi.distribution.poster import render_poster
from jishi.distribution.services import get_settings as distribution_rules
from jishi.rebate import goods as rebate_goods
from jishi.rebate import links, taobao_oauth
from jishi.rebate.adapters import NetworkError
from jishi.rebate.models import CreditState, Network, NetworkOrder, RebateGoods, RebateSource, TrackedLink
from jishi.rebate.registration import AuthorizationRequired

from ..pages import buyer, problem
from ..promoter_views import WithdrawForm
from ..queries import page_number

FEED_PAGE_SIZE = 20
ORDER_PAGE_SIZE = 20
QUERY_MAX_LENGTH = 64
TAOBAO_NONCE_KEY = "rebate_taobao_oauth_nonce"


def _viewer_is_promoter(request: HttpRequest) -> bool:
    return request.user.is_authenticated and rebate_goods.viewer_is_promoter(request.user.pk)


def _card(item: RebateGoods, is_promoter: bool) -> dict[str, Any]:
    offer = rebate_goods.offer(item, is_promoter=is_promoter)
    return {
        "goods": item,
        "offer": offer,
        "image": item.image_urls[0] if item.image_urls else "",
        "sales": sales_text(item.sales),
    }


def sales_text(sales: int) -> str:
    """How many sold, as shopping apps print it: 9,999 or "1.2万"."""
    if sales >= 10_000:
        return _("%(n)s万") % {"n": f"{sales / 10_000:.1f}".rstrip("0").rstrip(".")}
    return str(sales)


@require_GET
def feed(request: HttpRequest) -> HttpResponse:
    network = request.GET.get("network") or ""
    if network not in Network.values:
        network = ""
    q = (request.GET.get("q") or "").strip()[:QUERY_MAX_LENGTH]
    rows = rebate_goods.feed(network or None, q)
    page = Paginator(rows, FEED_PAGE_SIZE).get_page(page_number(request.GET.get("page")))
    promoter = _viewer_is_promoter(request)
    context = {
        "tab": "home",
        "title": _("领券省钱"),
        "cards": [_card(g, promoter) for g in page.object_list],
        "page": page,
        "network": network,
        "q": q,
        "tabs": [("", _("全部"))] + [(value, label) for value, label in Network.choices],
        "is_promoter": promoter,
    }
    return render(request, "storefront/rebate/feed.html", context)


def _goods_or_404(goods_id: int) -> RebateGoods:
    item = RebateGoods.objects.filter(pk=goods_id, is_active=True).first()
    if item is None:
        raise Http404
    return item


@require_GET
def detail(request: HttpRequest, goods_id: int) -> HttpResponse:
    item = _goods_or_404(goods_id)
    promoter = _viewer_is_promoter(request)
    link = (
        TrackedLink.objects.filter(user_id=request.user.pk, network=item.network).first()
        if request.user.is_authenticated
        else None
    )
    context = {
        "tab": "home",
        "title": item.title,
        "back": reverse("rebate_pages:feed"),
        "card": _card(item, promoter),
        "coupon_live": rebate_goods.coupon_live(item),
        "link": link,
        "code": links.share_code_text(link) if link else "",
        "share_text": links.share_text(item, link) if link else "",
        "url": links.tracked_url(item, link) if link else "",
        "app": item.app_name,
        "is_promoter": promoter,
    }
    return render(request, "storefront/rebate/detail.html", context)


@login_required(login_url="storefront:login")
@require_GET
def poster(request: HttpRequest, goods_id: int) -> HttpResponse:
    """The buyer's share poster (distribution's poster): title, price after coupon, QR of the tracked link."""
    item = _goods_or_404(goods_id)
    link = TrackedLink.objects.filter(user=buyer(request), network=item.network).first()
    if link is None:
        raise Http404
    png = render_poster(
        title=item.title,
        price=rebate_goods.price_after_coupon(item),
        image_path=None,  # goods pictures are the network's URLs: never fetched by the server
        code=link.share_code,
        share_url=links.tracked_url(item, link)
        or request.build_absolute_uri(reverse("rebate_pages:detail", args=[item.pk])),
    )
    return HttpResponse(png, content_type="image/png")


@login_required(login_url="storefront:login")
@require_POST
def take_coupon(request: HttpRequest, goods_id: int) -> HttpResponse:
    """领券购买: the buyer's tracked link on this network (made once), then the code and link to use."""
    item = _goods_or_404(goods_id)
    try:
        links.link_for(buyer(request), item.network)
    except AuthorizationRequired as exc:
        if exc.authorize_url:  # Pinduoduo's 备案 page: the buyer registers there once, then comes back
            return HttpResponseRedirect(exc.authorize_url)
        source = taobao_oauth.web_source() if item.network == Network.TAOBAO else None
        if source is not None:  # Taobao's authorisation page, back to taobao_callback
            return HttpResponseRedirect(_taobao_authorize_url(request, source, item))
        messages.warning(request, str(exc.message))
    except DomainError as exc:  # the network refused or did not answer (502), or is not set up
        messages.error(request, str(exc.message))
    return _back_to_take(item.pk)


def _back_to_take(goods_id: int) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("rebate_pages:detail", args=[goods_id]) + "#take")


def _taobao_authorize_url(request: HttpRequest, source: RebateSource, item: RebateGoods) -> str:
    nonce = secrets.token_urlsafe(16)
    request.session[TAOBAO_NONCE_KEY] = nonce  # binds the answer to this browser
    state = taobao_oauth.make_state(taobao_oauth.State(user_id=buyer(request).pk, goods_id=item.pk, nonce=nonce))
    redirect_uri = request.build_absolute_uri(reverse("rebate_pages:taobao_callback"))
    return taobao_oauth.authorize_url(source, redirect_uri=redirect_uri, state=state)


@login_required(login_url="storefront:login")
@require_GET
def taobao_callback(request: HttpRequest) -> HttpResponse:
    """Back from Taobao's authorisation page: the code becomes the buyer's session, then the
    channel registration makes the tracked link; the buyer lands on the goods they were taking."""
    user = buyer(request)
    nonce = str(request.session.pop(TAOBAO_NONCE_KEY, "") or "")
    state = taobao_oauth.read_state(request.GET.get("state") or "", user_id=user.pk, nonce=nonce)
    if state is None:
        message = _("授权链接已失效或不属于当前账号，请回到商品页重新领券")
        return problem(request, message, status=400, back=reverse("rebate_pages:feed"), back_label=_("返回领券"))
    code = (request.GET.get("code") or "").strip()
    source = taobao_oauth.web_source()
    if request.GET.get("error") or not code:
        messages.warning(request, _("你取消了淘宝授权，授权后才能领券拿返利"))
    elif source is None:
        messages.error(request, _("该联盟暂未开通"))
    else:
        try:
            session = taobao_oauth.exchange_code(source, code[:200])
            links.link_for(user, Network.TAOBAO, taobao_session=session)
        except NetworkError as exc:
            if exc.transient:
                messages.error(request, _("联盟暂时无法连接，请稍后再试"))
            else:
                messages.warning(request, _("淘宝授权已失效，请重新授权淘宝账号后再领券"))
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("淘宝授权成功，已生成你的专属领券链接"))
    return _back_to_take(state.goods_id)


@login_required(login_url="storefront:login")
@require_GET
def orders(request: HttpRequest) -> HttpResponse:
    credit = request.GET.get("credit") or ""
    if credit not in CreditState.values:
        credit = ""
    rows = NetworkOrder.objects.filter(buyer=buyer(request)).order_by("-id")
    if credit:
        rows = rows.filter(credit=credit)
    page = Paginator(rows, ORDER_PAGE_SIZE).get_page(page_number(request.GET.get("page")))
    context = {
        "tab": "me",
        "title": _("我的返利订单"),
        "back": reverse("rebate_pages:balance"),
        "page": page,
        "credit": credit,
        "tabs": [("", _("全部"))] + [(k, label) for k, label in CreditState.choices if k != CreditState.NONE],
    }
    return render(request, "storefront/rebate/orders.html", context)


@login_required(login_url="storefront:login")
@require_http_methods(["GET", "POST"])
def balance(request: HttpRequest) -> HttpResponse:
    """My rebate money: pending, available (withdrawable through the commission flow), debt."""
    user = buyer(request)
    rules = distribution_rules()
    form = WithdrawForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                commission.request_withdrawal(
                    user,
                    form.amount_fen(),
                    form.cleaned_data["channel"],
                    form.cleaned_data["account"],
                    minimum=rules.withdrawal_min,
                    fee_bp=rules.withdrawal_fee_bp,
                )
            except DomainError as exc:
                if exc.code == "below_minimum":
                    form.add_error("amount", _("最低提现 %(min)s") % {"min": format_yuan(rules.withdrawal_min)})
                elif exc.code == "insufficient_balance":
                    form.add_error("amount", _("可提现余额不足"))
                else:
                    form.add_error(None, str(exc.message))
                status = exc.status
            else:
                messages.success(request, _("提现申请已提交，审核后到账"))
                return HttpResponseRedirect(reverse("rebate_pages:balance"))
        else:
            status = 400
    totals = commission.totals(user.pk)
    context = {
        "tab": "me",
        "title": _("我的返利"),
        "back": reverse("storefront:me"),
        "totals": totals,
        "earned": commission.earned_total(user.pk, "rebate"),
        "recent": list(NetworkOrder.objects.filter(buyer=user).order_by("-id")[:5]),
        "form": form,
        "minimum": rules.withdrawal_min,
    }
    return render(request, "storefront/rebate/balance.html", context, status=status)
