"""The rebate console: every list renders, the secret is write-only, the queue assigns, the
split form refuses more than 100%, and the reconciliation page shows a month."""

from __future__ import annotations

import pytest
from django.test import Client

from jishi.rebate import feeds, lifecycle
from jishi.rebate.credentials import decrypt_secret
from jishi.rebate.models import NetworkOrder, OrderStatus, RebateSource, RebateSplit, ReviewState
from jishi.testing.factories import AdminFactory, OperatorFactory, UserFactory

from .conftest import moved, refund_case, report, tracked_buyer, waiting_penalty
from .test_feeds import TAOBAO_ITEM
from .test_reconcile import SETTLED_AT, a_source

pytestmark = pytest.mark.django_db


@pytest.fixture
def console() -> Client:
    client = Client()
    client.force_login(AdminFactory())
    return client


@pytest.mark.parametrize(
    "page",
    [
        "rebatesource",
        "syncrun",
        "rebategoods",
        "networkorder",
        "unmatchedorder",
        "orderadjustment",
        "orderanomaly",
        "rebatesplit",
    ],
)
def test_lists_render(console: Client, page: str) -> None:
    feeds.import_goods("taobao", [TAOBAO_ITEM])
    _buyer, link = tracked_buyer()
    lifecycle.record_reports(None, "taobao", [report(link), report(None, n=2)])
    response = console.get(f"/console/rebate/{page}/")
    assert response.status_code == 200


def test_refund_and_penalty_cases_show_what_they_took_back(console: Client) -> None:
    _buyer, link = tracked_buyer()
    lifecycle.record_reports(None, "taobao", [report(link)])
    order = NetworkOrder.objects.get()
    refund_case(order, fee=5000, commission=250)
    waiting_penalty(9)
    page = console.get("/console/rebate/orderadjustment/").content.decode()
    assert "维权成功（2）" in page and "处罚冻结（0）" in page and "¥2.50" in page and "¥50.00" in page
    waiting = console.get("/console/rebate/orderadjustment/?applied=no").content.decode()
    assert "O9" in waiting and "维权成功" not in waiting
    assert console.get("/console/rebate/orderadjustment/add/").status_code == 403  # the sync writes them


def test_source_secret_is_write_only_in_the_console(console: Client) -> None:
    data = {
        "name": "淘宝主账号",
        "network": "taobao",
        "app_key": "k1",
        "secret": "top-secret-1",
        "pid": "mm_1_2_3",
        "endpoint": "http://127.0.0.1:9/router",
        "enabled": "on",
    }
    assert console.post("/console/rebate/rebatesource/add/", data).status_code == 302
    source = RebateSource.objects.get()
    assert decrypt_secret(source.secret_encrypted) == "top-secret-1"
    page = console.get(f"/console/rebate/rebatesource/{source.pk}/change/")
    assert b"top-secret-1" not in page.content and source.secret_encrypted.encode() not in page.content
    console.post(f"/console/rebate/rebatesource/{source.pk}/change/", {**data, "secret": "", "name": "改名"})
    source.refresh_from_db()
    assert (source.name, decrypt_secret(source.secret_encrypted)) == ("改名", "top-secret-1")


def test_unmatched_queue_assigns_by_phone(console: Client) -> None:
    lifecycle.record_reports(None, "taobao", [report(None, estimate=1000)])
    order = NetworkOrder.objects.get()
    buyer = UserFactory()
    form = console.post("/console/rebate/unmatchedorder/", {"action": "assign", "_selected_action": [order.pk]})
    assert form.status_code == 200 and "买家手机号".encode() in form.content and order.order_id.encode() in form.content
    response = console.post(
        "/console/rebate/unmatchedorder/",
        {"action": "assign", "_selected_action": [order.pk], "phone": buyer.phone},
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.review, order.buyer_id, order.buyer_share) == (ReviewState.MATCHED, buyer.pk, 500)


def test_split_form_refuses_more_than_100_percent(console: Client) -> None:
    page = console.post("/console/rebate/rebatesplit/add/", {"network": "pdd", "buyer_bp": 9000, "promoter_bp": 1500})
    assert page.status_code == 200 and "不能超过 100%".encode() in page.content
    assert RebateSplit.objects.count() == 0
    console.post("/console/rebate/rebatesplit/add/", {"network": "pdd", "buyer_bp": 6000, "promoter_bp": 1500})
    assert RebateSplit.objects.get().buyer_bp == 6000


def test_reconciliation_page(console: Client) -> None:
    source = a_source()
    _buyer, link = tracked_buyer()
    first = report(link, estimate=1000)
    lifecycle.record_reports(source, "taobao", [first, report(None, n=2)])
    lifecycle.record_reports(
        source,
        "taobao",
        [
            moved(first, OrderStatus.SETTLED, commission_actual=1200, settled_at=SETTLED_AT),
            moved(report(None, n=2), OrderStatus.SETTLED, commission_actual=1000, settled_at=SETTLED_AT),
        ],
    )
    page = console.get(f"/console/rebate/reconciliation/?source={source.pk}&month=2026-11")
    text = page.content.decode()
    assert page.status_code == 200
    assert "¥22.00" in text and "¥5.00" in text  # network total; what members kept
    assert "未匹配买家，待认领" in text and "结算佣金高于预估" in text
    operator_only = Client()
    operator_only.force_login(UserFactory(is_staff=True))
    assert operator_only.get("/console/rebate/reconciliation/").status_code == 403
    operator = Client()
    operator.force_login(OperatorFactory(is_staff=True))
    assert operator.get("/console/rebate/reconciliation/").status_code == 200
