"""Goods from the networks' search APIs (Taobao ``taobao.tbk.dg.material.optional``, Pinduoduo
``pdd.ddk.goods.search``, JD ``jd.union.open.goods.query``): each enabled source's keywords are
searched for coupon goods, the rows go through the feed importer's field mapping (one mapping for
feed files and API answers), are upserted by network + item id, and dead coupons are expired.
Picture addresses are stored as data and never fetched. Every network call happens outside any
database transaction; each item is written in its own short one."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

import requests
from django.utils import timezone

from . import feeds, goods
from .adapters import NetworkError, http_adapter
from .models import RebateSource

logger = logging.getLogger(__name__)

MAX_KEYWORDS = 20
MAX_PAGES = 5  # per keyword and run: the top of each search is what the feed shows


@dataclass
class RefreshResult:
    source_id: int
    keywords: int = 0
    pages: int = 0
    rows: int = 0
    created: int = 0
    updated: int = 0
    failed: int = 0
    expired: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # rows the mapping refused
    error: str = ""  # why the network stopped the run, if it did


def keywords_of(source: RebateSource) -> list[str]:
    words = [w.strip() for w in re.split(r"[,，、;\n]", source.goods_keywords or "")]
    unique = list(dict.fromkeys(w[:32] for w in words if w))
    return unique[:MAX_KEYWORDS]


def refresh_source_goods(
    source_id: int, *, max_pages: int = MAX_PAGES, session: requests.Session | None = None
) -> RefreshResult:
    """One source's goods refresh; a network error stops it (kept on the source), what was read stays."""
    source = RebateSource.objects.get(pk=source_id)
    result = RefreshResult(source.pk)
    try:
        adapter = http_adapter(source, session)
    except ValueError:  # the secret was written under another credential key
        result.error = "credentials: the source secret cannot be decrypted with the configured key"
        RebateSource.objects.filter(pk=source.pk).update(goods_error=result.error)
        return result
    try:
        for keyword in keywords_of(source):
            result.keywords += 1
            cursor = ""
            for page in range(1, max_pages + 1):
                found = adapter.search_goods(keyword, page, cursor)
                result.pages += 1
                report = feeds.import_goods(source.network, found.rows)
                result.rows += report.total
                result.created += report.created
                result.updated += report.updated
                result.failed += report.failed
                result.errors.extend(report.errors[: max(0, 100 - len(result.errors))])
                if not found.has_more:
                    break
                cursor = found.cursor
    except NetworkError as exc:
        result.error = f"{exc.code}: {exc.message}"[:500]
        logger.warning("rebate goods refresh of source %s stopped: %s", source.pk, exc.code)
    result.expired = goods.expire_dead_coupons()
    now = timezone.now()
    if result.error:
        RebateSource.objects.filter(pk=source.pk).update(goods_error=result.error)
    else:
        RebateSource.objects.filter(pk=source.pk).update(goods_refreshed_at=now, goods_error="")
    return result


def refresh_all_goods() -> list[RefreshResult]:
    ids = RebateSource.objects.filter(enabled=True).exclude(goods_keywords="").values_list("pk", flat=True)
    return [refresh_source_goods(pk) for pk in ids]
