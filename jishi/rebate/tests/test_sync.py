"""Order sync against the local fakes: windows, paging, catch-up, idempotent replay, errors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import requests
from django.db import connection
from django.utils import timezone

from jishi.core import ledger
from jishi.core.models import Transaction
from jishi.rebate import sync
from jishi.rebate.adapters import Page, PddAdapter, TaobaoAdapter, _read, adapter_for
from jishi.rebate.fakes import FakeNetwork, generate
from jishi.rebate.models import NetworkOrder, RebateSource, ReviewState
from jishi.rebate.reports import from_pdd
from jishi.rebate.tasks import sync_rebate_sources

from .conftest import source_for, tracked_buyer

pytestmark = pytest.mark.django_db


class NoTransactionSession(requests.Session):
    """Fails the test if a request goes out while a transaction (beyond the test's own) is open."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = len(connection.atomic_blocks)
        self.sent = 0

    def request(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        assert len(connection.atomic_blocks) == self.depth, "network call inside a transaction"
        self.sent += 1
        return super().request(*args, **kwargs)


def trackers(network: str, n: int = 3) -> list[str]:
    return [tracked_buyer(network)[1].tracking_id for _ in range(n)]


def hours_ago(h: float) -> datetime:
    return timezone.now() - timedelta(hours=h)


def run(source: RebateSource, **kwargs: Any) -> Any:
    session = NoTransactionSession()
    result = sync.sync_source(source.pk, session=session, **kwargs)
    assert session.sent > 0
    return result


def test_taobao_pages_by_position_index_in_3_hour_windows(fake_taobao: FakeNetwork) -> None:
    generate(fake_taobao, 250, trackers("taobao"), hours_ago(5), hours_ago(4))
    source = source_for(fake_taobao, synced_until=None)
    RebateSource.objects.filter(pk=source.pk).update(synced_until=hours_ago(6))
    result = run(source)
    assert (result.error, result.rows, NetworkOrder.objects.count()) == ("", 250, 250)
    assert result.windows == 3  # 6 h + 10 min overlap − 3 min lag, in pieces of 3 h
    assert fake_taobao.refused == []
    assert NetworkOrder.objects.filter(review=ReviewState.MATCHED).count() == 250
    assert ledger.check_ledger() == []


class PageNumberOnlyTaobao(TaobaoAdapter):
    """Breaks the paging rule: page numbers without position_index / jump_type."""

    def call(self, method: str, business: dict[str, Any]) -> dict[str, Any]:
        return super().call(method, {**business, "position_index": None, "jump_type": None})


def test_taobao_page_numbers_without_position_index_lose_orders(fake_taobao: FakeNetwork) -> None:
    generate(fake_taobao, 250, trackers("taobao"), hours_ago(2.5), hours_ago(2))
    source = source_for(fake_taobao)
    RebateSource.objects.filter(pk=source.pk).update(synced_until=hours_ago(2.6))
    source.refresh_from_db()
    result = sync.sync_source(source.pk, adapter=PageNumberOnlyTaobao(source))
    assert NetworkOrder.objects.count() == 100  # page 1, a hundred times
    assert "too_many_pages" in result.error


def test_taobao_promotion_windows_are_20_minutes(fake_taobao: FakeNetwork) -> None:
    fake_taobao.promotion_mode = True  # type: ignore[attr-defined]
    generate(fake_taobao, 120, trackers("taobao"), hours_ago(2), hours_ago(1))
    source = source_for(fake_taobao, promotion_mode=True)
    RebateSource.objects.filter(pk=source.pk).update(synced_until=hours_ago(2.1))
    result = run(source)
    assert (result.error, NetworkOrder.objects.count(), fake_taobao.refused) == ("", 120, [])
    assert result.windows == 7  # 2 h 6 min (+10 min overlap − 3 min lag) in 20-minute windows


def test_taobao_unflagged_promotion_falls_back_to_20_minute_pieces(fake_taobao: FakeNetwork) -> None:
    fake_taobao.promotion_mode = True  # type: ignore[attr-defined]
    generate(fake_taobao, 120, trackers("taobao"), hours_ago(2), hours_ago(1))
    source = source_for(fake_taobao)
    RebateSource.objects.filter(pk=source.pk).update(synced_until=hours_ago(2.1))
    result = run(source)
    assert (result.error, NetworkOrder.objects.count()) == ("", 120)
    assert fake_taobao.refused == ["window"]  # the one 3-hour window, then pieces


class PromotionIgnoringTaobao(TaobaoAdapter):
    def fetch(self, start: datetime, end: datetime) -> Iterator[Page]:
        return self._window(start, end)


def test_taobao_3_hour_window_during_promotion_gets_nothing(fake_taobao: FakeNetwork) -> None:
    fake_taobao.promotion_mode = True  # type: ignore[attr-defined]
    generate(fake_taobao, 120, trackers("taobao"), hours_ago(2), hours_ago(1))
    source = source_for(fake_taobao)
    RebateSource.objects.filter(pk=source.pk).update(synced_until=hours_ago(2.1))
    source.refresh_from_db()
    result = sync.sync_source(source.pk, adapter=PromotionIgnoringTaobao(source))
    assert NetworkOrder.objects.count() == 0
    assert "isv.time-window-too-long" in result.error
    source.refresh_from_db()
    assert source.synced_until is not None and source.synced_until < hours_ago(2)  # not moved past the gap


class FrontToBackPdd(PddAdapter):
    """Breaks the paging rule: pages from the first to the last."""

    def fetch(self, start: datetime, end: datetime) -> Iterator[Page]:
        page = 1
        while True:
            rows, total = self._page(start, end, page, count=True)
            yield _read(from_pdd, rows)
            if page * self.PAGE_SIZE >= total:
                return
            page += 1


def test_pdd_reverse_paging_keeps_every_order_updated_while_paging(fake_pdd: FakeNetwork) -> None:
    generate(fake_pdd, 350, trackers("pdd"), hours_ago(5), hours_ago(4))
    fake_pdd.churn = 3  # type: ignore[attr-defined]
    source = source_for(fake_pdd)
    RebateSource.objects.filter(pk=source.pk).update(synced_until=hours_ago(6))
    first = run(source)
    second = run(source, now=timezone.now() + timedelta(minutes=5))  # the moved orders' time has come
    assert (first.error, second.error, fake_pdd.refused) == ("", "", [])
    assert NetworkOrder.objects.count() == 350


def test_pdd_front_to_back_paging_loses_orders(fake_pdd: FakeNetwork) -> None:
    generate(fake_pdd, 350, trackers("pdd"), hours_ago(5), hours_ago(4))
    fake_pdd.churn = 3  # type: ignore[attr-defined]
    source = source_for(fake_pdd)
    RebateSource.objects.filter(pk=source.pk).update(synced_until=hours_ago(6))
    source.refresh_from_db()
    sync.sync_source(source.pk, adapter=FrontToBackPdd(source))
    sync.sync_source(source.pk, adapter=FrontToBackPdd(source), now=timezone.now() + timedelta(minutes=5))
    assert NetworkOrder.objects.count() == 347  # one order slid past each page boundary per move


def test_pdd_catches_up_in_24_hour_windows_within_90_days(fake_pdd: FakeNetwork, settings: Any) -> None:
    settings.JISHI = {**settings.JISHI, "REBATE_SYNC_BACKFILL_DAYS": 120}
    generate(fake_pdd, 60, trackers("pdd"), hours_ago(24 * 80), hours_ago(1))
    source = source_for(fake_pdd)
    result = run(source)
    assert (result.error, fake_pdd.refused, NetworkOrder.objects.count()) == ("", [], 60)
    assert result.windows == 89  # capped at the last 89 days, one day per window


def test_jd_hour_windows_and_pages_of_200(fake_jd: FakeNetwork) -> None:
    generate(fake_jd, 450, trackers("jd"), hours_ago(2.9), hours_ago(2.5))
    source = source_for(fake_jd)
    RebateSource.objects.filter(pk=source.pk).update(synced_until=hours_ago(3))
    result = run(source)
    assert (result.error, fake_jd.refused, NetworkOrder.objects.count()) == ("", [], 450)
    assert (result.windows, result.pages) == (4, 6)  # 3 h + overlap − lag; 450 rows → 3 pages, 3 empty windows


def test_catch_up_after_downtime_from_the_watermark(fake_jd: FakeNetwork) -> None:
    tracked = trackers("jd")
    source = source_for(fake_jd)
    RebateSource.objects.filter(pk=source.pk).update(synced_until=hours_ago(1))
    assert run(source).error == ""
    down_from = timezone.now()
    later = down_from + timedelta(hours=5)
    fake_jd.clock = lambda: later  # type: ignore[method-assign]
    generate(fake_jd, 100, tracked, down_from, down_from + timedelta(hours=4))
    result = sync.sync_source(source.pk, now=later + timedelta(minutes=3))
    # the fake checks request timestamps against the real clock; the data lie in the "future"
    assert (result.error, NetworkOrder.objects.count()) == ("", 100)
    source.refresh_from_db()
    assert source.synced_until == later


def test_replaying_a_range_changes_nothing(fake_taobao: FakeNetwork) -> None:
    generate(fake_taobao, 150, trackers("taobao"), hours_ago(2), hours_ago(1))
    source = source_for(fake_taobao)
    RebateSource.objects.filter(pk=source.pk).update(synced_until=hours_ago(2.5))
    run(source)
    before = (
        Transaction.objects.count(),
        list(NetworkOrder.objects.order_by("pk").values_list("updated_at", flat=True)),
    )
    RebateSource.objects.filter(pk=source.pk).update(synced_until=hours_ago(2.5))
    replay = run(source)
    assert replay.rows == 150
    after = (
        Transaction.objects.count(),
        list(NetworkOrder.objects.order_by("pk").values_list("updated_at", flat=True)),
    )
    assert after == before


def test_wrong_secret_is_an_error_that_does_not_show_the_secret(fake_pdd: FakeNetwork) -> None:
    source = source_for(fake_pdd, secret="wrong-secret-value")
    result = run(source)
    source.refresh_from_db()
    assert result.error == "10019: 签名错误"
    assert (source.last_error, source.synced_until) == ("10019: 签名错误", None)
    assert "wrong-secret-value" not in repr(adapter_for(source))
    assert fake_pdd.refused == ["sign"]


def test_unreachable_network_is_recorded(fake_jd: FakeNetwork) -> None:
    source = source_for(fake_jd)
    fake_jd.stop()
    result = sync.sync_source(source.pk)
    assert result.error == "unreachable: ConnectionError"


def test_periodic_job_syncs_every_enabled_source(fake_jd: FakeNetwork, fake_pdd: FakeNetwork) -> None:
    generate(fake_jd, 5, trackers("jd"), hours_ago(0.5), hours_ago(0.2))
    source_for(fake_jd)
    source_for(fake_pdd, enabled=False)
    assert sync_rebate_sources.call_local() == 1
    assert NetworkOrder.objects.count() == 5
