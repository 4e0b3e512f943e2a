"""The worker logs once, quietly, and prints the demo's URL banner again when it is up."""

from __future__ import annotations

import logging

import pytest
from django.conf import settings

from jishi.demo import tasks


def test_huey_logs_through_one_handler_at_warning_by_default() -> None:
    config = settings.LOGGING["loggers"]["huey"]

    assert config == {"handlers": ["console"], "level": "WARNING", "propagate": False}
    # run_huey adds its own handler only to a "huey" logger that has none: here it has one, and
    # records do not also reach the root handler (the second copy of every line before).
    huey = logging.getLogger("huey")
    assert huey.handlers and huey.propagate is False


def test_banner_is_printed_once_per_worker_process(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(tasks.BANNER_ENV, "集市 Jishi demo is running\n  storefront  http://127.0.0.1:8000/")
    monkeypatch.setattr(tasks, "_printed", type(tasks._printed)())

    tasks.print_demo_banner()
    tasks.print_demo_banner()  # a second worker thread

    out = capsys.readouterr().out
    assert out.count("storefront  http://127.0.0.1:8000/") == 1
    assert out.startswith("\nworker is up\n集市 Jishi demo is running")


def test_no_banner_outside_the_demo(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv(tasks.BANNER_ENV, raising=False)
    monkeypatch.setattr(tasks, "_printed", type(tasks._printed)())

    tasks.print_demo_banner()

    assert capsys.readouterr().out == ""
