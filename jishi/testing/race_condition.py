"""Deterministic races: run a second action right before or after a named function.

Modelled on Saleor's ``RunBefore``/``RunAfter``. The second action runs on its own thread with
its own database connection, so it is a real concurrent transaction: if it blocks on a row lock
the first one holds, the first one carries on after ``wait`` seconds and the second finishes
once the lock is released. The outcome of the second action is in ``Race.result``/``Race.error``
once the block exits.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from django.db import connection


@dataclass
class Race:
    result: Any = None
    error: BaseException | None = None
    started: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None


def _start(race: Race, action: Callable[[], Any], wait: float) -> None:
    def run() -> None:
        race.started.set()
        try:
            race.result = action()
        except BaseException as exc:  # reported to the test through race.error
            race.error = exc
        finally:
            connection.close()

    race.thread = threading.Thread(target=run, daemon=True)
    race.thread.start()
    race.thread.join(wait)


@contextmanager
def _patched(target: str, action: Callable[[], Any], wait: float, after: bool) -> Iterator[Race]:
    race = Race()
    module_path, _sep, name = target.rpartition(".")
    module = __import__(module_path, fromlist=[name])
    original = getattr(module, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not after and race.thread is None:
            _start(race, action, wait)
        value = original(*args, **kwargs)
        if after and race.thread is None:
            _start(race, action, wait)
        return value

    with mock.patch(target, wrapper):
        yield race
    if race.thread is not None:
        race.thread.join(60)


def run_after(target: str, action: Callable[[], Any], wait: float = 2.0) -> Any:
    """``with run_after("pkg.mod.func", other):`` — ``other`` runs once, right after the first call."""
    return _patched(target, action, wait, after=True)


def run_before(target: str, action: Callable[[], Any], wait: float = 2.0) -> Any:
    """``other`` runs once, right before the first call of ``target``."""
    return _patched(target, action, wait, after=False)
