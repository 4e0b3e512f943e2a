"""Catalogue worker hooks: the segmenter is loaded when a worker starts, not on the first search."""

from __future__ import annotations

import threading

from huey.contrib.djhuey import on_startup

from . import search

_started = threading.Lock()


@on_startup()
def load_segmenter() -> None:
    # Every worker thread runs start-up hooks: one warm-up per process is enough.
    if _started.acquire(blocking=False):
        search.warm_up_in_background()
