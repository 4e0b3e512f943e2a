"""Process-local caches of rarely changing rows (shop rules): one place to clear them all."""

from __future__ import annotations

from collections.abc import Callable

_clearers: list[Callable[[], None]] = []


def register(clear: Callable[[], None]) -> Callable[[], None]:
    _clearers.append(clear)
    return clear


def clear_all() -> None:
    for clear in _clearers:
        clear()
