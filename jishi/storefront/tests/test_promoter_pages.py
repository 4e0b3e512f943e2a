"""Promoter centre pages (分销中心) through the test client: join states, money, team, commissions,
withdrawals, posters, referral links, and that nothing of another promoter shows."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client, override_settings
from django.utils import timezone
from PIL import Image

from jishi.catalog import services as catalog
from jishi.catalog.models import ProductStatus
from jishi.commission import services as commission
from jishi.commission.models import Commission, CommissionStatus, Withdrawal, WithdrawalStatus
from jishi.core import ledger
from jishi.core.events import deliver_pending
from jishi.core.models import AccountKind
from jishi.distribution import services
from jishi.distribution.models import Binding, BindingSource, Promoter, PromoterStatus
from jishi.distribution.tests.helpers import buy, chain, configure, promoter
from jishi.orders import services as orders
from jishi.orders.models import Order
from jishi.storefront import promoter_views
from jishi.testing.factories import OperatorFactory, ProductFactory
from jishi.testing.shop import Shopper, shopper, skus

pytestmark = pytest.mark.django_db
TEST_URLS = "jishi.storefront.tests.promoter_test_urls"
CENTRE, TEAM, COMMISSIONS = "/promoter/", "/promoter/team/", "/promoter/commissions/"
WITHDRAW, POSTER, POSTER_PNG = "/promoter/withdraw/", "/promoter/poster/", "/promoter/poster.png"


@pytest.fixture(autouse=True)
def _promoter_urls() -> Iterator[None]:
    with override_settings(ROOT_URLCONF=TEST_URLS):
        yield


def signed_in(s: Shopper) -> Client:
    client = Client()
    client.force_login(s.user)
    return client


def complete(order: Order) -> None:
    orders.ship_order(OperatorFactory(), order.pk, "SF", str(order.pk))
    orders.confirm_receipt(order.user, order.pk)
    deliver_pending()


def earn(order_amount: int = 100_000) -> tuple[Shopper, Shopper, Order]:
    """A promoter whose customer's completed order left 10% available: ¥100.00 on ¥1000.00."""
    a, b = chain(2, wallet=1_000_000)
    order = buy(b, order_amount)
    complete(order)
    commission.unfreeze_due(timezone.now() + timedelta(days=8))
    return a, b, order


def available(s: Shopper) -> int:
    return ledger.balance_of(s.user.pk, AccountKind.COMMISSION_AVAILABLE)


def text(response: Any) -> str:
    return response.content.decode()


# --- sign-in and who may see what ---------------------------------------------------------


@pytest.mark.parametrize(
    "path", [CENTRE, f"{TEAM}?level=2", COMMISSIONS, WITHDRAW, f"{POSTER}?product_id=1", POSTER_PNG]
)
def test_signed_out_visitors_go_to_login(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/promoter/")


def test_signed_out_post_to_withdraw_writes_nothing(client: Client) -> None:
    response = client.post(WITHDRAW, {"amount": "10", "channel": "wallet"})
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    assert Withdrawal.objects.count() == 0


@pytest.mark.parametrize("path", [TEAM, COMMISSIONS, WITHDRAW, POSTER])
def test_buyers_who_are_not_promoters_are_sent_to_the_centre(path: str) -> None:
    response = signed_in(shopper()).get(path)
    assert response.status_code == 302
    assert response["Location"] == CENTRE


def test_poster_png_is_404_for_a_non_promoter() -> None:
    assert signed_in(shopper()).get(POSTER_PNG).status_code == 404


# --- join ---------------------------------------------------------------------------------


def test_everyone_mode_shows_the_apply_card_and_joins_at_once() -> None:
    me = shopper()
    client = signed_in(me)
    page = client.get(CENTRE)
    assert page.status_code == 200
    assert "所有买家都可以申请" in text(page)
    assert 'id="apply-button">' in text(page).replace("\n", "")  # enabled: no "disabled" attribute
    response = client.post(CENTRE)
    assert (response.status_code, response["Location"]) == (302, CENTRE)
    joined = Promoter.objects.get(user=me.user)
    assert joined.status == PromoterStatus.ACTIVE
    centre = client.get(CENTRE)
    assert f'<span id="promoter-code">{joined.code}</span>' in text(centre)
    assert "你已成为分销员" in text(centre)


def test_approval_mode_leaves_the_application_pending() -> None:
    configure(join="approval")
    me = shopper()
    client = signed_in(me)
    assert "运营审核通过即可成为分销员" in text(client.get(CENTRE))
    client.post(CENTRE)
    assert Promoter.objects.get(user=me.user).status == PromoterStatus.PENDING
    page = text(client.get(CENTRE))
    assert "申请已提交，正在审核中" in page
    assert 'id="apply-button" disabled' in page
    assert 'id="promoter-code"' not in page


def test_rejected_application_shows_the_reason_and_can_apply_again() -> None:
    configure(join="approval")
    me = shopper()
    services.apply(me.user)
    services.review(OperatorFactory(), Promoter.objects.get(user=me.user).pk, "reject", "资料不全")
    client = signed_in(me)
    page = text(client.get(CENTRE))
    assert "申请未通过：资料不全" in page
    assert "重新申请" in page
    client.post(CENTRE)
    assert Promoter.objects.get(user=me.user).status == PromoterStatus.PENDING


def test_spend_mode_shows_progress_and_refuses_below_the_threshold() -> None:
    configure(join="spend", join_spend=50_000)
    me = shopper(wallet=100_000)
    buy(me, 20_000)
    client = signed_in(me)
    page = text(client.get(CENTRE))
    assert "累计消费满 ¥500.00 即可成为分销员" in page
    assert 'max="100" value="42"' in page  # ¥200.00 of goods + ¥10.00 shipping
    assert "已累计消费 ¥210.00，还差 ¥290.00" in page
    assert 'id="apply-button" disabled' in page
    response = client.post(CENTRE, follow=True)
    assert "累计消费未达到成为分销员的门槛" in text(response)
    assert not Promoter.objects.filter(user=me.user).exists()


def test_spend_mode_lets_a_buyer_past_the_threshold_apply() -> None:
    configure(join="spend", join_spend=10_000)
    me = shopper(wallet=100_000)
    # Spending past the threshold makes a promoter by itself; a buyer who met it before the rule sees the button.
    buy(me, 20_000)
    Promoter.objects.filter(user=me.user).delete()
    page = text(signed_in(me).get(CENTRE))
    assert "已累计消费 ¥210.00" in page
    assert "还差" not in page
    assert 'id="apply-button">' in page.replace("\n", "")
    signed_in(me).post(CENTRE)
    assert Promoter.objects.get(user=me.user).status == PromoterStatus.ACTIVE


# --- centre -------------------------------------------------------------------------------


def test_centre_shows_code_share_link_money_and_team_by_level() -> None:
    configure(levels=3)
    a, _b, _c, d = chain(4, wallet=100_000)
    extra = shopper()
    services.bind(extra.user, promoter(a).code)
    buy(d, 10_000)  # a is level 3 above d: 2% of ¥100.00, frozen
    page = text(signed_in(a).get(CENTRE))
    code = Promoter.objects.get(user=a.user).code
    assert f'value="http://testserver/?ref={code}"' in page
    assert '<strong id="team-level-1">2</strong>' in page
    assert '<strong id="team-level-2">1</strong>' in page
    assert '<strong id="team-level-3">1</strong>' in page
    assert 'id="commission-frozen">¥2.00<' in page
    assert 'id="commission-available">¥0.00<' in page
    assert 'id="commission-withdrawn">¥0.00<' in page
    assert 'id="commission-withdrawing">¥0.00<' in page
    assert "commission-debt" not in page
    assert "普通分销员" in page


def test_centre_counts_only_the_configured_levels() -> None:
    a, *_rest = chain(4)
    page = text(signed_in(a).get(CENTRE))
    assert 'id="team-level-2"' in page
    assert 'id="team-level-3"' not in page


def test_centre_shows_withdrawing_withdrawn_and_debt() -> None:
    a, b, order = earn()
    paid = services.request_withdrawal(a.user, 6_000, "wallet")
    commission.approve_withdrawal(OperatorFactory(), paid.pk)
    services.request_withdrawal(a.user, 4_000, "wallet")
    line = order.lines.get()
    case = orders.request_after_sale(b.user, order.pk, [(line.pk, 1)], 100_000, "质量问题")
    orders.approve_after_sale(OperatorFactory(), case.pk)
    deliver_pending()
    page = text(signed_in(a).get(CENTRE))
    assert 'id="commission-withdrawn">¥60.00<' in page
    assert 'id="commission-withdrawing">¥40.00<' in page
    assert 'id="commission-available">¥0.00<' in page
    assert "待抵扣 ¥100.00" in page
    assert ledger.check_ledger() == []


def test_frozen_promoter_sees_money_but_cannot_share() -> None:
    a, *_rest = earn()
    services.review(OperatorFactory(), Promoter.objects.get(user=a.user).pk, "freeze")
    client = signed_in(a)
    page = text(client.get(CENTRE))
    assert "你的分销资格已被冻结" in page
    assert 'id="commission-available">¥100.00<' in page
    assert "share-link" not in page
    assert client.get(POSTER)["Location"] == CENTRE
    assert client.get(POSTER_PNG).status_code == 404
    assert client.get(WITHDRAW).status_code == 200


# --- team ---------------------------------------------------------------------------------


def test_team_lists_members_at_the_chosen_level_with_masked_phones() -> None:
    a, b, c = chain(3)
    client = signed_in(a)
    first = text(client.get(f"{TEAM}?level=1"))
    assert b.user.nickname in first
    assert f"{b.user.phone[:3]}****{b.user.phone[-4:]}" in first
    assert b.user.phone not in first
    assert c.user.nickname not in first
    second = text(client.get(f"{TEAM}?level=2"))
    assert c.user.nickname in second
    assert b.user.nickname not in second
    assert timezone.localdate().isoformat() in second


@pytest.mark.parametrize("raw,shown", [("abc", 1), ("0", 1), ("-3", 1), ("9", 2)])
def test_team_level_out_of_range_is_clamped(raw: str, shown: int) -> None:
    a, *_rest = chain(3)
    response = signed_in(a).get(f"{TEAM}?level={raw}")
    assert response.status_code == 200
    assert response.context["level"] == shown


def test_team_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(promoter_views, "TEAM_PAGE_SIZE", 2)
    a = shopper()
    code = promoter(a).code
    members = [shopper() for _ in range(3)]
    for index, member in enumerate(members):
        services.bind(member.user, code, now=timezone.now() - timedelta(minutes=10 - index))
    client = signed_in(a)
    first = client.get(f"{TEAM}?level=1")
    assert [m["nickname"] for m in first.context["members"]] == [members[2].user.nickname, members[1].user.nickname]
    assert "?level=1&amp;page=2" in text(first)
    second = client.get(f"{TEAM}?level=1&page=2")
    assert [m["nickname"] for m in second.context["members"]] == [members[0].user.nickname]
    assert second.context["has_next"] is False


# --- commissions --------------------------------------------------------------------------


def test_commissions_list_orders_with_amounts_and_statuses() -> None:
    a, b, completed = earn()
    pending = buy(b, 5_000)
    client = signed_in(a)
    page = text(client.get(COMMISSIONS))
    assert completed.number in page and pending.number in page
    assert "¥1000.00" in page and "¥100.00" in page  # base and 10% of the completed order
    assert "¥50.00" in page and "¥5.00" in page
    assert "可提现" in page and "冻结中" in page
    assert "确认收货后 7 天" in page  # the unpaid-out order has no unfreeze date yet


@pytest.mark.parametrize("status,expected", [("available", "completed"), ("frozen", "pending"), ("reversed", None)])
def test_commissions_filter_by_status(status: str, expected: str | None) -> None:
    a, b, completed = earn()
    pending = buy(b, 5_000)
    response = signed_in(a).get(f"{COMMISSIONS}?status={status}")
    numbers = [c.order_number for c in response.context["page"].object_list]
    assert numbers == ([] if expected is None else [{"completed": completed, "pending": pending}[expected].number])


def test_commissions_show_a_reversal() -> None:
    a, b = chain(2, wallet=100_000)
    order = buy(b, 10_000)
    line = order.lines.get()
    case = orders.request_after_sale(b.user, order.pk, [(line.pk, 1)], 11_000, "不要了")
    orders.approve_after_sale(OperatorFactory(), case.pk)
    deliver_pending()
    page = text(signed_in(a).get(f"{COMMISSIONS}?status=reversed"))
    assert order.number in page
    assert "-¥10.00" in page
    assert "已退回" in page


def test_unknown_commission_status_lists_everything() -> None:
    a, b, _order = earn()
    buy(b, 5_000)
    response = signed_in(a).get(f"{COMMISSIONS}?status=bogus")
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 2


# --- withdrawals --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "amount,fen",
    [("19.99", 1999), ("10", 1000), ("100.00", 10000), ("0012.30", 1230)],
)
def test_withdrawal_converts_yuan_to_exact_fen(amount: str, fen: int) -> None:
    a, *_rest = earn()
    response = signed_in(a).post(WITHDRAW, {"amount": amount, "channel": "wallet"})
    assert (response.status_code, response["Location"]) == (302, WITHDRAW)
    withdrawal = Withdrawal.objects.get()
    assert (withdrawal.user_id, withdrawal.amount, withdrawal.status) == (a.user.pk, fen, WithdrawalStatus.PENDING)
    assert available(a) == 10_000 - fen
    assert ledger.check_ledger() == []


def test_withdrawal_to_a_bank_with_fee_shows_in_the_history() -> None:
    configure(withdrawal_fee_bp=100)
    a, *_rest = earn()
    client = signed_in(a)
    client.post(WITHDRAW, {"amount": "50", "channel": "bank", "account": " 6222 0000 "})
    withdrawal = Withdrawal.objects.get()
    assert (withdrawal.amount, withdrawal.fee, withdrawal.net, withdrawal.account) == (5000, 50, 4950, "6222 0000")
    page = text(client.get(WITHDRAW))
    assert "手续费 1%" in page
    assert "手续费 ¥0.50，到账 ¥49.50" in page
    assert "银行卡" in page and "待审核" in page
    assert 'id="withdraw-available">¥50.00<' in page


@pytest.mark.parametrize(
    "data,status,message",
    [
        ({"amount": "9.99", "channel": "wallet"}, 422, "最低提现 ¥10.00"),
        ({"amount": "100.01", "channel": "wallet"}, 409, "超过可提现佣金 ¥100.00"),
        ({"amount": "50", "channel": "alipay", "account": "  "}, 422, "请填写收款账号"),
        ({"amount": "12.345", "channel": "wallet"}, 400, "金额最多两位小数"),
        ({"amount": "abc", "channel": "wallet"}, 400, "请填写正确的金额"),
        ({"amount": "NaN", "channel": "wallet"}, 400, "请填写正确的金额"),
        ({"amount": "-5", "channel": "wallet"}, 400, "提现金额须大于 0"),
        ({"amount": "0", "channel": "wallet"}, 400, "提现金额须大于 0"),
        ({"amount": "", "channel": "wallet"}, 400, "请填写提现金额"),
        ({"amount": "1" * 13, "channel": "wallet"}, 400, "提现金额太大"),
        ({"amount": "20", "channel": "paypal"}, 400, "请选择到账方式"),
        ({"amount": "20"}, 400, "请选择到账方式"),
    ],
)
def test_withdrawal_refusals_are_shown_in_the_form(data: dict[str, str], status: int, message: str) -> None:
    a, *_rest = earn()
    response = signed_in(a).post(WITHDRAW, data)
    assert response.status_code == status
    assert message in text(response)
    assert 'id="withdraw-form"' in text(response)
    assert Withdrawal.objects.count() == 0
    assert available(a) == 10_000
    assert ledger.check_ledger() == []


def test_the_form_keeps_what_was_typed_after_a_refusal() -> None:
    a, *_rest = earn()
    page = text(signed_in(a).post(WITHDRAW, {"amount": "30", "channel": "alipay", "account": ""}))
    assert 'name="amount" inputmode="decimal" autocomplete="off" value="30"' in page
    assert '<option value="alipay" selected>' in page


def test_withdrawal_below_the_configured_minimum() -> None:
    configure(withdrawal_min=5_000)
    a, *_rest = earn()
    response = signed_in(a).post(WITHDRAW, {"amount": "49.99", "channel": "wallet"})
    assert response.status_code == 422
    assert "最低提现 ¥50.00" in text(response)


# --- posters ------------------------------------------------------------------------------


def photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (400, 400), (120, 170, 90)).save(out, format="PNG")
    return out.getvalue()


def test_poster_page_shows_the_poster_and_a_download_link() -> None:
    a = shopper()
    code = promoter(a).code
    (sku,) = skus(8_800)
    catalog.add_image(sku.product_id, photo())
    page = signed_in(a).get(f"{POSTER}?product_id={sku.product_id}")
    assert page.status_code == 200
    body = text(page)
    assert f'src="{POSTER_PNG}?product_id={sku.product_id}"' in body
    assert f'href="{POSTER_PNG}?product_id={sku.product_id}&amp;download=1" download' in body
    assert code in body
    assert f'data-product="{sku.product_id}"' in body  # the picker lists published products


@pytest.mark.parametrize("with_product", [True, False])
def test_poster_png_is_750_by_1180(with_product: bool) -> None:
    a = shopper()
    promoter(a)
    (sku,) = skus(8_800)
    catalog.add_image(sku.product_id, photo())
    query = f"?product_id={sku.product_id}" if with_product else ""
    response = signed_in(a).get(f"{POSTER_PNG}{query}")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert "Content-Disposition" not in response
    with Image.open(io.BytesIO(response.content)) as img:
        assert (img.format, img.size) == ("PNG", (750, 1180))


def test_poster_download_is_an_attachment() -> None:
    a = shopper()
    code = promoter(a).code
    (sku,) = skus(8_800)
    response = signed_in(a).get(f"{POSTER_PNG}?product_id={sku.product_id}&download=1")
    assert response["Content-Disposition"] == f'attachment; filename="jishi-poster-{code}-{sku.product_id}.png"'


@pytest.mark.parametrize("product_id", ["abc", "0", "999999999", "draft"])
def test_poster_for_a_missing_or_unpublished_product_is_404(product_id: str) -> None:
    a = shopper()
    promoter(a)
    if product_id == "draft":
        product_id = str(ProductFactory(status=ProductStatus.DRAFT).pk)
    client = signed_in(a)
    page = client.get(f"{POSTER}?product_id={product_id}")
    assert page.status_code == 404
    assert "商品不存在或已下架" in text(page)
    assert client.get(f"{POSTER_PNG}?product_id={product_id}").status_code == 404


# --- referral links -----------------------------------------------------------------------


def test_referral_link_remembers_the_code_for_a_visitor(client: Client) -> None:
    a = shopper()
    code = promoter(a).code
    response = client.get(f"/promoter/r/{code.lower()}/")
    assert (response.status_code, response["Location"]) == (302, "/")
    assert client.session[promoter_views.REFERRAL_SESSION_KEY] == code
    assert Binding.objects.count() == 0


def test_referral_link_binds_a_signed_in_buyer() -> None:
    a, me = shopper(), shopper()
    code = promoter(a).code
    response = signed_in(me).get(f"/promoter/r/{code}/")
    assert response["Location"] == "/"
    binding = Binding.objects.get(buyer=me.user)
    assert (binding.promoter_id, binding.source) == (a.user.pk, BindingSource.LINK)


def test_code_remembered_before_login_binds_after_login(client: Client) -> None:
    a, me = shopper(), shopper()
    code = promoter(a).code
    client.get(f"/promoter/r/{code}/")
    client.force_login(me.user)
    request = client.get("/").wsgi_request
    assert promoter_views.bind_session_referral(request) is True
    assert Binding.objects.get(buyer=me.user).promoter_id == a.user.pk


@pytest.mark.parametrize("code", ["NOSUCHCD", "ab-cd", "X" * 17])
def test_unknown_codes_are_ignored(client: Client, code: str) -> None:
    response = client.get(f"/promoter/r/{code}/")
    assert (response.status_code, response["Location"]) == (302, "/")
    assert promoter_views.REFERRAL_SESSION_KEY not in client.session


def test_my_own_link_does_not_bind_me() -> None:
    a = shopper()
    code = promoter(a).code
    response = signed_in(a).get(f"/promoter/r/{code}/")
    assert response.status_code == 302
    assert Binding.objects.count() == 0


# --- another promoter's rows --------------------------------------------------------------


def test_nothing_of_another_promoter_is_visible() -> None:
    a, a_customer, a_order = earn()
    b, b_customer, b_order = earn(50_000)
    services.request_withdrawal(b.user, 4_321, "alipay", "b-alipay@example.com")
    client = signed_in(a)
    pages = "".join(
        text(client.get(path)) for path in (CENTRE, f"{TEAM}?level=1", f"{TEAM}?level=2", COMMISSIONS, WITHDRAW, POSTER)
    )
    b_code = Promoter.objects.get(user=b.user).code
    for secret in (b_order.number, b_customer.user.nickname, b_code, "¥43.21", "b-alipay@example.com"):
        assert secret not in pages
    assert a_order.number in pages and a_customer.user.nickname in pages
    # Ids in the query string select nothing of anyone else.
    response = client.get(f"{COMMISSIONS}?user_id={b.user.pk}&beneficiary={b.user.pk}")
    assert [c.order_number for c in response.context["page"].object_list] == [a_order.number]
    assert Commission.objects.filter(status=CommissionStatus.AVAILABLE).count() == 2
