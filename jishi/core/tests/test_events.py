from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction

from jishi.core import events, ledger
from jishi.core.models import Account, HandlerRun, OutboxEvent
from jishi.core.tests import kill_handler
from jishi.testing.processes import spawn_python

pytestmark = pytest.mark.django_db


@pytest.fixture
def recorder() -> Iterator[list[int]]:
    seen: list[int] = []

    def record(event: OutboxEvent) -> None:
        seen.append(event.payload["n"])

    events.subscribe("test.recorded", name="tests.recorder")(record)
    yield seen
    events.unsubscribe("test.recorded", "tests.recorder")


def test_publish_writes_in_the_callers_transaction() -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        events.publish("test.recorded", {"n": 1})
        raise RuntimeError("rolled back")
    assert OutboxEvent.objects.count() == 0
    events.publish("test.recorded", {"n": 2})
    assert OutboxEvent.objects.filter(name="test.recorded").count() == 1


def test_each_handler_applies_each_event_once(recorder: list[int]) -> None:
    for n in range(3):
        events.publish("test.recorded", {"n": n})
    assert events.deliver_pending() == 3
    # a second delivery of the same events (e.g. after a crash) applies nothing again
    OutboxEvent.objects.update(dispatched_at=None)
    events.deliver_pending()
    assert recorder == [0, 1, 2]
    assert HandlerRun.objects.count() == 3
    assert OutboxEvent.objects.filter(dispatched_at__isnull=True).count() == 0


def test_failing_handler_is_retried_without_repeating_the_others(recorder: list[int]) -> None:
    calls: list[int] = []

    def flaky(event: OutboxEvent) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise ValueError("boom")

    events.subscribe("test.recorded", name="tests.flaky")(flaky)
    try:
        event = events.publish("test.recorded", {"n": 7})
        events.deliver_pending()
        event.refresh_from_db()
        assert event.dispatched_at is None
        assert event.attempts == 1
        assert "boom" in event.last_error
        events.deliver_pending()
        event.refresh_from_db()
        assert event.dispatched_at is not None
        assert recorder == [7]
        assert len(calls) == 2
    finally:
        events.unsubscribe("test.recorded", "tests.flaky")


def test_commit_kicks_delivery(recorder: list[int], django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        events.publish("test.recorded", {"n": 42})
    assert recorder == [42]


@pytest.mark.django_db(transaction=True)
def test_consumer_killed_mid_batch_loses_nothing_and_applies_nothing_twice() -> None:
    total = 60
    OutboxEvent.objects.bulk_create(OutboxEvent(name=kill_handler.EVENT, payload={"sleep": 0.02}) for _ in range(total))
    child = spawn_python(
        "import django; django.setup(); "
        "import jishi.core.tests.kill_handler; "
        "from jishi.core.events import deliver_pending; deliver_pending()"
    )
    deadline = time.monotonic() + 60
    while HandlerRun.objects.count() < 10 and time.monotonic() < deadline:
        assert child.poll() is None, child.stderr.read() if child.stderr else ""
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    done_before_restart = HandlerRun.objects.count()
    assert 10 <= done_before_restart < total, "the consumer must die mid-batch"

    events.deliver_pending()

    assert HandlerRun.objects.count() == total
    assert OutboxEvent.objects.filter(dispatched_at__isnull=True).count() == 0
    counter = Account.objects.get(key="platform:platform_budget:kill-test")
    assert ledger.balance(counter) == total  # every event applied exactly once
    assert ledger.check_ledger() == []
