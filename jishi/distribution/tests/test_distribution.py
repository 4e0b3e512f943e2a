from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from PIL import Image

from conftest import Api
from jishi.commission import services as commission
from jishi.commission.models import Commission, CommissionStatus, Withdrawal
from jishi.core import ledger
from jishi.core.events import deliver_pending
from jishi.core.models import AccountKind, AuditLog
from jishi.distribution import services
from jishi.distribution.models import Binding, BindingHistory, CommissionRule, Promoter, PromoterLevel
from jishi.orders import services as orders
from jishi.testing.factories import OperatorFactory
from jishi.testing.shop import shopper

from .helpers import buy, chain, configure, promoter

pytestmark = pytest.mark.django_db


def frozen(s: Any) -> int:
    return ledger.balance_of(s.user.pk, AccountKind.COMMISSION_FROZEN)


def available(s: Any) -> int:
    return ledger.balance_of(s.user.pk, AccountKind.COMMISSION_AVAILABLE)


# --- settings ----------------------------------------------------------------------


def test_settings_defaults_and_update(operator_api: Any) -> None:
    body = operator_api.get("admin/distribution/settings").json()
    assert (body["levels"], body["rates_bp"], body["freeze_days"], body["binding"]) == (
        2,
        [1000, 500, 200],
        7,
        "permanent",
    )
    assert (body["join"], body["self_purchase"], body["withdrawal_min"], body["withdrawal_fee_bp"]) == (
        "everyone",
        False,
        1000,
        0,
    )
    updated = operator_api.put("admin/distribution/settings", {"levels": 3, "binding": "days", "binding_days": 15})
    assert updated.status_code == 200
    assert (updated.json()["levels"], updated.json()["binding_days"]) == (3, 15)
    assert AuditLog.objects.filter(action="distribution.settings").count() == 1


@pytest.mark.parametrize(
    "body,code",
    [
        ({"levels": 4}, "levels_not_allowed"),
        ({"levels": 3, "rates_bp": [6000, 3000, 2000]}, "rates_exceed_total"),
        ({"levels": 3, "rates_bp": [1000, 500]}, "invalid_rates"),
    ],
)
def test_illegal_settings_are_refused(operator_api: Any, body: dict[str, Any], code: str) -> None:
    response = operator_api.put("admin/distribution/settings", body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == code
    assert operator_api.get("admin/distribution/settings").json()["levels"] == 2


def test_buyers_cannot_change_settings(buyer_api: Any) -> None:
    assert buyer_api.put("admin/distribution/settings", {"levels": 1}).status_code == 403


# --- promoters and binding ---------------------------------------------------------


def test_apply_modes() -> None:
    s = shopper()
    assert Api(s.token).post("distribution/apply").json()["status"] == "active"
    configure(join="approval")
    t = shopper()
    p = services.apply(t.user)
    assert p.status == "pending"
    services.review(OperatorFactory(), p.pk, "approve")
    assert Promoter.objects.get(pk=p.pk).status == "active"
    configure(join="spend", join_spend=5000)
    u = shopper(wallet=100_000)
    response = Api(u.token).post("distribution/apply")
    assert response.json()["error"]["code"] == "spend_threshold_not_met"
    order = buy(u, 4900)  # 4900 + 1000 shipping paid
    orders.ship_order(OperatorFactory(), order.pk, "SF", "1")
    orders.confirm_receipt(u.user, order.pk)
    deliver_pending()
    assert Promoter.objects.get(user=u.user).status == "active"  # qualified on completion


def test_self_binding_cycles_and_bad_codes_are_refused() -> None:
    a, b = chain(2)
    b_code = promoter(b).code
    response = Api(a.token).post("distribution/bind", {"code": b_code})
    assert response.json()["error"]["code"] == "binding_cycle"
    own = Api(b.token).post("distribution/bind", {"code": b_code})
    assert own.json()["error"]["code"] == "self_binding"
    assert Api(a.token).post("distribution/bind", {"code": "NOPE1234"}).status_code == 404
    assert Binding.objects.count() == 1


def test_permanent_binding_keeps_the_first_promoter() -> None:
    a, b = shopper(), shopper()
    buyer = shopper()
    services.bind(buyer.user, promoter(a).code)
    body = Api(buyer.token).post("distribution/bind", {"code": promoter(b).code}).json()
    assert body["changed"] is False
    assert Binding.objects.get(buyer=buyer.user).promoter_id == a.user.pk


def test_days_binding_expires_then_rebinds() -> None:
    configure(binding="days", binding_days=30)
    a, b, buyer = shopper(), shopper(), shopper()
    now = timezone.now()
    services.bind(buyer.user, promoter(a).code, now=now)
    _, changed = services.bind(buyer.user, promoter(b).code, now=now + timedelta(days=29))
    assert changed is False
    assert services.current_promoter_user_id(buyer.user.pk, now + timedelta(days=31)) is None
    _, changed = services.bind(buyer.user, promoter(b).code, now=now + timedelta(days=31))
    assert changed is True
    assert Binding.objects.get(buyer=buyer.user).promoter_id == b.user.pk
    assert list(BindingHistory.objects.filter(buyer=buyer.user).order_by("id").values_list("action", flat=True)) == [
        "bound",
        "rebound",
    ]


def test_last_touch_rebinds_every_time() -> None:
    configure(binding="last_touch")
    a, b, buyer = shopper(), shopper(), shopper()
    services.bind(buyer.user, promoter(a).code)
    services.bind(buyer.user, promoter(b).code)
    assert Binding.objects.get(buyer=buyer.user).promoter_id == b.user.pk


def test_first_order_with_a_referral_code_binds() -> None:
    a = shopper()
    buyer = shopper(wallet=100_000)
    buy(buyer, 10000, ref=promoter(a).code)
    assert Binding.objects.get(buyer=buyer.user).source == "order"
    assert frozen(a) == 1000


def test_frozen_promoters_earn_nothing() -> None:
    a, b = chain(2, wallet=100_000)
    services.review(OperatorFactory(), Promoter.objects.get(user=a.user).pk, "freeze")
    buy(b, 10000)
    assert frozen(a) == 0


# --- commission rules ---------------------------------------------------------------


def test_default_two_levels_on_the_paid_amount() -> None:
    a, b, c = chain(3, wallet=100_000)
    buy(c, 12345)
    assert (frozen(b), frozen(a)) == (1235, 617)  # 10% and 5% of ¥123.45, split with no fen lost


def test_product_and_sku_overrides() -> None:
    a, b = chain(2, wallet=100_000)
    from jishi.testing.shop import skus

    (sku,) = skus(10000)
    CommissionRule.objects.create(product_id=sku.product_id, fixed=True, values=[300])
    order = orders.place_order(b.user, [(sku.pk, 2)], b.address.pk)
    from jishi.payments.services import pay_with_wallet

    pay_with_wallet(b.user, order.pk)
    deliver_pending()
    assert frozen(a) == 600  # ¥3 per unit × 2
    CommissionRule.objects.create(sku_id=sku.pk, values=[2000])
    buy_again = orders.place_order(b.user, [(sku.pk, 1)], b.address.pk)
    pay_with_wallet(b.user, buy_again.pk)
    deliver_pending()
    assert frozen(a) == 600 + 2000  # the SKU rule beats the product rule: 20%


def test_promoter_level_rates_and_upgrade() -> None:
    PromoterLevel.objects.create(name="金牌", rank=1, rates_bp=[2000, 500], min_team=2)
    a = shopper()
    code = promoter(a).code
    b, c = shopper(wallet=100_000), shopper(wallet=100_000)
    services.bind(b.user, code)
    services.bind(c.user, code)
    assert services.evaluate_levels() == 1
    buy(b, 10000)
    assert frozen(a) == 2000


def test_campaign_orders_pay_no_commission_unless_allowed() -> None:
    from jishi.orders import pipeline

    class Campaign(pipeline.BaseStep):
        code = "test_campaign"
        position = pipeline.ACTIVITY_PRICE

        def apply(self, checkout: pipeline.Checkout) -> None:
            checkout.meta["campaign"] = {"kind": "flash", "id": 1, "commission": False, "points": True}

    pipeline.register_step(Campaign())
    try:
        a, b = chain(2, wallet=100_000)
        buy(b, 10000)
    finally:
        pipeline.unregister_step("test_campaign")
    assert frozen(a) == 0


def test_self_purchase_pays_the_buyer_as_level_one() -> None:
    configure(self_purchase=True)
    a, b = chain(2, wallet=100_000)
    promoter(b)
    buy(b, 10000)
    assert (frozen(b), frozen(a)) == (1000, 500)


def test_refund_before_unfreeze_reverses_frozen_and_blocks_nothing_else() -> None:
    a, b = chain(2, wallet=100_000)
    order = buy(b, 10000)
    line = order.lines.get()
    case = orders.request_after_sale(b.user, order.pk, [(line.pk, 1)], 11000, "不要了")
    orders.approve_after_sale(OperatorFactory(), case.pk)
    deliver_pending()
    assert frozen(a) == 0
    assert Commission.objects.get().status == CommissionStatus.REVERSED
    assert ledger.check_ledger() == []


def test_open_after_sales_case_holds_the_unfreeze() -> None:
    a, b = chain(2, wallet=100_000)
    order = buy(b, 10000)
    orders.ship_order(OperatorFactory(), order.pk, "SF", "1")
    orders.confirm_receipt(b.user, order.pk)
    deliver_pending()
    line = order.lines.get()
    orders.request_after_sale(b.user, order.pk, [(line.pk, 1)], 100, "划痕")
    assert commission.unfreeze_due(timezone.now() + timedelta(days=8)) == 0
    assert frozen(a) == 1000


def test_refund_after_withdrawal_becomes_a_debt_paid_by_later_commissions() -> None:
    a, b = chain(2, wallet=1_000_000)
    order = buy(b, 20000)
    orders.ship_order(OperatorFactory(), order.pk, "SF", "1")
    orders.confirm_receipt(b.user, order.pk)
    deliver_pending()
    commission.unfreeze_due(timezone.now() + timedelta(days=8))
    w = services.request_withdrawal(a.user, 2000, "wallet")
    commission.approve_withdrawal(OperatorFactory(), w.pk)
    assert available(a) == 0
    line = order.lines.get()
    case = orders.request_after_sale(b.user, order.pk, [(line.pk, 1)], 20000, "质量问题")
    orders.approve_after_sale(OperatorFactory(), case.pk)
    deliver_pending()
    assert commission.totals(a.user.pk)["debt"] == 2000
    next_order = buy(b, 30000)
    orders.ship_order(OperatorFactory(), next_order.pk, "SF", "2")
    orders.confirm_receipt(b.user, next_order.pk)
    deliver_pending()
    commission.unfreeze_due(timezone.now() + timedelta(days=8))
    assert commission.totals(a.user.pk)["debt"] == 0
    assert available(a) == 3000 - 2000
    assert ledger.check_ledger() == []


# --- withdrawals --------------------------------------------------------------------


def earn(amount_order: int = 100_000) -> Any:
    a, b = chain(2, wallet=1_000_000)
    order = buy(b, amount_order)
    orders.ship_order(OperatorFactory(), order.pk, "SF", "1")
    orders.confirm_receipt(b.user, order.pk)
    deliver_pending()
    commission.unfreeze_due(timezone.now() + timedelta(days=8))
    return a  # 10% of ¥1000 = ¥100 available


@pytest.mark.parametrize(
    "body,status,code",
    [
        ({"amount": 999, "channel": "wallet"}, 422, "below_minimum"),
        ({"amount": 10001, "channel": "wallet"}, 409, "insufficient_balance"),
        ({"amount": 5000, "channel": "alipay"}, 422, "account_required"),
    ],
)
def test_withdrawal_limits(body: dict[str, Any], status: int, code: str) -> None:
    a = earn()
    response = Api(a.token).post("distribution/withdrawals", body)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert Withdrawal.objects.count() == 0
    assert available(a) == 10000


def test_withdrawal_to_wallet_with_fee(operator_api: Any) -> None:
    configure(withdrawal_fee_bp=100)
    a = earn()
    created = Api(a.token).post("distribution/withdrawals", {"amount": 5000, "channel": "wallet"}).json()
    assert (created["fee"], created["net"], created["status"]) == (50, 4950, "pending")
    assert available(a) == 5000
    before = ledger.balance_of(a.user.pk, AccountKind.WALLET)
    paid = operator_api.post(f"admin/distribution/withdrawals/{created['id']}/approve")
    assert paid.json()["status"] == "paid"
    assert ledger.balance_of(a.user.pk, AccountKind.WALLET) == before + 4950
    assert operator_api.post(f"admin/distribution/withdrawals/{created['id']}/approve").status_code == 409
    assert Api(a.token).get("distribution/me").json()["withdrawn"] == 5000
    assert ledger.check_ledger() == []


def test_rejected_withdrawal_returns_the_money(operator_api: Any) -> None:
    a = earn()
    created = (
        Api(a.token).post("distribution/withdrawals", {"amount": 3000, "channel": "bank", "account": "6222"}).json()
    )
    assert operator_api.post(f"admin/distribution/withdrawals/{created['id']}/approve").json()["error"]["code"] == (
        "reference_required"
    )
    operator_api.post(f"admin/distribution/withdrawals/{created['id']}/reject", {"reason": "户名不符"})
    assert available(a) == 10000


def test_withdrawal_replay_with_idempotency_key_holds_once() -> None:
    a = earn()
    api = Api(a.token)
    for _ in range(3):
        api.post("distribution/withdrawals", {"amount": 2000, "channel": "wallet"}, headers={"Idempotency-Key": "w1"})
    assert Withdrawal.objects.count() == 1
    assert available(a) == 8000


# --- promoter centre ----------------------------------------------------------------


def test_promoter_centre_shows_money_and_team_by_level() -> None:
    configure(levels=3)
    a, _b, _c, d = chain(4, wallet=100_000)
    shopper_e = shopper()
    services.bind(shopper_e.user, promoter(a).code)
    buy(d, 10000)
    me = Api(a.token).get("distribution/me").json()
    assert me["team"] == {"1": 2, "2": 1, "3": 1}
    assert (me["frozen"], me["available"], me["withdrawn"], me["status"]) == (200, 0, 0, "active")
    team = Api(a.token).get("distribution/team?level=1").json()
    assert team["count"] == 2
    assert all("****" in m["phone"] for m in team["items"])
    assert Api(a.token).get("distribution/commissions").json()["items"][0]["amount"] == 200


def test_poster_is_a_png_with_my_code() -> None:
    a = shopper()
    promoter(a)
    from jishi.testing.shop import skus

    (sku,) = skus(8800)
    response = Api(a.token).get(f"distribution/poster?product_id={sku.product_id}")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    with Image.open(io.BytesIO(response.content)) as img:
        assert img.size == (750, 1180)
    assert Api(shopper().token).get("distribution/poster").status_code == 404


def test_leaderboard_and_binding_lookup(operator_api: Any) -> None:
    a, b = chain(2, wallet=100_000)
    buy(b, 10000)
    board = operator_api.get("admin/distribution/leaderboard").json()
    assert board[0]["user_id"] == a.user.pk
    assert board[0]["earned"] == 1000
    lookup = operator_api.get(f"admin/distribution/bindings?phone={b.user.phone}").json()
    assert lookup["promoter"] == a.user.phone


def test_inviting_a_new_buyer_earns_the_promoter_points() -> None:
    from jishi.loyalty import points

    a, newcomer = shopper(), shopper()
    services.bind(newcomer.user, promoter(a).code)
    invite_points = points.balance(a.user.pk)
    assert invite_points == 50  # loyalty's default invitation reward
    returning = shopper(wallet=100_000)
    buy(returning, 1000)
    services.bind(returning.user, promoter(a).code)  # has bought before: not a new buyer
    assert points.balance(a.user.pk) == invite_points
