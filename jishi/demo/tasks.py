"""Demo worker hook: once the worker is up, the demo's URL banner is printed again, so it stays
the last thing on screen after the worker's own start-up lines."""

from __future__ import annotations

import os
import sys
import threading

from huey.contrib.djhuey import on_startup

BANNER_ENV = "JISHI_DEMO_BANNER"
_printed = threading.Event()
_lock = threading.Lock()


@on_startup()
def print_demo_banner() -> None:
    banner = os.environ.get(BANNER_ENV)
    if not banner:
        return
    with _lock:  # every worker thread runs the hook: print once per process
        if _printed.is_set():
            return
        _printed.set()
    sys.stdout.write(f"\nworker is up\n{banner}\n")
    sys.stdout.flush()
