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
    console.post("/console/commission/withdrawal/", {"action": "approve_to_wallet", "_selected_action": [w.pk]})
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
