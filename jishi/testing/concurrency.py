"""Real threads for race tests: each with its own database connection, released together."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection

# PostgreSQL allows 100 connections shared with the rest of the machine: at most this many at once.
MAX_THREADS = 32


def race(n: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(0..n-1)`` on up to MAX_THREADS threads released together by a barrier.

    Returns each call's result, or the exception it raised, in call order."""
    results: list[Any] = [None] * n
    threads_n = min(n, MAX_THREADS)
    barrier = threading.Barrier(threads_n)

    def run(first: int) -> None:
        try:
            barrier.wait()
            for i in range(first, n, threads_n):
                try:
                    results[i] = work(i)
                except Exception as exc:  # returned to the test, which asserts on it
                    results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def errors(results: list[Any]) -> list[Exception]:
    return [r for r in results if isinstance(r, Exception)]
