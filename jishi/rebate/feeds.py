"""Feed files (JSON or CSV, in each network's own field names) of goods or order reports.

Every row is read on its own: a bad row is reported with its number and reason and the rest
go on; order reports are written a page at a time through the same life cycle as the sync.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import DataError

from .goods import upsert_goods
from .lifecycle import record_reports
from .models import Network
from .reports import ReportError, beijing_time, fen, read_report, unix_time, yuan_to_fen

PAGE = 100
MAX_ERRORS_KEPT = 1000


@dataclass
class ImportReport:
    total: int = 0
    created: int = 0
    updated: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (row number, reason)

    @property
    def failed(self) -> int:
        return len(self.errors)

    def error(self, row_no: int, reason: str) -> None:
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append((row_no, reason[:200]))


Progress = Callable[[int, int], None]


def read_rows(text: str, fmt: str) -> list[dict[str, Any]]:
    """Rows of a JSON array (or ``{"rows": [...]}``, or one object per line) or a CSV with a header."""
    if fmt == "csv":
        return [dict(row) for row in csv.DictReader(io.StringIO(text))]
    if fmt != "json":
        raise ReportError(f"unknown format {fmt!r}")
    stripped = text.strip()
    if not stripped:
        return []
    try:
        loaded = json.loads(stripped)
    except ValueError:
        try:
            loaded = [json.loads(line) for line in stripped.splitlines() if line.strip()]
        except ValueError as exc:
            raise ReportError(f"not JSON: {exc}") from None
    if isinstance(loaded, dict):
        loaded = loaded.get("rows") or loaded.get("data") or [loaded]
    if not isinstance(loaded, list):
        raise ReportError("expected a list of rows")
    return [row if isinstance(row, dict) else {"_": row} for row in loaded]


def _get(row: dict[str, Any], path: str) -> Any:
    """A field by name, or by a dotted path into nested objects (CSV feeds flatten them)."""
    if path in row:
        return row[path]
    value: Any = row
    for part in path.split("."):
        if isinstance(value, list):
            value = value[0] if value else None
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _text(row: dict[str, Any], path: str, limit: int) -> str:
    value = _get(row, path)
    return "" if value is None else str(value).strip()[:limit]


def _link(row: dict[str, Any], path: str) -> str:
    """A link as the networks send it (Taobao ``//uland…``, JD ``item.jd.com/…``), made absolute."""
    text = _text(row, path, 500)
    if text.startswith("//"):
        text = f"https:{text}"
    elif text and not text.startswith(("http://", "https://")):
        text = f"https://{text}"
    return text[:500]


def _count(value: Any) -> int:
    """Counts such as ``1234`` or PDD's ``"10万+"``."""
    text = str(value or "0").strip().rstrip("+")
    try:
        if text.endswith("万"):
            return int(float(text[:-1]) * 10_000)
        return max(0, int(float(text)))
    except ValueError:
        return 0


def _urls(value: Any) -> list[str]:
    items: list[Any]
    if isinstance(value, list):
        items = [v.get("url") if isinstance(v, dict) else v for v in value]
    elif isinstance(value, str) and value.strip():
        items = value.replace("|", ",").split(",")
    else:
        items = []
    return [str(u).strip()[:500] for u in items if u and str(u).strip().startswith(("http://", "https://", "//"))][:9]


def _millis(value: Any, name: str) -> datetime | None:
    if value in (None, "", 0, "0"):
        return None
    try:
        return unix_time(int(value) // 1000, name)
    except (TypeError, ValueError):
        raise ReportError(f"{name}: not a time in milliseconds: {value!r}") from None


def _date_or_time(value: Any, name: str, end_of_day: bool = False) -> datetime | None:
    text = str(value or "").strip()
    if len(text) == 10:
        text += " 23:59:59" if end_of_day else " 00:00:00"
    return beijing_time(text, name)


def _rate_bp(value: Any, per: int, name: str) -> int:
    """A rate given per ``per`` (Taobao per 10,000, PDD per 1,000, JD per 100) in basis points."""
    if value in (None, ""):
        return 0
    try:
        bp = round(float(value) * 10_000 / per)
    except ValueError:
        raise ReportError(f"{name}: not a rate: {value!r}") from None
    if not 0 <= bp <= 10_000:
        raise ReportError(f"{name}: out of range: {value!r}")
    return bp


def taobao_goods(row: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A ``taobao.tbk.dg.material.optional`` item (yuan; ``commission_rate`` per 10,000)."""
    item_id = _text(row, "item_id", 64) or _text(row, "num_iid", 64)
    return item_id, {
        "title": _text(row, "title", 200),
        "image_urls": list(dict.fromkeys(_urls(_get(row, "pict_url")) + _urls(_get(row, "small_images.string"))))[:9],
        "category": _text(row, "category_name", 32) or _text(row, "level_one_category_name", 32),
        "shop_name": _text(row, "shop_title", 100),
        "price": yuan_to_fen(_get(row, "zk_final_price"), "zk_final_price"),
        "coupon_amount": yuan_to_fen(_get(row, "coupon_amount"), "coupon_amount"),
        "coupon_threshold": yuan_to_fen(_get(row, "coupon_start_fee"), "coupon_start_fee"),
        "coupon_start": _date_or_time(_get(row, "coupon_start_time"), "coupon_start_time"),
        "coupon_end": _date_or_time(_get(row, "coupon_end_time"), "coupon_end_time", end_of_day=True),
        "coupon_remaining": _count(_get(row, "coupon_remain_count")),
        "commission_rate_bp": _rate_bp(_get(row, "commission_rate"), 10_000, "commission_rate"),
        "sales": _count(_get(row, "volume")),
        "item_url": _link(row, "item_url"),
        "coupon_url": _link(row, "coupon_share_url"),
    }


def pdd_goods(row: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A ``pdd.ddk.goods.search`` item (fen; ``promotion_rate`` per 1,000)."""
    return _text(row, "goods_sign", 64) or _text(row, "goods_id", 64), {
        "title": _text(row, "goods_name", 200),
        "image_urls": _urls(_get(row, "goods_image_url")) or _urls(_get(row, "goods_thumbnail_url")),
        "category": _text(row, "category_name", 32),
        "shop_name": _text(row, "mall_name", 100),
        "price": fen(_get(row, "min_group_price"), "min_group_price"),
        "coupon_amount": fen(_get(row, "coupon_discount"), "coupon_discount"),
        "coupon_threshold": fen(_get(row, "coupon_min_order_amount"), "coupon_min_order_amount"),
        "coupon_start": unix_time(_get(row, "coupon_start_time"), "coupon_start_time"),
        "coupon_end": unix_time(_get(row, "coupon_end_time"), "coupon_end_time"),
        "coupon_remaining": _count(_get(row, "coupon_remain_quantity")),
        "commission_rate_bp": _rate_bp(_get(row, "promotion_rate"), 1_000, "promotion_rate"),
        "sales": _count(_get(row, "sales_tip")),
        "item_url": _link(row, "goods_url"),
        "coupon_url": _link(row, "coupon_url"),
    }


def jd_goods(row: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A ``jd.union.open.goods.query`` item (yuan; ``commissionShare`` in percent; coupon times in ms)."""
    return _text(row, "skuId", 64), {
        "title": _text(row, "skuName", 200),
        "image_urls": _urls(_get(row, "imageInfo.imageList")),
        "category": _text(row, "categoryInfo.cid1Name", 32),
        "shop_name": _text(row, "shopInfo.shopName", 100),
        "price": yuan_to_fen(_get(row, "priceInfo.price"), "priceInfo.price"),
        "coupon_amount": yuan_to_fen(_get(row, "couponInfo.couponList.discount"), "couponInfo.couponList.discount"),
        "coupon_threshold": yuan_to_fen(_get(row, "couponInfo.couponList.quota"), "couponInfo.couponList.quota"),
        "coupon_start": _millis(_get(row, "couponInfo.couponList.useStartTime"), "useStartTime"),
        "coupon_end": _millis(_get(row, "couponInfo.couponList.useEndTime"), "useEndTime"),
        "coupon_remaining": _count(_get(row, "couponInfo.couponList.remainNum") or 1),
        "commission_rate_bp": _rate_bp(_get(row, "commissionInfo.commissionShare"), 100, "commissionShare"),
        "sales": _count(_get(row, "inOrderCount30Days")),
        "item_url": _link(row, "materialUrl"),
        "coupon_url": _link(row, "couponInfo.couponList.link"),
    }


GOODS_READERS: dict[str, Callable[[dict[str, Any]], tuple[str, dict[str, Any]]]] = {
    Network.TAOBAO: taobao_goods,
    Network.PDD: pdd_goods,
    Network.JD: jd_goods,
}


def _checked(item_id: str, fields: dict[str, Any]) -> None:
    if not item_id:
        raise ReportError("item id: required")
    if not fields["title"]:
        raise ReportError("title: required")
    if fields["price"] <= 0:
        raise ReportError("price: must be positive")
    if not 0 <= fields["coupon_amount"] <= fields["price"] * 10:
        raise ReportError("coupon amount: out of range")


def import_goods(network: str, rows: Iterable[dict[str, Any]], progress: Progress | None = None) -> ImportReport:
    report = ImportReport()
    rows = list(rows)
    reader = GOODS_READERS[network]
    for number, row in enumerate(rows, 1):
        report.total += 1
        try:
            item_id, fields = reader(row)
            _checked(item_id, fields)
            _goods, created = upsert_goods(network, item_id, fields)
        except (ReportError, ValidationError, DataError) as exc:
            report.error(number, str(exc))
        else:
            report.created += int(created)
            report.updated += int(not created)
        if progress:
            progress(number, len(rows))
    return report


def _pages(rows: list[dict[str, Any]]) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    for start in range(0, len(rows), PAGE):
        yield start, rows[start : start + PAGE]


def import_orders(network: str, rows: Iterable[dict[str, Any]], progress: Progress | None = None) -> ImportReport:
    report = ImportReport()
    rows = list(rows)
    for start, chunk in _pages(rows):
        reports = []
        for offset, row in enumerate(chunk):
            report.total += 1
            try:
                reports.append(read_report(network, row))
            except ReportError as exc:
                report.error(start + offset + 1, str(exc))
        result = record_reports(None, network, reports)
        report.created += result.created
        report.updated += result.changed
        if progress:
            progress(min(start + PAGE, len(rows)), len(rows))
    return report
