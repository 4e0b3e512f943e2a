"""A network's order report in one shape: what every adapter and the feed importer produce."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from .models import Network, OrderStatus
from .statuses import map_status

BEIJING = ZoneInfo("Asia/Shanghai")  # the networks speak Beijing time


class ReportError(ValueError):
    """A report row that cannot be read (a missing id, a malformed amount or time)."""


@dataclass(frozen=True)
class OrderReport:
    network: str
    order_id: str
    sub_order_id: str
    raw_status: str
    status: OrderStatus
    item_id: str = ""
    item_title: str = ""
    paid_amount: int = 0
    commission_estimate: int = 0
    commission_actual: int | None = None
    service_fee: int = 0
    tracking_id: str = ""
    ordered_at: datetime | None = None
    updated_at: datetime | None = None
    settled_at: datetime | None = None


def yuan_to_fen(value: Any, field: str) -> int:
    if value is None or value == "":
        return 0
    try:
        return int((Decimal(str(value)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    except (InvalidOperation, ValueError):
        raise ReportError(f"{field}: not an amount: {value!r}") from None


def fen(value: Any, field: str) -> int:
    if value is None or value == "":
        return 0
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ReportError(f"{field}: not an amount in fen: {value!r}") from None


def beijing_time(value: Any, field: str) -> datetime | None:
    if value is None or value == "" or value == 0:
        return None
    try:
        return datetime.strptime(str(value)[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING)
    except ValueError:
        raise ReportError(f"{field}: not a time: {value!r}") from None


def unix_time(value: Any, field: str) -> datetime | None:
    if value is None or value == "" or value == 0:
        return None
    try:
        return datetime.fromtimestamp(int(value), tz=BEIJING)
    except (TypeError, ValueError, OverflowError, OSError):
        raise ReportError(f"{field}: not a unix time: {value!r}") from None


def format_beijing(moment: datetime) -> str:
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def _required(row: dict[str, Any], field: str) -> str:
    value = row.get(field)
    if value is None or str(value).strip() == "":
        raise ReportError(f"{field}: required")
    text = str(value).strip()
    if len(text) > 64:
        raise ReportError(f"{field}: longer than 64 characters")
    return text


def from_taobao(row: dict[str, Any]) -> OrderReport:
    """A ``publisher_order_dto`` of ``taobao.tbk.order.details.get`` (amounts in yuan)."""
    raw = _required(row, "tk_status")
    status = map_status(Network.TAOBAO, raw)
    if str(row.get("refund_tag") or "0") == "1":
        status = OrderStatus.REFUNDED  # 维权/退款: the commission will not be paid
    actual = row.get("pub_share_fee")
    return OrderReport(
        network=Network.TAOBAO,
        order_id=_required(row, "trade_parent_id"),
        sub_order_id=_required(row, "trade_id"),
        raw_status=raw,
        status=status,
        item_id=str(row.get("item_id") or ""),
        item_title=str(row.get("item_title") or "")[:200],
        paid_amount=yuan_to_fen(row.get("alipay_total_price"), "alipay_total_price"),
        commission_estimate=yuan_to_fen(row.get("pub_share_pre_fee"), "pub_share_pre_fee"),
        commission_actual=yuan_to_fen(actual, "pub_share_fee") if status == OrderStatus.SETTLED else None,
        service_fee=yuan_to_fen(row.get("alimama_share_fee"), "alimama_share_fee"),
        tracking_id=str(row.get("relation_id") or row.get("special_id") or ""),
        ordered_at=beijing_time(row.get("tk_create_time"), "tk_create_time"),
        updated_at=beijing_time(row.get("modified_time"), "modified_time"),
        settled_at=beijing_time(row.get("tk_earning_time"), "tk_earning_time"),
    )


def pdd_uid(custom_parameters: Any) -> str:
    """The ``uid`` inside ``custom_parameters`` (a JSON object as text); a bare value as it is."""
    text = str(custom_parameters or "").strip()
    if not text:
        return ""
    try:
        parsed = json.loads(text)
    except ValueError:
        return text[:64]
    if isinstance(parsed, dict):
        return str(parsed.get("uid") or "")[:64]
    return text[:64]


def from_pdd(row: dict[str, Any]) -> OrderReport:
    """An ``order_list`` row of ``pdd.ddk.order.list.increment.get`` (amounts in fen)."""
    raw = _required(row, "order_status")
    status = map_status(Network.PDD, raw)
    order_sn = _required(row, "order_sn")
    promotion = fen(row.get("promotion_amount"), "promotion_amount")
    return OrderReport(
        network=Network.PDD,
        order_id=order_sn,
        sub_order_id=order_sn,  # one goods per PDD order
        raw_status=raw,
        status=status,
        item_id=str(row.get("goods_id") or ""),
        item_title=str(row.get("goods_name") or "")[:200],
        paid_amount=fen(row.get("order_amount"), "order_amount"),
        commission_estimate=promotion,
        commission_actual=promotion if status == OrderStatus.SETTLED else None,
        tracking_id=pdd_uid(row.get("custom_parameters")),
        ordered_at=unix_time(row.get("order_create_time"), "order_create_time"),
        updated_at=unix_time(row.get("order_modify_at"), "order_modify_at"),
        settled_at=unix_time(row.get("order_settle_time"), "order_settle_time"),
    )


def from_jd(row: dict[str, Any]) -> OrderReport:
    """A ``data`` row of ``jd.union.open.order.row.query`` (amounts in yuan; settled once ``payMonth`` is set)."""
    raw = _required(row, "validCode")
    status = map_status(Network.JD, raw)
    pay_month = str(row.get("payMonth") or "0")
    if status == OrderStatus.CONFIRMED and pay_month not in {"", "0"}:
        status = OrderStatus.SETTLED
    settled_at = None
    if status == OrderStatus.SETTLED:
        settled_at = beijing_time(row.get("finishTime"), "finishTime")
    return OrderReport(
        network=Network.JD,
        order_id=_required(row, "orderId"),
        sub_order_id=_required(row, "id"),
        raw_status=raw,
        status=status,
        item_id=str(row.get("skuId") or ""),
        item_title=str(row.get("skuName") or "")[:200],
        paid_amount=yuan_to_fen(row.get("estimateCosPrice"), "estimateCosPrice"),
        commission_estimate=yuan_to_fen(row.get("estimateFee"), "estimateFee"),
        commission_actual=yuan_to_fen(row.get("actualFee"), "actualFee") if status == OrderStatus.SETTLED else None,
        tracking_id=str(row.get("subUnionId") or row.get("positionId") or "")[:64],
        ordered_at=beijing_time(row.get("orderTime"), "orderTime"),
        updated_at=beijing_time(row.get("modifyTime"), "modifyTime"),
        settled_at=settled_at,
    )


READERS: dict[str, Callable[[dict[str, Any]], OrderReport]] = {
    Network.TAOBAO: from_taobao,
    Network.PDD: from_pdd,
    Network.JD: from_jd,
}


def read_report(network: str, row: dict[str, Any]) -> OrderReport:
    return READERS[network](row)
