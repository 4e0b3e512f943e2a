"""Ops console for payments: read-only lists and detail, and the operator's wallet top-up page."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from jishi.accounts.models import Role
from jishi.core import ledger
from jishi.core.models import AccountKind, AuditLog
from jishi.orders import services as orders
from jishi.payments.models import NoticeLog, Payment, PaymentMethod
from jishi.payments.services import pay_with_wallet, start_payment
from jishi.testing.factories import AdminFactory, OperatorFactory, UserFactory
from jishi.testing.shop import Shopper, shopper, skus

pytestmark = pytest.mark.django_db

TOP_UP = "/console/wallet/top-up/"


@pytest.fixture
def staff_operator() -> Any:
    return OperatorFactory(is_staff=True)


@pytest.fixture
def console(staff_operator: Any) -> Client:
    client = Client()
    client.force_login(staff_operator)
    return client


def refunded_wallet_payment(s: Shopper) -> Payment:
    (sku,) = skus(19900)
    order = orders.place_order(s.user, [(sku.pk, 1)], s.address.pk)
    payment = pay_with_wallet(s.user, order.pk)
    line = order.lines.get()
    case = orders.request_after_sale(s.user, order.pk, [(line.pk, 1)], 3000, "少件")
    orders.approve_after_sale(None, case.pk)
    return payment


def wallet(user: Any) -> int:
    return ledger.balance_of(user.pk, AccountKind.WALLET)


# --- read-only pages ----------------------------------------------------------------------


def test_payment_pages_list_and_show_payments_with_refunds(console: Client) -> None:
    payment = refunded_wallet_payment(shopper(wallet=100_000))
    refund = payment.refunds.get()

    pages = [
        console.get(reverse("admin:payments_payment_changelist")),
        console.get(reverse("admin:payments_payment_change", args=[payment.pk])),
        console.get(reverse("admin:payments_refund_changelist")),
        console.get(reverse("admin:payments_refund_change", args=[refund.pk])),
    ]

    assert [p.status_code for p in pages] == [200, 200, 200, 200]
    assert all(payment.payment_no in p.content.decode() for p in pages)
    assert all("¥30.00" in p.content.decode() for p in pages)  # the refunded amount


@pytest.mark.parametrize("query", ["payment_no", "order_number"])
def test_payments_are_searchable_by_payment_and_order_number(console: Client, query: str) -> None:
    mine = refunded_wallet_payment(shopper(wallet=100_000))
    theirs = refunded_wallet_payment(shopper(wallet=100_000))
    q = mine.payment_no if query == "payment_no" else mine.order.number

    response = console.get(reverse("admin:payments_payment_changelist"), {"q": q})

    assert [p.pk for p in response.context["cl"].result_list] == [mine.pk]
    assert theirs.payment_no not in response.content.decode()


def test_payments_filter_by_method(console: Client) -> None:
    s = shopper(wallet=100_000)
    wallet_payment = refunded_wallet_payment(s)
    (sku,) = skus(5000)
    order = orders.place_order(s.user, [(sku.pk, 1)], s.address.pk)
    start_payment(s.user, order.pk, PaymentMethod.SANDBOX)

    response = console.get(reverse("admin:payments_payment_changelist"), {"method__exact": "wallet"})

    assert [p.pk for p in response.context["cl"].result_list] == [wallet_payment.pk]


def test_notice_log_lists_provider_outcome_and_verification(console: Client) -> None:
    notice = NoticeLog.objects.create(provider="sandbox", payment_no="P1234", verified=False, outcome="bad_sig")

    listing = console.get(reverse("admin:payments_noticelog_changelist"))
    detail = console.get(reverse("admin:payments_noticelog_change", args=[notice.pk]))

    assert (listing.status_code, detail.status_code) == (200, 200)
    assert "P1234" in listing.content.decode()
    assert "bad_sig" in listing.content.decode()


def test_order_page_lists_its_payment(console: Client) -> None:
    payment = refunded_wallet_payment(shopper(wallet=100_000))

    response = console.get(reverse("admin:orders_order_change", args=[payment.order_id]))

    assert payment.payment_no in response.content.decode()


def test_payments_cannot_be_changed_from_the_console(console: Client) -> None:
    payment = refunded_wallet_payment(shopper(wallet=100_000))

    response = console.post(reverse("admin:payments_payment_change", args=[payment.pk]), {"status": "failed"})

    assert response.status_code == 403
    assert Payment.objects.get(pk=payment.pk).status == "paid"


# --- wallet top-up ------------------------------------------------------------------------


def test_index_links_the_top_up_page(console: Client) -> None:
    body = console.get("/console/").content.decode()

    assert f'href="{TOP_UP}"' in body


@pytest.mark.parametrize(("typed", "fen"), [("12.34", 1234), ("50", 5000), ("0.01", 1), ("7.5", 750), ("1.230", 123)])
def test_top_up_credits_the_exact_fen_amount(console: Client, staff_operator: Any, typed: str, fen: int) -> None:
    buyer = UserFactory()

    response = console.post(TOP_UP, {"phone": buyer.phone, "amount": typed, "note": "补偿"})

    assert response.status_code == 302
    assert wallet(buyer) == fen
    log = AuditLog.objects.get()
    assert (log.actor_id, log.action, log.target, log.data) == (
        staff_operator.pk,
        "wallet.top_up",
        f"user:{buyer.pk}",
        {"amount": fen, "note": "补偿"},
    )
    assert ledger.check_ledger() == []


def test_top_up_reports_the_new_balance(console: Client) -> None:
    buyer = UserFactory()
    console.post(TOP_UP, {"phone": buyer.phone, "amount": "1.00"})

    response = console.post(TOP_UP, {"phone": buyer.phone, "amount": "2.50"})

    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        f"已为 {buyer.phone} 充值 ¥1.00，当前余额 ¥1.00",
        f"已为 {buyer.phone} 充值 ¥2.50，当前余额 ¥3.50",
    ]


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("1.234", "金额最多两位小数"),
        ("-5", "请输入金额，例如 12.50"),
        ("abc", "请输入金额，例如 12.50"),
        ("0", "金额必须大于 0"),
        ("0.00", "金额必须大于 0"),
        ("1e3", "请输入金额，例如 12.50"),
        ("NaN", "请输入金额，例如 12.50"),
        ("12345678901.00", "请输入金额，例如 12.50"),
        ("", "这个字段是必填项。"),
    ],
)
def test_top_up_rejects_bad_amounts(console: Client, typed: str, error: str) -> None:
    buyer = UserFactory()

    response = console.post(TOP_UP, {"phone": buyer.phone, "amount": typed})

    assert response.status_code == 200
    assert response.context["forms"][0].form.errors == {"amount": [error]}
    assert wallet(buyer) == 0
    assert AuditLog.objects.count() == 0


@pytest.mark.parametrize(("phone", "error"), [("13999999999", "用户不存在"), ("12345", "手机号格式不正确")])
def test_top_up_rejects_unknown_or_malformed_phones(console: Client, phone: str, error: str) -> None:
    response = console.post(TOP_UP, {"phone": phone, "amount": "10"})

    assert response.status_code == 200
    assert response.context["forms"][0].form.errors == {"phone": [error]}
    assert AuditLog.objects.count() == 0


def test_staff_without_operator_role_gets_403_on_top_up() -> None:
    buyer = UserFactory()
    client = Client()
    client.force_login(UserFactory(is_staff=True, roles=[Role.BUYER]))

    responses = [client.get(TOP_UP), client.post(TOP_UP, {"phone": buyer.phone, "amount": "10"})]

    assert [r.status_code for r in responses] == [403, 403]
    assert wallet(buyer) == 0
    assert f'href="{TOP_UP}"' not in client.get("/console/").content.decode()


def test_anonymous_visitors_are_sent_to_the_login_page() -> None:
    response = Client().get(TOP_UP)

    assert response.status_code == 302
    assert response["Location"].startswith("/console/login/")


def test_superuser_admin_may_top_up() -> None:
    buyer = UserFactory()
    client = Client()
    client.force_login(AdminFactory())

    client.post(TOP_UP, {"phone": buyer.phone, "amount": "10"})

    assert wallet(buyer) == 1000


def test_top_up_page_switches_to_english(console: Client) -> None:
    console.post("/i18n/setlang/", {"language": "en", "next": TOP_UP})

    body = console.get(TOP_UP).content.decode()

    assert "Log out" in body
    assert 'action="/i18n/setlang/"' in body
