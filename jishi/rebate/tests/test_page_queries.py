"""A page of reports is written in a fixed number of SQL statements, whatever its size."""

from __future__ import annotations

from dataclasses import replace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from jishi.core import ledger
from jishi.rebate import lifecycle
from jishi.rebate.models import CreditState, NetworkOrder, OrderStatus
from jishi.rebate.reports import OrderReport
from jishi.testing.factories import UserFactory

from .conftest import report, tracked_buyer

pytestmark = pytest.mark.django_db


def statements(reports: list[OrderReport]) -> int:
    with CaptureQueriesContext(connection) as queries:
        lifecycle.record_reports(None, "taobao", reports)
    return len(queries)


def life_of_a_page(first_n: int, size: int) -> tuple[int, int, int, int]:
    """Statements to write ``size`` orders paid, half of them settled, the rest refunded, then all again."""
    promoter = UserFactory()
    links = [tracked_buyer(promoter=promoter if i % 2 else None)[1] for i in range(size)]
    paid = [report(link, n=first_n + i, estimate=1000 + i) for i, link in enumerate(links)]
    settled = [replace(r, status=OrderStatus.SETTLED, commission_actual=r.commission_estimate - 7) for r in paid]
    refunded = [replace(r, status=OrderStatus.REFUNDED) for r in paid[size // 2 :]]
    return (
        statements(paid),
        statements(settled[: size // 2]),
        statements(refunded),
        statements(paid + settled + refunded),
    )


def test_a_page_takes_the_same_statements_for_10_or_30_orders() -> None:
    life_of_a_page(0, 2)  # accounts, splits and the platform's accounts exist from here on
    small = life_of_a_page(100, 10)
    large = life_of_a_page(1000, 30)  # (SQLite batches inserts past 999 parameters)
    assert small == large
    paid, settling, reversing, replay = large
    # (savepoints included; measured on SQLite: 23, 39, 23, 5)
    assert paid <= 25 and settling <= 40 and reversing <= 25 and replay <= 6, large
    assert NetworkOrder.objects.filter(credit=CreditState.AVAILABLE).count() == 1 + 5 + 15
    assert ledger.check_ledger() == []
