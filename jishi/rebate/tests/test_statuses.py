"""Every status code of the three networks maps to the rebate life cycle (table-driven)."""

from __future__ import annotations

import pytest

from jishi.rebate.models import Network, OrderStatus
from jishi.rebate.reports import from_jd, from_taobao
from jishi.rebate.statuses import map_status

S = OrderStatus
JD_INVALID = [(Network.JD, code, S.INVALID) for code in [*range(2, 15), 19, 20, 21, 22, 23, 25, 26, 27, 28]]


@pytest.mark.parametrize(
    "network,code,expected",
    [
        (Network.TAOBAO, 12, S.PAID),
        (Network.TAOBAO, 13, S.INVALID),
        (Network.TAOBAO, 14, S.CONFIRMED),
        (Network.TAOBAO, 3, S.SETTLED),
        (Network.PDD, -1, S.PENDING_PAYMENT),
        (Network.PDD, 0, S.PAID),
        (Network.PDD, 1, S.PAID),
        (Network.PDD, 2, S.CONFIRMED),
        (Network.PDD, 3, S.CONFIRMED),
        (Network.PDD, 4, S.INVALID),
        (Network.PDD, 5, S.SETTLED),
        (Network.PDD, 8, S.INVALID),
        (Network.PDD, 10, S.PENALISED),
        (Network.JD, 15, S.PENDING_PAYMENT),
        (Network.JD, 16, S.PAID),
        (Network.JD, 17, S.CONFIRMED),
        (Network.JD, 24, S.PAID),
        *JD_INVALID,
        (Network.TAOBAO, 99, S.UNKNOWN),
        (Network.PDD, 6, S.UNKNOWN),
        (Network.JD, 1, S.UNKNOWN),
        (Network.JD, 29, S.UNKNOWN),
    ],
)
def test_status_code_maps(network: str, code: int, expected: OrderStatus) -> None:
    assert map_status(network, code) == expected


def test_jd_completed_with_pay_month_is_settled() -> None:
    row = {"orderId": 1, "id": "1", "validCode": 17, "payMonth": 20261120, "actualFee": 1.5, "estimateFee": 2}
    report = from_jd(row)
    assert (report.status, report.commission_actual, report.commission_estimate) == (S.SETTLED, 150, 200)
    assert from_jd({**row, "payMonth": 0}).status == S.CONFIRMED


def test_taobao_refund_tag_means_refunded() -> None:
    row = {"trade_parent_id": "1", "trade_id": "2", "tk_status": 3, "refund_tag": 1, "pub_share_fee": "1.00"}
    assert from_taobao(row).status == S.REFUNDED
    assert from_taobao({**row, "refund_tag": 0}).status == S.SETTLED
