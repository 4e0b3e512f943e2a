"""Storefront promoter centre (分销中心): join, my team, my commissions, withdrawals, share posters, referral links.

Thin like the API: reads go through ``jishi.distribution.services`` / ``jishi.commission`` and every write is a
service call. Every row shown is the signed-in promoter's own; nothing takes another user's id from the request.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_http_methods

from jishi.accounts.models import User
from jishi.catalog import api as catalog_api
from jishi.catalog.models import Product, ProductStatus
from jishi.commission import services as commission
from jishi.commission.models import Commission, CommissionSource, CommissionStatus, Withdrawal, WithdrawalChannel
from jishi.core.errors import DomainError
from jishi.core.money import BP_DENOMINATOR, format_yuan
from jishi.distribution import poster, services
from jishi.distribution.models import BindingSource, JoinMode, Promoter, PromoterStatus

from .pages import buyer, problem
from .queries import page_number

REFERRAL_SESSION_KEY = "promoter_ref"  # a share link's code, kept until the visitor signs in and buys
REFERRAL_CODE_MAX_LENGTH = 16
TEAM_PAGE_SIZE = 20
COMMISSION_PAGE_SIZE = 20
WITHDRAWAL_HISTORY_SIZE = 20
POSTER_PRODUCT_PICKS = 6
MAX_WITHDRAWAL_YUAN = Decimal(100_000_000)  # far above any balance; bounds the input, the ledger decides
WORKING_STATUSES = (PromoterStatus.ACTIVE, PromoterStatus.FROZEN)  # may see their money, team and withdraw


def _context(title: str, back: str = "") -> dict[str, Any]:
    return {"tab": "me", "title": title, "back": back or reverse("storefront:promoter:centre")}


def _promoter(request: HttpRequest) -> Promoter | None:
    return Promoter.objects.select_related("level").filter(user=buyer(request)).first()


def _working_promoter(request: HttpRequest) -> Promoter | None:
    promoter = _promoter(request)
    return promoter if promoter is not None and promoter.status in WORKING_STATUSES else None


def _to_centre() -> HttpResponse:
    return HttpResponseRedirect(reverse("storefront:promoter:centre"))


def share_url(request: HttpRequest, code: str, path: str = "") -> str:
    """The absolute link that binds whoever opens it to the promoter of ``code``."""
    return request.build_absolute_uri(f"{path or reverse('storefront:home')}?ref={code}")


# --- centre ---------------------------------------------------------------------------


def _join_card(request: HttpRequest, promoter: Promoter | None) -> dict[str, Any]:
    """What a buyer who is not (yet) a promoter sees: the join rule and, for the spend rule, how far along."""
    rules = services.get_settings()
    card: dict[str, Any] = {
        "join": rules.join,
        "join_label": JoinMode(rules.join).label,
        "state": promoter.status if promoter else "none",
        "note": promoter.note if promoter else "",
        "can_apply": rules.enabled,
    }
    if rules.join == JoinMode.SPEND:
        spend = services.lifetime_spend(buyer(request).pk)
        card.update(
            spend=spend,
            join_spend=rules.join_spend,
            missing=max(rules.join_spend - spend, 0),
            progress=100 if rules.join_spend <= 0 else min(100, spend * 100 // rules.join_spend),
        )
        card["can_apply"] = rules.enabled and spend >= rules.join_spend
    if promoter is not None and promoter.status == PromoterStatus.PENDING:
        card["can_apply"] = False
    return card


@login_required
@require_http_methods(["GET", "POST"])
def centre(request: HttpRequest) -> HttpResponse:
    """A promoter's code, money and team; anyone else the join rule and an apply button."""
    user = buyer(request)
    if request.method == "POST":
        try:
            applied = services.apply(user)
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            if applied.status == PromoterStatus.PENDING:
                messages.success(request, _("申请已提交，请等待审核"))
            else:
                messages.success(request, _("你已成为分销员"))
        return _to_centre()
    promoter = _promoter(request)
    context = _context(_("分销中心"), reverse("storefront:me"))
    if promoter is None or promoter.status not in WORKING_STATUSES:
        context["apply"] = _join_card(request, promoter)
        return render(request, "storefront/promoter/apply.html", context)
    summary = services.centre(user)
    context.update(
        promoter=promoter,
        summary=summary,
        team=[(int(level), count) for level, count in summary["team"].items()],
        share_link=share_url(request, promoter.code),
        active=promoter.status == PromoterStatus.ACTIVE,
    )
    return render(request, "storefront/promoter/centre.html", context)


# --- team ------------------------------------------------------------------------------


def _level_param(raw: str | None, levels: int) -> int:
    try:
        level = int(raw or 1)
    except ValueError:
        return 1
    return min(max(level, 1), levels)


@login_required
@require_GET
def team(request: HttpRequest) -> HttpResponse:
    """The members bound under me at one level (nickname, masked phone, date): nothing private."""
    promoter = _working_promoter(request)
    if promoter is None:
        return _to_centre()
    levels = services.get_settings().levels
    level = _level_param(request.GET.get("level"), levels)
    number = page_number(request.GET.get("page"))
    members, count = services.team_members(promoter.user_id, level, TEAM_PAGE_SIZE, (number - 1) * TEAM_PAGE_SIZE)
    context = _context(_("我的团队"))
    context.update(
        level=level,
        tabs=[(int(n), n_count) for n, n_count in services.team_counts(promoter.user_id, levels).items()],
        members=members,
        count=count,
        number=number,
        has_previous=number > 1,
        has_next=number * TEAM_PAGE_SIZE < count,
    )
    return render(request, "storefront/promoter/team.html", context)


# --- commissions -----------------------------------------------------------------------


@login_required
@require_GET
def commissions(request: HttpRequest) -> HttpResponse:
    """Orders that earned me distribution commission, newest first, filterable by status."""
    promoter = _working_promoter(request)
    if promoter is None:
        return _to_centre()
    status = request.GET.get("status") or ""
    if status not in CommissionStatus.values:
        status = ""
    rows = Commission.objects.filter(beneficiary_id=promoter.user_id, source=CommissionSource.DISTRIBUTION)
    if status:
        rows = rows.filter(status=status)
    page = Paginator(rows.order_by("-id"), COMMISSION_PAGE_SIZE).get_page(page_number(request.GET.get("page")))
    _name_commission_rows(list(page.object_list))
    context = _context(_("佣金明细"))
    context.update(
        tabs=[("", _("全部")), *CommissionStatus.choices],
        status=status,
        page=page,
    )
    return render(request, "storefront/promoter/commissions.html", context)


def _name_commission_rows(rows: list[Commission]) -> None:
    """Each row's buyer (nickname or masked phone) and product name, in two queries for the page."""
    buyers = {
        u.pk: u.nickname or commission.mask_phone(u.phone or "")
        for u in User.objects.filter(pk__in={r.buyer_id for r in rows}).only("pk", "nickname", "phone")
    }
    names = dict(Product.objects.filter(pk__in={r.product_id for r in rows if r.product_id}).values_list("pk", "name"))
    for row in rows:
        row.buyer_label = buyers.get(row.buyer_id, "")  # type: ignore[attr-defined]
        row.product_name = names.get(row.product_id or 0, "")  # type: ignore[attr-defined]


# --- withdrawals -----------------------------------------------------------------------


class WithdrawForm(forms.Form):
    """Amount in yuan with at most two decimals, so it converts to fen exactly."""

    amount = forms.DecimalField(
        label=gettext_lazy("提现金额"),
        min_value=Decimal("0.01"),
        max_value=MAX_WITHDRAWAL_YUAN,
        max_digits=12,
        decimal_places=2,
        error_messages={
            "required": gettext_lazy("请填写提现金额"),
            "invalid": gettext_lazy("请填写正确的金额"),
            "min_value": gettext_lazy("提现金额须大于 0"),
            "max_value": gettext_lazy("提现金额太大"),
            "max_digits": gettext_lazy("提现金额太大"),
            "max_whole_digits": gettext_lazy("提现金额太大"),
            "max_decimal_places": gettext_lazy("金额最多两位小数"),
        },
    )
    channel = forms.ChoiceField(
        label=gettext_lazy("到账方式"),
        choices=WithdrawalChannel.choices,
        initial=WithdrawalChannel.WALLET,
        error_messages={"required": gettext_lazy("请选择到账方式"), "invalid_choice": gettext_lazy("请选择到账方式")},
    )
    account = forms.CharField(label=gettext_lazy("收款账号"), max_length=120, required=False)

    def amount_fen(self) -> int:
        return int(self.cleaned_data["amount"] * 100)


def _show_refusal(form: WithdrawForm, error: DomainError, minimum: int, available: int) -> None:
    """A service refusal next to the field it concerns, in words naming the limit."""
    if error.code == "below_minimum":
        form.add_error("amount", _("最低提现 %(min)s") % {"min": format_yuan(minimum)})
    elif error.code == "insufficient_balance":
        form.add_error("amount", _("超过可提现佣金 %(available)s") % {"available": format_yuan(available)})
    elif error.code == "account_required":
        form.add_error("account", str(error.message))
    else:
        form.add_error(None, str(error.message))


WithdrawalRequest = Callable[[User, int, str, str], Any]


def withdrawal_page(request: HttpRequest, submit: WithdrawalRequest, done_url: str, back: str) -> HttpResponse:
    """The withdrawal form and history for anyone commission pays (promoters, group-buy leaders):
    ``submit`` is the owning app's request call; the minimum and fee are distribution's rules."""
    user = buyer(request)
    rules = services.get_settings()
    available = commission.totals(user.pk)["available"]
    status = 200
    form = WithdrawForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                submit(user, form.amount_fen(), form.cleaned_data["channel"], form.cleaned_data["account"])
            except DomainError as exc:
                _show_refusal(form, exc, rules.withdrawal_min, available)
                status = exc.status
            else:
                messages.success(request, _("提现申请已提交，审核后到账"))
                return HttpResponseRedirect(done_url)
        else:
            status = 400
    context = _context(_("提现"), back)
    context.update(
        form=form,
        available=available,
        minimum=rules.withdrawal_min,
        fee_percent=Decimal(rules.withdrawal_fee_bp) * 100 / BP_DENOMINATOR,
        history=list(Withdrawal.objects.filter(user=user).order_by("-id")[:WITHDRAWAL_HISTORY_SIZE]),
    )
    return render(request, "storefront/promoter/withdraw.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def withdraw(request: HttpRequest) -> HttpResponse:
    """Ask to withdraw available commission (held at once, paid after review), and my past requests."""
    if _working_promoter(request) is None:
        return _to_centre()
    return withdrawal_page(request, services.request_withdrawal, reverse("storefront:promoter:withdraw"), "")


# --- share posters ---------------------------------------------------------------------


def _product_param(raw: str | None) -> Product | None:
    """The published product a poster is for; ``None`` for the shop poster. A bad id is a 404."""
    if not raw:
        return None
    try:
        product_id = int(raw)
    except ValueError as exc:
        raise Http404 from exc
    product = Product.objects.filter(pk=product_id, status=ProductStatus.PUBLISHED).first() if product_id > 0 else None
    if product is None:
        raise Http404
    return product


def active_promoter(request: HttpRequest) -> Promoter | None:
    """The signed-in buyer's promoter record when it may earn now (分享赚 on product pages)."""
    return _active_promoter(request)


def _active_promoter(request: HttpRequest) -> Promoter | None:
    promoter = _promoter(request)
    return promoter if promoter is not None and promoter.status == PromoterStatus.ACTIVE else None


@login_required
@require_GET
def poster_page(request: HttpRequest) -> HttpResponse:
    """The poster for a product (or the shop), a download button and a few products to pick from."""
    promoter = _active_promoter(request)
    if promoter is None:
        return _to_centre()
    try:
        product = _product_param(request.GET.get("product_id"))
    except Http404:
        return problem(
            request,
            _("商品不存在或已下架"),
            status=404,
            back=reverse("storefront:promoter:poster"),
            back_label=_("换个商品"),
        )
    png_url = reverse("storefront:promoter:poster_png")
    query = f"?product_id={product.pk}" if product else ""
    context = _context(_("分享海报"))
    context.update(
        product=product,
        image_url=f"{png_url}{query}",
        download_url=f"{png_url}{query}{'&' if query else '?'}download=1",
        picks=catalog_api.product_page(None, None, POSTER_PRODUCT_PICKS, 0)["items"],
        code=promoter.code,
    )
    return render(request, "storefront/promoter/poster.html", context)


def poster_bytes(request: HttpRequest, promoter: Promoter, product: Product | None) -> bytes:
    """The PNG poster: the product's first picture, name and price, and a QR code of my share link."""
    path = reverse("storefront:product", args=[product.pk]) if product else None
    link = share_url(request, promoter.code, path or "")
    name = promoter.user.nickname or commission.mask_phone(promoter.user.phone or "")
    return poster.promoter_poster(promoter.code, product, link, promoter_name=name)


@login_required
@require_GET
@cache_control(private=True, max_age=300)
def poster_png(request: HttpRequest) -> HttpResponse:
    promoter = _active_promoter(request)
    if promoter is None:
        raise Http404
    product = _product_param(request.GET.get("product_id"))
    response = HttpResponse(poster_bytes(request, promoter, product), content_type="image/png")
    if request.GET.get("download"):
        name = f"jishi-poster-{promoter.code}{f'-{product.pk}' if product else ''}.png"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- referral links --------------------------------------------------------------------


def _clean_code(raw: str | None) -> str:
    code = (raw or "").strip().upper()
    return code if code.isalnum() and code.isascii() and len(code) <= REFERRAL_CODE_MAX_LENGTH else ""


def bind_session_referral(request: HttpRequest) -> bool:
    """Bind the signed-in buyer to the share link's promoter kept in the session (call it right after login).

    A stale, self or looping code is ignored: a link never stops anyone from shopping."""
    code = request.session.get(REFERRAL_SESSION_KEY)
    if not code or not request.user.is_authenticated:
        return False
    try:
        with transaction.atomic():
            _binding, changed = services.bind(buyer(request), code, BindingSource.LINK)
    except DomainError:
        return False
    return changed


def capture_referral(request: HttpRequest, raw_code: str | None) -> bool:
    """A visitor arrived by a promoter's link: remember the code, and bind at once when signed in."""
    code = _clean_code(raw_code)
    if not code:
        return False
    try:
        services.active_promoter_by_code(code)
    except DomainError:
        return False
    request.session[REFERRAL_SESSION_KEY] = code
    return bind_session_referral(request)


@require_GET
def referral(request: HttpRequest, code: str) -> HttpResponse:
    """``/promoter/r/<code>/``: the share link's landing; binds (source "link") or remembers, then goes home."""
    capture_referral(request, code)
    return HttpResponseRedirect(reverse("storefront:home"))
