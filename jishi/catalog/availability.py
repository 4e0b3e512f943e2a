"""How much of a SKU can be sold: answered by whichever app owns stock (inventory registers)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

StockProvider = Callable[[list[int]], dict[int, int]]
_provider: StockProvider | None = None


def register_stock_provider(provider: StockProvider) -> None:
    global _provider
    _provider = provider


def sellable(sku_ids: Iterable[int]) -> dict[int, int]:
    ids = list(sku_ids)
    if _provider is None or not ids:
        return dict.fromkeys(ids, 0)
    found = _provider(ids)
    return {sku_id: found.get(sku_id, 0) for sku_id in ids}
