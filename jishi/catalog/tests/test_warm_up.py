"""The segmenter is loaded when a process starts, not on the first Chinese search."""

from __future__ import annotations

from jishi.catalog import search


def test_warm_up_in_background_loads_jieba() -> None:
    search._jieba.cache_clear()

    search.warm_up_in_background().join(timeout=60)

    assert search._jieba.cache_info().currsize == 1
    assert "龙井" in search.words("西湖龙井茶")
