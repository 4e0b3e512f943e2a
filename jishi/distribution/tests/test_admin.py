from __future__ import annotations

import pytest
from django.test import Client

from jishi.commission.models import Withdrawal
from jishi.core import ledger
from jishi.core.models import AccountKind
from jishi.distribution import services
from jishi.distribution.models import Promoter
from jishi.testing.factories import AdminFactory
from jishi.testing.shop import shopper

from .helpers import buy, chain, configure
from .test_distribution import earn

pytestmark = pytest.mark.django_db


@pytest.fixture
def console() -> Client:
    client = Client()
    client.force_login(AdminFactory())
    return client


def test_leaderboard_page_draws_a_chart(console: Client) -> None:
    a, b = chain(2, wallet=100_000)
    buy(b, 10000)
    page = console.get("/console/distribution/promoter/leaderboard/?days=30")
    assert page.status_code == 200
    assert b"<svg" in page.content
    assert "¥10.00".encode() in page.content
    assert console.get("/console/distribution/promoter/leaderboard/?days=x").status_code == 200


def test_approve_action_activates_pending_promoters(console: Client) -> None:
    configure(join="approval")
    s = shopper()
    p = services.apply(s.user)
    response = console.post("/console/distribution/promoter/", {"action": "approve", "_selected_action": [p.pk]})
    assert response.status_code == 302
    assert Promoter.objects.get(pk=p.pk).status == "active"


def test_withdrawal_approve_action_pays_the_wallet(console: Client) -> None:
    a = earn()
    w = services.request_withdrawal(a.user, 5000, "wallet")
    console.post(
        "/console/commission/withdrawal/", {"action": "approve_to_wallet", "_selected_action": [w.pk], "confirm": "yes"}
    )
    assert Withdrawal.objects.get(pk=w.pk).status == "paid"
    assert ledger.balance_of(a.user.pk, AccountKind.WALLET) >= 5000


@pytest.mark.parametrize(
    "url",
    [
        "/console/distribution/promoter/",
        "/console/distribution/binding/",
        "/console/commission/commission/",
        "/console/commission/withdrawal/",
        "/console/distribution/distributionsettings/",
        "/console/distribution/promoterlevel/",
    ],
)
def test_console_lists_load(console: Client, url: str) -> None:
    a, b = chain(2, wallet=100_000)
    buy(b, 10000)
    assert console.get(url, follow=True).status_code == 200  # one-row settings open their own page


def settings_form(**overrides: object) -> dict[str, object]:
    return {
        "enabled": "on",
        "levels": "2",
        "rates_bp": "12, 6.5",
        "binding": "permanent",
        "binding_days": "30",
        "join": "everyone",
        "join_spend": "0",
        "freeze_days": "7",
        "withdrawal_min": "10.00",
        "withdrawal_fee_bp": "0.6",
        **overrides,
    }


def settings_url() -> str:
    return f"/console/distribution/distributionsettings/{services.get_settings(fresh=True).pk}/change/"


def test_settings_page_takes_rates_in_percent_and_money_in_yuan(console: Client) -> None:
    response = console.post(settings_url(), settings_form())
    row = services.get_settings(fresh=True)
    assert response.status_code == 302
    assert (row.levels, row.rates_bp[:2], row.withdrawal_min, row.withdrawal_fee_bp) == (2, [1200, 650], 1000, 60)
    page = console.get(settings_url()).content.decode()
    assert 'value="12, 6.5' in page and 'value="10.00"' in page


def test_three_levels_need_the_legal_acknowledgement(console: Client) -> None:
    refused = console.post(settings_url(), settings_form(levels="3", rates_bp="10, 5, 2"))
    assert refused.context["adminform"].form.errors["acknowledge_multilevel"] == ["选择 3 级分销前请确认已了解法律风险"]
    assert services.get_settings(fresh=True).levels == 2
    console.post(settings_url(), settings_form(levels="3", rates_bp="10, 5, 2", acknowledge_multilevel="on"))
    assert services.get_settings(fresh=True).levels == 3
    assert "multilevel-warning" in console.get(settings_url()).content.decode()


def test_rates_above_100_percent_in_total_are_refused_on_the_field(console: Client) -> None:
    refused = console.post(settings_url(), settings_form(rates_bp="60, 50"))
    assert refused.context["adminform"].form.errors["rates_bp"] == ["各级佣金比例之和不能超过 100%"]


def test_settings_cannot_be_added_or_deleted(console: Client) -> None:
    row = services.get_settings(fresh=True)
    assert console.get("/console/distribution/distributionsettings/add/").status_code == 403
    assert console.post(f"/console/distribution/distributionsettings/{row.pk}/delete/").status_code == 403


@pytest.mark.parametrize(("fixed", "typed", "stored"), [(False, "10, 5", [1000, 500]), (True, "5, 2.5", [500, 250])])
def test_product_commission_rule_is_typed_in_percent_or_yuan(
    console: Client, fixed: bool, typed: str, stored: list[int]
) -> None:
    from jishi.distribution.models import CommissionRule
    from jishi.testing.factories import ProductFactory

    product = ProductFactory()
    form = {"product": product.pk, "values_text": typed, **({"fixed": "on"} if fixed else {})}
    response = console.post("/console/distribution/commissionrule/add/", form)
    assert response.status_code == 302
    rule = CommissionRule.objects.get()
    assert (rule.product_id, rule.fixed, rule.values) == (product.pk, fixed, stored)
    listing = console.get("/console/distribution/commissionrule/").content.decode()
    assert ("10% / 5%" if not fixed else "¥5.00 / ¥2.50") in listing
