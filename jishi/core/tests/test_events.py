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


# --- one aggregate's events in order ----------------------------------------------------------


@pytest.fixture
def ordered() -> Iterator[tuple[list[tuple[str, int]], list[int]]]:
    """A handler of two event names that fails while ``failing`` holds the event's n."""
    seen: list[tuple[str, int]] = []
    failing: list[int] = []

    def handle(event: OutboxEvent) -> None:
        if event.payload["n"] in failing:
            raise ValueError("transient")
        seen.append((event.name, event.payload["n"]))

    for name in ("test.first", "test.second"):
        events.subscribe(name, name="tests.ordered")(handle)
    yield seen, failing
    for name in ("test.first", "test.second"):
        events.unsubscribe(name, "tests.ordered")


def test_the_key_of_an_event_is_its_aggregate() -> None:
    assert events.publish("test.first", {"order_id": 7, "user_id": 3}).key == "order:7"
    assert events.publish("test.first", {"group_id": 9}).key == "group:9"
    assert events.publish("test.first", {"n": 1}).key == ""
    assert events.publish("test.first", {"order_id": 7}, key="batch:2").key == "batch:2"


def test_a_failing_event_holds_back_later_events_of_its_key_only(ordered: Any) -> None:
    seen, failing = ordered
    failing.append(1)
    events.publish("test.first", {"n": 1, "order_id": 42})
    events.publish("test.second", {"n": 2, "order_id": 42})
    events.publish("test.second", {"n": 3, "order_id": 43})

    events.deliver_pending()
    assert seen == [("test.second", 3)]  # order 42's second event waits for its first
    assert OutboxEvent.objects.filter(dispatched_at__isnull=True).count() == 2

    failing.clear()
    events.deliver_pending()
    assert seen == [("test.second", 3), ("test.first", 1), ("test.second", 2)]


def test_a_dead_event_holds_back_its_key_and_check_ledger_reports_it(ordered: Any, settings: Any) -> None:
    settings.JISHI = {**settings.JISHI, "EVENT_MAX_ATTEMPTS": 2}
    seen, failing = ordered
    failing.append(1)
    first = events.publish("test.first", {"n": 1, "order_id": 5})
    events.publish("test.second", {"n": 2, "order_id": 5})
    events.deliver_pending()
    events.deliver_pending()
    first.refresh_from_db()
    assert (first.dead, first.attempts) == (True, 2)
    events.deliver_pending()
    assert seen == []  # the later event still waits behind the dead one
    assert any(f"event test.first#{first.pk} is dead" in p for p in ledger.check_ledger())

    failing.clear()
    OutboxEvent.objects.filter(pk=first.pk).update(dead=False, attempts=0)  # the console's retry
    events.deliver_pending()
    assert seen == [("test.first", 1), ("test.second", 2)]
    assert ledger.check_ledger() == []


def test_failures_are_counted_in_the_database(ordered: Any) -> None:
    _seen, failing = ordered
    failing.append(1)
    event = events.publish("test.first", {"n": 1})
    stale = OutboxEvent.objects.get(pk=event.pk)  # two consumers holding the same read of it
    events.deliver_event(stale)
    events.deliver_event(stale)
    assert OutboxEvent.objects.get(pk=event.pk).attempts == 2
